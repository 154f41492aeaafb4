/**
 * The policies currently in force, by policyKey, and what changes in the kernel maps when one is applied or
 * deleted. The agent applies `kernel.add` before `kernel.remove`, so an unchanged rule never lapses and a changed
 * one is never absent; kernel entries carry their rule id, so map entries of different rules on the same path or
 * destination must be kept apart (or reference-counted) by the agent.
 *
 * Pure: no I/O; the clock is injected.
 */
import type { CompiledPolicy } from '@stinger/events';
import type { PolicyIssue } from './errors.ts';
import { compilePolicy, kernelRuleKey, type KernelRule, type PipelineRule } from './compile-policy.ts';
import type { IdentityRule } from './identity-rules.ts';
import { policyKey, type TracingPolicy } from './policy-types.ts';
import { RuleIdRegistry, type RuleIdCollision } from './rule-ids.ts';
import { tracingPolicyFromCompiled } from './tracing-policy-from-compiled.ts';

export interface PolicySetOptions {
  /** Rule id registry for the set. Default: a new one. */
  readonly ruleIds?: RuleIdRegistry;
  /** Nanoseconds since the Unix epoch, for CompiledPolicy.compiled_at_ns. Default: Date.now(). */
  readonly clock?: () => bigint;
}

export interface KernelRuleDiff {
  readonly add: readonly KernelRule[];
  readonly remove: readonly KernelRule[];
}

export interface PolicyEntry {
  readonly policy: TracingPolicy;
  readonly compiled: CompiledPolicy;
  readonly kernelRules: readonly KernelRule[];
  readonly pipelineRules: readonly PipelineRule[];
  /** Audit entries that make the sensors report what the pipeline rules need (CompiledPolicyResult.watchRules). */
  readonly watchRules: readonly KernelRule[];
  /** Pod-scoped kernel entries of rules that are pipeline rules too (CompiledPolicyResult.podScopedRules). */
  readonly podScopedRules: readonly KernelRule[];
  /** Rules the agent enforces by file identity (CompiledPolicyResult.identityRules). */
  readonly identityRules: readonly IdentityRule[];
  readonly reports: readonly PolicyIssue[];
}

/**
 * Every map entry of an entry: its kernel rules, its watches and its pod-scoped entries (an agent that does not know
 * its node's pods leaves those, which carry `pods`, out of its maps).
 */
function mapEntriesOf(entry: PolicyEntry | undefined): KernelRule[] {
  return entry === undefined ? [] : [...entry.kernelRules, ...entry.watchRules, ...entry.podScopedRules];
}

export type PolicyChangeKind = 'added' | 'replaced' | 'unchanged' | 'deleted';

export interface PolicyChange {
  readonly key: string;
  readonly change: PolicyChangeKind;
  /** The record to publish on stinger.policies; null for a delete (publish a tombstone). */
  readonly compiled: CompiledPolicy | null;
  /** Map entries to add and remove: kernel rules and watches alike. */
  readonly kernel: KernelRuleDiff;
  /** The policy's pipeline rules after the change (empty after a delete). */
  readonly pipelineRules: readonly PipelineRule[];
  /**
   * The policy's identity rules after the change (empty after a delete): the agent marks their targets and drops
   * the marks of rules no longer here (by ruleId; a replaced rule keeps its id). `identityRuleMessage` words each
   * for the status messages.
   */
  readonly identityRules: readonly IdentityRule[];
  /** Rules that asked for in-kernel enforcement and get the pipeline's kill instead. */
  readonly reports: readonly PolicyIssue[];
  /** Rule id collisions this change met. */
  readonly collisions: readonly RuleIdCollision[];
}

/** Entries of `after` not in `before` (add) and of `before` not in `after` (remove), by kernelRuleKey. */
export function diffKernelRules(before: readonly KernelRule[], after: readonly KernelRule[]): KernelRuleDiff {
  const beforeKeys = new Set(before.map(kernelRuleKey));
  const afterKeys = new Set(after.map(kernelRuleKey));
  return {
    add: after.filter((rule) => !beforeKeys.has(kernelRuleKey(rule))),
    remove: before.filter((rule) => !afterKeys.has(kernelRuleKey(rule))),
  };
}

export class PolicySet {
  readonly #entries = new Map<string, PolicyEntry>();
  readonly #ruleIds: RuleIdRegistry;
  readonly #clock: () => bigint;

  constructor(options: PolicySetOptions = {}) {
    this.#ruleIds = options.ruleIds ?? new RuleIdRegistry();
    this.#clock = options.clock ?? ((): bigint => BigInt(Date.now()) * 1_000_000n);
  }

  /**
   * Adds the policy, or replaces the one with the same key. The generation is the previous one + 1 (1 for a new
   * policy), or metadata.generation when that is higher. Re-applying an identical policy changes nothing and
   * keeps the generation (a controller resync is not a change).
   */
  apply(policy: TracingPolicy): PolicyChange {
    const key = policyKey(policy);
    const previous = this.#entries.get(key);
    if (previous !== undefined && JSON.stringify(previous.policy) === JSON.stringify(policy)) return this.#unchanged(previous);
    const next = previous === undefined ? 1n : previous.compiled.generation + 1n;
    const declared = policy.metadata.generation === null ? 0n : BigInt(policy.metadata.generation);
    const generation = declared > next ? declared : next;
    return this.#install(policy, { generation, compiledAtNs: this.#clock() });
  }

  /**
   * Applies a record read from stinger.policies (key: policyKey; a tombstone is `delete(key)`). The entry keeps
   * the record's generation and compiled_at_ns, so for a record compilePolicy emitted `change.compiled` equals
   * the record. A record older than the one held (lower generation) is ignored, as the schema asks of consumers:
   * the change is 'unchanged' and carries the held record. An identical record (a re-read of the topic) is
   * 'unchanged' too.
   * @throws PolicyValidationError when the record is not something a TracingPolicy can express (the set is unchanged).
   */
  applyCompiled(compiled: CompiledPolicy): PolicyChange {
    const policy = tracingPolicyFromCompiled(compiled);
    const previous = this.#entries.get(policyKey(policy));
    if (previous !== undefined && (compiled.generation < previous.compiled.generation || JSON.stringify(previous.policy) === JSON.stringify(policy))) {
      return this.#unchanged(previous);
    }
    return this.#install(policy, { generation: compiled.generation, compiledAtNs: compiled.compiled_at_ns });
  }

  #unchanged(previous: PolicyEntry): PolicyChange {
    const key = policyKey(previous.policy);
    return {
      key,
      change: 'unchanged',
      compiled: previous.compiled,
      kernel: { add: [], remove: [] },
      pipelineRules: previous.pipelineRules,
      identityRules: previous.identityRules,
      reports: previous.reports,
      collisions: [],
    };
  }

  /** Compiles `policy` into the set at this generation, replacing the entry of its key, and diffs the kernel rules. */
  #install(policy: TracingPolicy, stamp: { generation: bigint; compiledAtNs: bigint }): PolicyChange {
    const key = policyKey(policy);
    const previous = this.#entries.get(key);
    // Freed first, so rules that stay keep their ids.
    this.#ruleIds.release(key);
    const result = compilePolicy(policy, { ...stamp, ruleIds: this.#ruleIds });
    const entry: PolicyEntry = {
      policy,
      compiled: result.compiled,
      kernelRules: result.kernelRules,
      pipelineRules: result.pipelineRules,
      watchRules: result.watchRules,
      podScopedRules: result.podScopedRules,
      identityRules: result.identityRules,
      reports: result.reports,
    };
    this.#entries.set(key, entry);
    return {
      key,
      change: previous === undefined ? 'added' : 'replaced',
      compiled: result.compiled,
      kernel: diffKernelRules(mapEntriesOf(previous), mapEntriesOf(entry)),
      pipelineRules: result.pipelineRules,
      identityRules: result.identityRules,
      reports: result.reports,
      collisions: result.collisions,
    };
  }

  /** Removes the policy with this key; null when there is none. */
  delete(key: string): PolicyChange | null {
    const previous = this.#entries.get(key);
    if (previous === undefined) return null;
    this.#entries.delete(key);
    this.#ruleIds.release(key);
    return { key, change: 'deleted', compiled: null, kernel: { add: [], remove: mapEntriesOf(previous) }, pipelineRules: [], identityRules: [], reports: [], collisions: [] };
  }

  get(key: string): PolicyEntry | undefined {
    return this.#entries.get(key);
  }

  has(key: string): boolean {
    return this.#entries.has(key);
  }

  keys(): string[] {
    return [...this.#entries.keys()].sort();
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Every kernel entry of every policy: what the maps hold after all changes were applied. */
  kernelRules(): KernelRule[] {
    return this.keys().flatMap((key) => this.#entries.get(key)?.kernelRules ?? []);
  }

  pipelineRules(): PipelineRule[] {
    return this.keys().flatMap((key) => this.#entries.get(key)?.pipelineRules ?? []);
  }

  /** Every identity rule of every policy: what the agent's fanotify marks enforce after all changes were applied. */
  identityRules(): IdentityRule[] {
    return this.keys().flatMap((key) => this.#entries.get(key)?.identityRules ?? []);
  }

  /** The registry, e.g. to name the rule behind a rule id in a kernel record. */
  get ruleIds(): RuleIdRegistry {
    return this.#ruleIds;
  }
}
