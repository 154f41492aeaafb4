/**
 * NodePolicies: the policies in force on this node and what the agent did with them.
 *
 * Contract: the agent calls `applyCompiled` for every record of the compacted stinger.policies topic
 * (null value = tombstone) and `applyLocal` for the local policy directory; both feed one PolicySet
 * (same key: the later apply wins). Each change updates the kernel maps through KernelRuleSlots —
 * additions before removals, so a rule that stays never lapses — and is reported with `onStatus`
 * (a PolicyStatus, or null when the policy is gone). A record that cannot be turned into a policy is
 * reported `rejected` and changes nothing. `actionFor(ruleId)` names the policy and rule behind a
 * kernel record's rule id, for the event's `action`.
 */
import type { CompiledPolicy, PolicyStatus } from '@stinger/events';
import { formatIssue, PolicySet, PolicyValidationError, type PolicyChange, type TracingPolicy } from '@stinger/policy';
import type { RuleOrigin } from './event-builder.ts';
import type { KernelRuleSlots } from './kernel-rules.ts';

export interface NodePoliciesOptions {
  readonly nodeName: string;
  readonly agentId: string;
  readonly slots: KernelRuleSlots;
  readonly onStatus: (key: string, status: PolicyStatus | null) => void;
  readonly now?: () => bigint;
}

export class NodePolicies {
  readonly #options: NodePoliciesOptions;
  readonly #set = new PolicySet();
  readonly #statuses = new Map<string, PolicyStatus>();
  readonly #rules = new Map<number, RuleOrigin>();

  constructor(options: NodePoliciesOptions) {
    this.#options = options;
  }

  applyCompiled(key: string, compiled: CompiledPolicy | null): void {
    if (compiled === null) {
      this.#delete(key);
      return;
    }
    let change: PolicyChange;
    try {
      change = this.#set.applyCompiled(compiled);
    } catch (error) {
      const messages = error instanceof PolicyValidationError ? error.issues.map(formatIssue) : [(error as Error).message];
      this.#report(key, { generation: compiled.generation, state: 'rejected', kernelRules: 0, pipelineRules: 0, messages });
      return;
    }
    this.#commit(change);
  }

  applyLocal(policy: TracingPolicy): void {
    this.#commit(this.#set.apply(policy));
  }

  /** The policy is gone (a tombstone, a deleted local file). */
  remove(key: string): void {
    this.#delete(key);
  }

  /** A record for `key` that could not even be decoded: reported rejected; what is in force stays. */
  reject(key: string, messages: readonly string[]): void {
    const current = this.#statuses.get(key);
    this.#report(key, { generation: current?.generation ?? 0n, state: 'rejected', kernelRules: 0, pipelineRules: 0, messages: [...messages] });
  }

  statuses(): PolicyStatus[] {
    return [...this.#statuses.values()];
  }

  actionFor(ruleId: number): RuleOrigin | undefined {
    return this.#rules.get(ruleId);
  }

  #delete(key: string): void {
    const change = this.#set.delete(key);
    if (change) this.#updateKernel(change);
    this.#statuses.delete(key);
    this.#options.onStatus(key, null);
  }

  #commit(change: PolicyChange): void {
    if (change.change === 'unchanged') return;
    const errors = this.#updateKernel(change);
    const entry = this.#set.get(change.key);
    for (const rule of entry?.kernelRules ?? []) this.#rules.set(rule.ruleId, { policy: rule.policy, rule: rule.rule });
    for (const rule of entry?.pipelineRules ?? []) this.#rules.set(rule.ruleId, { policy: rule.policy, rule: rule.rule });
    const messages = [
      ...errors,
      ...change.pipelineRules.map((rule) => `${rule.rule}: enforced by the pipeline (${rule.reasons.join('; ')})`),
      ...change.collisions.map((c) => `rule id collision: ${JSON.stringify(c)}`),
    ];
    this.#report(change.key, {
      generation: change.compiled?.generation ?? 0n,
      state: errors.length > 0 ? 'partial' : 'applied',
      kernelRules: (entry?.kernelRules.length ?? 0) - errors.length,
      pipelineRules: change.pipelineRules.length,
      messages,
    });
  }

  #updateKernel(change: PolicyChange): string[] {
    const errors: string[] = [];
    for (const rule of change.kernel.add) errors.push(...this.#options.slots.add(rule).errors);
    for (const rule of change.kernel.remove) errors.push(...this.#options.slots.remove(rule).errors);
    return errors;
  }

  #report(
    key: string,
    outcome: { generation: bigint; state: PolicyStatus['state']; kernelRules: number; pipelineRules: number; messages: string[] },
  ): void {
    const now = this.#options.now ?? (() => BigInt(Date.now()) * 1_000_000n);
    const status: PolicyStatus = {
      policy: key,
      generation: outcome.generation,
      node: this.#options.nodeName,
      agent_id: this.#options.agentId,
      state: outcome.state,
      kernel_rules: Math.max(0, outcome.kernelRules),
      pipeline_rules: outcome.pipelineRules,
      messages: outcome.messages,
      reported_at_ns: now(),
    };
    this.#statuses.set(key, status);
    this.#options.onStatus(key, status);
  }
}
