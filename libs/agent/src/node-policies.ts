/**
 * NodePolicies: the policies in force on this node and what the agent did with them.
 *
 * Contract: the agent calls `applyCompiled` for every record of the compacted stinger.policies topic
 * (null value = tombstone) and `applyLocal` for the local policy directory; both feed one PolicySet
 * (same key: the later apply wins). Each change updates the kernel maps through KernelRuleSlots —
 * additions before removals, so a rule that stays never lapses — and is reported with `onStatus`
 * (a PolicyStatus, or null when the policy is gone). A record that cannot be turned into a policy is
 * reported `rejected` and changes nothing; one that cannot even be decoded changes nothing either, and the status of
 * what stays in force says so (`refuseUndecodable`). `actionFor(ruleId)` names the policy and rule behind a
 * kernel record's rule id, for the event's `action`. A kernel rule that another policy's rule keeps out
 * of its map entry (KernelRuleSlots) is named in its policy's messages as shadowed, and the statuses of
 * every policy whose shadowing changed are reported again. A rule whose selector names pods (podSelector,
 * namespaces) has pod-scoped kernel entries besides its pipeline rule: they go into the maps only when the agent
 * knows its node's pods (`podScopes`), and its status then says the kernel enforces it for those pods; otherwise the
 * pipeline alone does, and the message says why the kernel does not. Where the file sensor's LSM hooks take deny rules
 * (`lsmDenyUnavailable`), a deny rule with nothing but paths also goes into the kernel (lsmDenyRulesOf): the hook
 * refuses its opens or execs by the resolved path, and the file guard still marks its files for other names.
 */
import type { CompiledPolicy, PolicyStatus } from '@stinger/events';
import {
  diffKernelRules,
  formatIssue,
  identityRuleMessage,
  lsmDenyRuleMessage,
  lsmDenyRulesOf,
  PolicySet,
  PolicyValidationError,
  type IdentityRule,
  type KernelRule,
  type LsmDenyRule,
  type PolicyChange,
  type TracingPolicy,
} from '@stinger/policy';
import type { RuleOrigin } from './event-builder.ts';
import type { KernelRuleSlots } from './kernel-rules.ts';

/**
 * Where identity rules go (the file guard in the agent). `unavailable` is null while it enforces; else why not —
 * the policies' statuses then say their identity rules are not enforced on this node.
 */
export interface IdentityEnforcement {
  readonly unavailable: () => string | null;
  /** Every identity rule in force, after each change. */
  readonly setRules: (rules: readonly IdentityRule[]) => void;
}

export interface NodePoliciesOptions {
  readonly nodeName: string;
  readonly agentId: string;
  readonly slots: KernelRuleSlots;
  /** Absent: no file guard (identity rules reported as not enforced). */
  readonly identity?: IdentityEnforcement;
  /**
   * Whether pod-scoped kernel entries can go in: null when the agent keeps pod scopes (it watches its node's pods),
   * else why not. Absent: 'this agent does not watch its node's pods'. Read at each change.
   */
  readonly podScopesUnavailable?: () => string | null;
  /**
   * Whether deny rules can go to the file sensor's LSM hooks: null when they can (the sensor runs in its lsm mode),
   * else why not. Absent: 'no BPF LSM hooks in this agent'. Read at each change.
   */
  readonly lsmDenyUnavailable?: () => string | null;
  readonly onStatus: (key: string, status: PolicyStatus | null) => void;
  readonly now?: () => bigint;
}

interface Outcome {
  readonly generation: bigint;
  readonly state: PolicyStatus['state'];
  readonly kernelRules: number;
  readonly pipelineRules: number;
  readonly messages: readonly string[];
}

/** How the message about a refused, undecodable record of a policy begins (NodePolicies.refuseUndecodable). */
export const REFUSED_RECORD = 'a record for this policy was refused and sent to the dead-letter topic';

export class NodePolicies {
  readonly #options: NodePoliciesOptions;
  readonly #set = new PolicySet();
  readonly #statuses = new Map<string, PolicyStatus>();
  readonly #rules = new Map<number, RuleOrigin>();
  /** Rule ids of pipeline rules that kill: the events their watches report are urgent. */
  #pipelineKills = new Set<number>();
  /** What each policy in force was reported with, before the shadow messages (which change with other policies). */
  readonly #outcomes = new Map<string, Outcome>();

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

  /**
   * A record for `key` that could not be decoded: the agent refused it (and sent it to the dead-letter topic), so what
   * is in force under `key` stays, and the status says exactly that. A policy in force keeps its state, generation and
   * rule counts, with one message naming the refused record (a later refusal replaces it; the next applied record
   * drops it); with nothing in force under `key` it is `rejected`.
   */
  refuseUndecodable(key: string, detail: string): void {
    const refused = `${REFUSED_RECORD}: ${detail}`;
    const outcome = this.#outcomes.get(key);
    if (outcome === undefined) {
      const generation = this.#statuses.get(key)?.generation ?? 0n;
      this.#report(key, { generation, state: 'rejected', kernelRules: 0, pipelineRules: 0, messages: [`${refused}; nothing is in force under this name`] });
      return;
    }
    const messages = [...outcome.messages.filter((m) => !m.startsWith(REFUSED_RECORD)), `${refused}; generation ${outcome.generation} stays in force unchanged`];
    this.#outcomes.set(key, { ...outcome, messages });
    this.#reportShadowChanges(key);
  }

  statuses(): PolicyStatus[] {
    return [...this.#statuses.values()];
  }

  actionFor(ruleId: number): RuleOrigin | undefined {
    return this.#rules.get(ruleId);
  }

  /** Whether `ruleId` is a rule the pipeline kills on (its events should reach the detector without delay). */
  isPipelineKill(ruleId: number): boolean {
    return this.#pipelineKills.has(ruleId);
  }

  #refreshPipelineKills(): void {
    this.#pipelineKills = new Set(this.#set.pipelineRules().filter((rule) => rule.action === 'kill').map((rule) => rule.ruleId));
  }

  #delete(key: string): void {
    const change = this.#set.delete(key);
    if (change) this.#updateKernel(change);
    this.#statuses.delete(key);
    this.#outcomes.delete(key);
    this.#refreshPipelineKills();
    this.#options.onStatus(key, null);
    this.#reportShadowChanges(null);
  }

  #commit(change: PolicyChange): void {
    if (change.change === 'unchanged') return;
    const errors = this.#updateKernel(change);
    this.#refreshPipelineKills();
    const entry = this.#set.get(change.key);
    for (const rule of entry?.kernelRules ?? []) this.#rules.set(rule.ruleId, { policy: rule.policy, rule: rule.rule });
    for (const rule of entry?.pipelineRules ?? []) this.#rules.set(rule.ruleId, { policy: rule.policy, rule: rule.rule });
    for (const rule of entry?.identityRules ?? []) this.#rules.set(rule.ruleId, { policy: rule.policy, rule: rule.rule });
    const identityMissing = this.#identityUnavailable();
    const hooked = (rule: { readonly ruleId: number }): boolean => this.#lsmDenyIds.has(rule.ruleId);
    // Without a guard a deny rule the LSM hooks do not refuse is not enforced at all (partial); a kill-in-kernel rule
    // still is, by path.
    const identityErrors =
      identityMissing === null
        ? []
        : change.identityRules
            .filter((rule) => rule.action === 'deny' && !hooked(rule))
            .map((rule) => `${rule.rule}: not enforced on this node (file identity unavailable: ${identityMissing})`);
    const identityNotes = change.identityRules.flatMap((rule) => {
      if (hooked(rule)) return [lsmDenyRuleMessage(rule, identityMissing)];
      if (identityMissing === null) return [identityRuleMessage(rule)];
      return rule.action === 'kill' ? [`${rule.rule}: enforced by path only (file identity unavailable: ${identityMissing})`] : [];
    });
    const lsmDenyEntries = this.#lsmDenyEntries.filter((rule) => rule.policy === change.key).length;
    errors.push(...identityErrors);
    const podScoped = this.#podScopedRuleIds(entry?.podScopedRules ?? []);
    const podScopesMissing = this.#podScopesUnavailable();
    const pipelineMessage = (rule: PolicyChange['pipelineRules'][number]): string => {
      if (!podScoped.has(rule.ruleId)) return `${rule.rule}: enforced by the pipeline (${rule.reasons.join('; ')})`;
      if (podScopesMissing === null) return `${rule.rule}: enforced in the kernel for this node's pods its selector names (pod scope); the pipeline watches it too`;
      return `${rule.rule}: enforced by the pipeline (${rule.reasons.join('; ')}; not in the kernel here: ${podScopesMissing})`;
    };
    // A pod-scoped rule in the kernel counts as a kernel rule; errors installing it make the policy partial as usual.
    const kernelPodScoped = podScopesMissing === null ? change.pipelineRules.filter((rule) => podScoped.has(rule.ruleId)).length : 0;
    const messages = [
      ...errors,
      ...identityNotes,
      ...change.pipelineRules.map(pipelineMessage),
      ...change.collisions.map((c) => `rule id collision: ${JSON.stringify(c)}`),
    ];
    this.#outcomes.set(change.key, {
      generation: change.compiled?.generation ?? 0n,
      state: errors.length > 0 ? 'partial' : 'applied',
      kernelRules: (entry?.kernelRules.length ?? 0) + kernelPodScoped + lsmDenyEntries - (errors.length - identityErrors.length),
      pipelineRules: change.pipelineRules.length - kernelPodScoped,
      messages,
    });
    this.#reportShadowChanges(change.key);
  }

  /** One message per kernel rule of the policy that another rule keeps out of the kernel. */
  #shadowMessages(key: string): string[] {
    const messages = new Set<string>();
    for (const rule of this.#set.get(key)?.kernelRules ?? []) {
      const installed = this.#options.slots.installed(rule);
      if (installed && installed.ruleId !== rule.ruleId) {
        messages.add(`${rule.rule}: shadowed in the kernel by ${installed.policy}/${installed.rule} (one rule per path, destination or scope)`);
      }
    }
    return [...messages];
  }

  /** Reports `changed` (null: none) and every other policy whose shadow messages are no longer what it reported. */
  #reportShadowChanges(changed: string | null): void {
    for (const [key, outcome] of this.#outcomes) {
      const messages = [...outcome.messages, ...this.#shadowMessages(key)];
      const reported = this.#statuses.get(key)?.messages;
      if (key !== changed && reported !== undefined && reported.join('\n') === messages.join('\n')) continue;
      this.#report(key, { ...outcome, messages });
    }
  }

  #podScopesUnavailable(): string | null {
    return this.#options.podScopesUnavailable ? this.#options.podScopesUnavailable() : "this agent does not watch its node's pods";
  }

  /** Rule ids of the pipeline rules that have pod-scoped kernel entries. */
  #podScopedRuleIds(rules: readonly KernelRule[]): Set<number> {
    return new Set(rules.map((rule) => rule.ruleId));
  }

  /** A pod-scoped entry stays out of the maps where the agent keeps no pod scopes (the pipeline enforces its rule). */
  #skipped(rule: KernelRule): boolean {
    return rule.pods !== undefined && this.#podScopesUnavailable() !== null;
  }

  #identityUnavailable(): string | null {
    return this.#options.identity ? this.#options.identity.unavailable() : 'no file guard in this agent';
  }

  #lsmDenyUnavailable(): string | null {
    return this.#options.lsmDenyUnavailable ? this.#options.lsmDenyUnavailable() : 'no BPF LSM hooks in this agent';
  }

  /**
   * A `deny` rule's audit watches let the tracepoints report its opens where nothing refuses them; where the file
   * guard or an LSM hook does, it reports every open it refuses, and the watch would report the same open a second
   * time without the action. So then those watches stay out of the kernel.
   */
  #isReportedDenyWatch(rule: KernelRule): boolean {
    return rule.action === 'audit' && this.#reportedDenyIds.has(rule.ruleId);
  }

  /** Ids of the deny rules whose refusals the guard or a hook reports. */
  #reportedDenyIds = new Set<number>();
  /** The LSM hooks' deny entries in the slots now, and their rules' ids. */
  #lsmDenyEntries: readonly LsmDenyRule[] = [];
  #lsmDenyIds = new Set<number>();

  #updateKernel(change: PolicyChange): string[] {
    const errors: string[] = [];
    const identityRules = this.#set.identityRules();
    const denyRules = identityRules.filter((rule) => rule.action === 'deny');
    const lsmDenyEntries = this.#lsmDenyUnavailable() === null ? denyRules.flatMap((rule) => lsmDenyRulesOf(rule) ?? []) : [];
    this.#lsmDenyIds = new Set(lsmDenyEntries.map((rule) => rule.ruleId));
    this.#reportedDenyIds = this.#identityUnavailable() === null ? new Set(denyRules.map((rule) => rule.ruleId)) : this.#lsmDenyIds;
    // The hooks' entries follow the identity rules of every policy: only those that changed enter or leave the slots,
    // entering with the change's additions and leaving with its removals.
    const { add: added, remove: removed } = diffKernelRules(this.#lsmDenyEntries, lsmDenyEntries);
    this.#lsmDenyEntries = lsmDenyEntries;
    for (const rule of [...added, ...change.kernel.add]) if (!this.#isReportedDenyWatch(rule) && !this.#skipped(rule)) errors.push(...this.#options.slots.add(rule).errors);
    for (const rule of [...change.kernel.remove, ...removed]) if (!this.#skipped(rule)) errors.push(...this.#options.slots.remove(rule).errors);
    this.#options.identity?.setRules(identityRules);
    return errors;
  }

  #report(key: string, outcome: Outcome): void {
    const now = this.#options.now ?? (() => BigInt(Date.now()) * 1_000_000n);
    const status: PolicyStatus = {
      policy: key,
      generation: outcome.generation,
      node: this.#options.nodeName,
      agent_id: this.#options.agentId,
      state: outcome.state,
      kernel_rules: Math.max(0, outcome.kernelRules),
      pipeline_rules: outcome.pipelineRules,
      messages: [...outcome.messages],
      reported_at_ns: now(),
    };
    this.#statuses.set(key, status);
    this.#options.onStatus(key, status);
  }
}
