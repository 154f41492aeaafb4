/**
 * Policy files (YAML or JSON) as `stinger policy apply` reads them: every document validated (each problem `file:line: field:
 * message`), and for each valid policy the document as written, which is what goes to an API server (the validated
 * TracingPolicy is the compiler's normalised form, not a custom resource).
 */
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { formatIssue, isJsonText, parsePolicies, policyKey, type PolicySource, type TracingPolicy } from '@stinger/policy';
import { CliError } from '../errors.ts';

export interface PolicyDocument {
  readonly policy: TracingPolicy;
  /** The document as written (apiVersion, kind, metadata, spec). */
  readonly written: Record<string, unknown>;
  /** The file it came from. */
  readonly source: string;
  /** spec.rego compiled to WebAssembly (policy-rego.ts), for the record the CLI publishes. */
  readonly regoWasm?: Buffer;
}

export interface PolicyDocuments {
  readonly documents: PolicyDocument[];
  /** Every problem, formatted; nothing may be applied when there is one. */
  readonly problems: string[];
  /** Normalisations applied to valid values, formatted. */
  readonly warnings: string[];
}

export function readPolicySources(files: readonly string[]): PolicySource[] {
  return files.map((file) => {
    try {
      return { source: file, text: readFileSync(file, 'utf8') };
    } catch (error) {
      throw new CliError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  });
}

/** The documents of one source as plain objects, by policy key (`name`, or `namespace/name`). */
function writtenByKey(text: string): Map<string, Record<string, unknown>> {
  const byKey = new Map<string, Record<string, unknown>>();
  // JSON is YAML's flow style; a JSON array of policies is one document whose elements are the policies.
  const values = parseAllDocuments(text).flatMap((doc) => ('toJS' in doc ? [doc.toJS({ maxAliasCount: 100 }) as unknown] : []));
  for (const value of values.flatMap((v) => (isJsonText(text) && Array.isArray(v) ? (v as unknown[]) : [v])) as ({ metadata?: { name?: unknown; namespace?: unknown } } | null)[]) {
    const name = value?.metadata?.name;
    if (typeof name !== 'string') continue;
    const namespace = value?.metadata?.namespace;
    byKey.set(typeof namespace === 'string' ? `${namespace}/${name}` : name, value as Record<string, unknown>);
  }
  return byKey;
}

export function parsePolicyDocuments(sources: readonly PolicySource[]): PolicyDocuments {
  const result: PolicyDocuments = { documents: [], problems: [], warnings: [] };
  for (const { source, text } of sources) {
    const parsed = parsePolicies(text, { source });
    result.problems.push(...parsed.errors.map(formatIssue));
    result.warnings.push(...parsed.warnings.map(formatIssue));
    if (parsed.policies.length === 0) continue;
    const written = writtenByKey(text);
    for (const policy of parsed.policies) result.documents.push({ policy, written: written.get(policyKey(policy)) ?? {}, source });
  }
  return result;
}

/** The apply line's mention of rules enforced by file identity (none: nothing, so the usual line stays as it was). */
export function identityCount(rules: number): string {
  return rules === 0 ? '' : `, ${rules} file identity rules`;
}
