/**
 * Enforcer: what happens to each alert, and the outcome of every action requested (stinger.enforcements).
 *
 * Contract (pure: the clock, ids and the signing key are passed in; the service does the I/O):
 *  - `onAlert(alert)` returns the records to publish now: at most one signed ControlCommand and the Enforcement
 *    records that are already final. Each alert gets exactly one final Enforcement, now or later; an alert id seen
 *    before (a redelivery) gets nothing.
 *  - Decision, in order (the first five say what happened or what the policy wants, whatever the alert's age):
 *      monitor_only  the alert's policy was in monitor mode, or the policy in force now is;
 *      audit_only    the rule only alerts;
 *      killed_in_kernel / denied_in_kernel   the agent already acted at the syscall (event.action names this rule);
 *      audit_only    also for a deny rule whose event carries no deny (the node could not refuse the open or
 *                    exec): deny means the process lives, so it never becomes a kill command;
 *      rejected      the alert names no rule of the signed policies in force, or its event does not satisfy that
 *                    rule (the enforcer re-checks it: write access to stinger.alerts is not authority to kill), or
 *                    the node+policy exceeded its kills per minute (detail says which);
 *      protected     the pod's namespace is never touched (kube-system by default) unless the policy names it;
 *      expired       an alert that would be acted on is older than MAX_ALERT_AGE_MS (a backlog, a first start on old
 *                    alerts, brokers away): too late to act on safely. A late monitor-mode alert is still
 *                    monitor_only, a late in-kernel kill still killed_in_kernel (seen as expired once two of three
 *                    brokers had been down: integration-tests/kafka/broker-faults.test.ts);
 *      otherwise a kill command for the event's process (pid, start time, exec id), signed, expiring after the TTL,
 *      dry_run when the enforcer runs dry. Alerts for a process that already has a command out wait for that
 *      command's answer instead of sending another.
 *  - `onAck(ack)` turns an agent's answer into the final Enforcement of every alert waiting on that command.
 *  - `expire(now)` gives `timed_out` to commands unanswered after the ack timeout.
 *  - `markHandled(ids)`: alerts handled before this instance started (a crash between publishing an alert's records
 *    and committing its offset redelivers it); they get nothing, so an alert's records are published once.
 */
import { decodeControlCommand, decodeEnforcement, type Alert, type ControlAck, type ControlCommand, type Enforcement, type EnforcementOutcome } from '@stinger/events';
import type { DetectionRules } from '@stinger/detection';
import { signControlCommand, type SigningKey } from '@stinger/trust';

export interface EnforcerOptions {
  readonly rules: DetectionRules;
  /** Asked for every command, so a rotated key is used at once. */
  readonly signingKey: () => SigningKey;
  readonly dryRun: boolean;
  readonly protectedNamespaces: readonly string[];
  readonly commandTtlMs: number;
  readonly ackTimeoutMs: number;
  readonly maxKillsPerMinute: number;
  readonly now?: () => bigint;
  readonly newId?: () => string;
}

export interface EnforcerOutput {
  readonly commands: readonly ControlCommand[];
  readonly enforcements: readonly Enforcement[];
}

interface Waiting {
  readonly alert: Alert;
  readonly requestedAtNs: bigint;
}

interface Pending {
  readonly command: ControlCommand;
  readonly waiting: Waiting[];
  readonly deadlineNs: bigint;
}

const MS = 1_000_000n;
/** Alerts older than this (by Alert.time) that would be acted on are recorded expired instead. */
export const MAX_ALERT_AGE_MS = 60_000;
const NOTHING: EnforcerOutput = { commands: [], enforcements: [] };

const ACK_OUTCOMES: Readonly<Record<ControlAck['status'], EnforcementOutcome>> = {
  killed: 'killed',
  dry_run: 'dry_run',
  expired: 'expired',
  bad_signature: 'rejected',
  unknown_key: 'rejected',
  wrong_node: 'rejected',
  target_gone: 'target_gone',
  target_mismatch: 'target_mismatch',
  protected: 'protected',
  failed: 'failed',
};

export interface EnforcerStats {
  alerts: number;
  commands: number;
  outcomes: Partial<Record<EnforcementOutcome, number>>;
  pending: number;
}

export class Enforcer {
  readonly #options: EnforcerOptions;
  readonly #now: () => bigint;
  readonly #newId: () => string;
  /** command id → pending command. */
  readonly #pending = new Map<string, Pending>();
  /** exec id → command id of the command out for that process. */
  readonly #byTarget = new Map<string, string>();
  /** node/policy → times of recent kill commands (ns), oldest first. */
  readonly #recentKills = new Map<string, bigint[]>();
  /** Alert ids handled, bounded (redeliveries get nothing). */
  readonly #seen = new Set<string>();
  readonly stats: EnforcerStats = { alerts: 0, commands: 0, outcomes: {}, pending: 0 };

  constructor(options: EnforcerOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => BigInt(Date.now()) * MS);
    this.#newId = options.newId ?? (() => crypto.randomUUID());
  }

  /**
   * Alerts a previous enforcer already handled (their outcomes or commands are on stinger.enforcements or
   * stinger.control, see `handledAlertIds`): a redelivery of one after a crash gets nothing.
   */
  markHandled(alertIds: Iterable<string>): void {
    for (const id of alertIds) if (!this.#seen.has(id)) this.#remember(id);
  }

  onAlert(alert: Alert): EnforcerOutput {
    if (this.#seen.has(alert.id)) return NOTHING;
    this.#remember(alert.id);
    this.stats.alerts += 1;
    const now = this.#now();
    const final = (outcome: EnforcementOutcome, detail: string | null = null): EnforcerOutput => ({ commands: [], enforcements: [this.#record(alert, { outcome, detail, requestedAtNs: now, command: null })] });
    const rule = this.#options.rules.find(alert.policy, alert.rule);
    if (alert.mode === 'monitor' || rule?.mode === 'monitor') return final('monitor_only');
    if (alert.action === 'audit') return final('audit_only');
    const taken = alert.event.action;
    if (taken !== null && taken.policy === alert.policy && taken.rule === alert.rule) return final(taken.kind === 'deny' ? 'denied_in_kernel' : 'killed_in_kernel');
    if (alert.action === 'deny' || rule?.action === 'deny') {
      return final('audit_only', 'deny rule: the node did not refuse this open or exec (the event carries no deny), and a deny is never turned into a kill');
    }
    if (rule === undefined) return final('rejected', `no rule ${alert.policy}/${alert.rule} in the signed policies in force`);
    if (rule.action === 'audit') return final('audit_only');
    if (!this.#options.rules.matchesRule(alert.policy, alert.rule, alert.event)) {
      return final('rejected', `the alert's event does not satisfy ${alert.policy}/${alert.rule} as in force (generation ${rule.generation})`);
    }
    const namespace = alert.event.pod?.namespace;
    if (namespace !== undefined && this.#options.protectedNamespaces.includes(namespace) && !rule.namespaces.includes(namespace)) {
      return final('protected', `namespace ${namespace} is never touched unless a policy names it`);
    }
    if (now - alert.time > BigInt(MAX_ALERT_AGE_MS) * MS) return final('expired', `alert raised ${(now - alert.time) / MS} ms ago; only alerts younger than ${MAX_ALERT_AGE_MS} ms are acted on`);
    const process = alert.event.process;
    const out = this.#byTarget.get(process.exec_id);
    const pending = out === undefined ? undefined : this.#pending.get(out);
    if (pending !== undefined) {
      pending.waiting.push({ alert, requestedAtNs: now });
      return NOTHING;
    }
    const limitKey = `${alert.node}/${alert.policy}`;
    const recent = (this.#recentKills.get(limitKey) ?? []).filter((at) => now - at < 60_000n * MS);
    if (recent.length >= this.#options.maxKillsPerMinute) {
      this.#recentKills.set(limitKey, recent);
      return final('rejected', `rate limited: ${recent.length} kill commands for ${limitKey} in the last minute (STINGER_ENFORCER_MAX_KILLS_PER_MINUTE)`);
    }
    recent.push(now);
    this.#recentKills.set(limitKey, recent);
    const command = signControlCommand(
      {
        command_id: this.#newId(),
        node: alert.node,
        action: 'kill',
        target: { pid: process.pid, start_time: process.start_time, exec_id: process.exec_id },
        reason: alert.message,
        alert_id: alert.id,
        policy: alert.policy,
        issued_at_ns: now,
        expires_at_ns: now + BigInt(this.#options.commandTtlMs) * MS,
        dry_run: this.#options.dryRun,
      },
      this.#options.signingKey(),
    );
    this.#pending.set(command.command_id, { command, waiting: [{ alert, requestedAtNs: now }], deadlineNs: now + BigInt(this.#options.ackTimeoutMs) * MS });
    this.#byTarget.set(process.exec_id, command.command_id);
    this.stats.commands += 1;
    this.stats.pending = this.#pending.size;
    return { commands: [command], enforcements: [] };
  }

  /** The final outcome of every alert waiting on the acknowledged command; nothing for an unknown command. */
  onAck(ack: ControlAck): Enforcement[] {
    const pending = this.#take(ack.command_id);
    if (pending === undefined) return [];
    const outcome = ACK_OUTCOMES[ack.status];
    const detail = ack.detail ?? (outcome === 'rejected' ? `agent answered ${ack.status}` : null);
    return pending.waiting.map((w) => this.#record(w.alert, { outcome, detail, requestedAtNs: w.requestedAtNs, command: pending.command, completedAtNs: ack.acked_at_ns }));
  }

  /** timed_out for every command unanswered past its deadline. */
  expire(): Enforcement[] {
    const now = this.#now();
    const records: Enforcement[] = [];
    for (const [id, pending] of this.#pending) {
      if (pending.deadlineNs > now) continue;
      this.#take(id);
      const detail = `no acknowledgement from ${pending.command.node} within ${this.#options.ackTimeoutMs} ms`;
      records.push(...pending.waiting.map((w) => this.#record(w.alert, { outcome: 'timed_out', detail, requestedAtNs: w.requestedAtNs, command: pending.command, completedAtNs: now })));
    }
    return records;
  }

  #take(commandId: string): Pending | undefined {
    const pending = this.#pending.get(commandId);
    if (pending === undefined) return undefined;
    this.#pending.delete(commandId);
    this.#byTarget.delete(pending.command.target.exec_id);
    this.stats.pending = this.#pending.size;
    return pending;
  }

  #remember(alertId: string): void {
    if (this.#seen.size >= 100_000) {
      const oldest = this.#seen.values().next().value;
      if (oldest !== undefined) this.#seen.delete(oldest);
    }
    this.#seen.add(alertId);
  }

  #record(alert: Alert, result: { outcome: EnforcementOutcome; detail: string | null; requestedAtNs: bigint; command: ControlCommand | null; completedAtNs?: bigint }): Enforcement {
    this.stats.outcomes[result.outcome] = (this.stats.outcomes[result.outcome] ?? 0) + 1;
    return {
      alert_id: alert.id,
      command_id: result.command?.command_id ?? null,
      node: alert.node,
      policy: alert.policy,
      rule: alert.rule,
      action: alert.action,
      outcome: result.outcome,
      target: result.command?.target ?? null,
      requested_at_ns: result.requestedAtNs,
      completed_at_ns: result.completedAtNs ?? null,
      detail: result.detail,
    };
  }
}

/**
 * The alert ids that records of stinger.enforcements and stinger.control (values as read) name: alerts an enforcer
 * handled. An undecodable value or a command without an alert (a manual one) names none.
 */
export function handledAlertIds(records: { readonly enforcements: readonly (Buffer | null)[]; readonly commands: readonly (Buffer | null)[] }): Set<string> {
  const ids = new Set<string>();
  const add = (value: Buffer | null, decode: (bytes: Buffer) => { readonly alert_id: string | null }) => {
    if (value === null) return;
    try {
      const id = decode(value).alert_id;
      if (id !== null) ids.add(id);
    } catch {
      // not an outcome or command of ours: it names no alert
    }
  };
  for (const value of records.enforcements) add(value, decodeEnforcement);
  for (const value of records.commands) add(value, decodeControlCommand);
  return ids;
}
