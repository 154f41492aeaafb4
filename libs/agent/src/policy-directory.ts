/**
 * The agent's local policy directory (config.agent.policyDir): TracingPolicy YAML or JSON files (*.yaml,
 * *.yml, *.json) read at start and re-read when they change, for nodes that must enforce before Kafka is
 * reachable, or without a cluster at all.
 *
 * Contract: `scan()` compares each file's mtime and size with the last scan; a changed file is parsed
 * whole — if any document in it is invalid, the file's previous policies stay in force and the
 * problems are passed to `onInvalid` (nothing accepted is lost to a typo); a valid file's policies
 * are applied and those it no longer defines are removed; a deleted file's policies are removed.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parsePolicies, policyKey, type PolicyIssue, type TracingPolicy } from '@stinger/policy';

export interface PolicyDirectoryOptions {
  readonly dir: string;
  readonly apply: (policy: TracingPolicy) => void;
  readonly remove: (key: string) => void;
  readonly onInvalid: (file: string, issues: readonly PolicyIssue[]) => void;
}

interface FileState {
  readonly stamp: string;
  readonly keys: readonly string[];
}

export class PolicyDirectory {
  readonly #options: PolicyDirectoryOptions;
  readonly #files = new Map<string, FileState>();

  constructor(options: PolicyDirectoryOptions) {
    this.#options = options;
  }

  /** Applies what changed since the last scan; returns the number of files (re)read. */
  scan(): number {
    const { dir, apply, remove, onInvalid } = this.#options;
    let names: string[];
    try {
      names = readdirSync(dir).filter((name) => /\.(ya?ml|json)$/.test(name)).sort();
    } catch {
      names = []; // no directory: no local policies
    }
    let read = 0;
    const seen = new Set<string>();
    for (const name of names) {
      const file = join(dir, name);
      seen.add(file);
      let stamp: string;
      let text: string;
      try {
        const stat = statSync(file);
        stamp = `${stat.mtimeMs}:${stat.size}`;
        if (this.#files.get(file)?.stamp === stamp) continue;
        text = readFileSync(file, 'utf8');
      } catch {
        continue; // removed while scanning: the next scan sees it gone
      }
      read += 1;
      const parsed = parsePolicies(text, { source: file });
      const previous = this.#files.get(file)?.keys ?? [];
      if (parsed.errors.length > 0) {
        onInvalid(file, parsed.errors);
        this.#files.set(file, { stamp, keys: previous });
        continue;
      }
      const keys = parsed.policies.map(policyKey);
      for (const policy of parsed.policies) apply(policy);
      for (const key of previous) if (!keys.includes(key)) remove(key);
      this.#files.set(file, { stamp, keys });
    }
    for (const [file, state] of this.#files) {
      if (seen.has(file)) continue;
      for (const key of state.keys) remove(key);
      this.#files.delete(file);
    }
    return read;
  }
}
