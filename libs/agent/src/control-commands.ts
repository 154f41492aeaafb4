/**
 * ControlCommandHandler: what the agent does with a record of stinger.control.
 *
 * Contract: `handle(key, command)` returns the ControlAck to publish, or null when the command is not this agent's to
 * answer. The checks, in order — and nothing is ever killed unless every one passes:
 *   1. addressed here: the record's key or the command's node is this node; otherwise ignored (every agent reads the
 *      whole topic, and a command for another node is that node's business; counted as other_node);
 *   2. signed by a trusted key and the signature holds (unknown_key, bad_signature), addressed to this node
 *      (wrong_node), not expired and not longer-lived than agents accept (expired), not seen before (a replay is
 *      counted and never acknowledged again);
 *   3. the target may be touched: never pid 1, the agent itself, or a pid the agent protects (protected);
 *   4. the target is the process the command names, by pid and start time (a process keeps both across exec, and
 *      a reused pid never has the old start time): the process cache's live entry for the pid (when it has one)
 *      and /proc's start time of the pid both agree with the command's start_time (target_mismatch), and the pid
 *      exists (target_gone);
 *   5. dry_run: everything above passed, nothing is done (dry_run).
 * Then the kill goes through a pidfd with the start time checked once more while the process is pinned
 * (libs/bpf killExactly), so a pid reused between the checks and the signal is never hit.
 */
import { readFileSync } from 'node:fs';
import { decodeControlCommand, type ControlAck, type ControlCommand } from '@stinger/events';
import type { ExactSignalResult } from '@stinger/bpf';
import { verifyControlCommand, type KeyRing, type ReplayGuard } from '@stinger/trust';

/** USER_HZ: /proc/<pid>/stat reports start times in these ticks per second on every Linux architecture we run on. */
export const CLOCK_TICKS_PER_SECOND = 100n;

export interface ControlCommandHandlerOptions {
  readonly node: string;
  readonly agentId: string;
  /** Asked at every command, so keys re-read from disk (rotation) take effect at once. */
  readonly ring: () => KeyRing;
  readonly replays: ReplayGuard;
  /** Pids never signalled (1 and the agent's own are always added). */
  readonly protectedPids?: Iterable<number>;
  /** Start time (ns since boot) of the live process the agent's cache holds for `pid`; undefined when it knows none. */
  readonly cachedStartTimeOf: (pid: number) => bigint | undefined;
  /** /proc/<pid>/stat start time in clock ticks; null when there is no such process. Default: procStartTicks. */
  readonly startTicksOf?: (pid: number) => bigint | null;
  readonly kill: (pid: number, isSame: () => boolean) => ExactSignalResult;
  /** ns since the Unix epoch. */
  readonly now?: () => bigint;
  /** Every command that was not acted on, with why (for metrics and logs); null for an undecodable record. */
  readonly onRefused?: (reason: string, command: ControlCommand | null) => void;
}

export type AckStatus = ControlAck['status'];

/** What to do with one record of stinger.control: publish an ack, dead-letter it, or nothing. */
export type ControlRecordResult =
  | { readonly kind: 'ack'; readonly ack: ControlAck }
  | { readonly kind: 'undecodable'; readonly detail: string }
  | { readonly kind: 'none' };

export class ControlCommandHandler {
  readonly #options: ControlCommandHandlerOptions;
  readonly #protected: ReadonlySet<number>;
  readonly #now: () => bigint;

  constructor(options: ControlCommandHandlerOptions) {
    this.#options = options;
    this.#protected = new Set([1, process.pid, ...(options.protectedPids ?? [])]);
    this.#now = options.now ?? (() => BigInt(Date.now()) * 1_000_000n);
  }

  /**
   * A record of stinger.control as read: decoded and handled. An undecodable record addressed to this node (by key)
   * is to be dead-lettered; one for another node is not this agent's business.
   */
  handleRecord(record: { readonly key: Buffer | null; readonly value: Buffer | null }): ControlRecordResult {
    const key = record.key?.toString() ?? null;
    let command: ControlCommand;
    try {
      command = decodeControlCommand(record.value ?? Buffer.alloc(0));
    } catch (error) {
      if (key !== this.#options.node) return { kind: 'none' };
      this.#options.onRefused?.('undecodable', null);
      return { kind: 'undecodable', detail: (error as Error).message };
    }
    const ack = this.handle(key, command);
    return ack === null ? { kind: 'none' } : { kind: 'ack', ack };
  }

  handle(key: string | null, command: ControlCommand): ControlAck | null {
    const { node } = this.#options;
    if (key !== node && command.node !== node) {
      this.#options.onRefused?.('other_node', command);
      return null;
    }
    const verdict = verifyControlCommand(command, { ring: this.#options.ring(), node, nowNs: this.#now(), replays: this.#options.replays });
    if (!verdict.ok) {
      this.#options.onRefused?.(verdict.reason, command);
      return verdict.reason === 'replayed' ? null : this.#ack(command, verdict.reason, verdict.detail);
    }
    const { pid, start_time: startTime } = command.target;
    if (this.#protected.has(pid) || pid <= 0) return this.#refused(command, 'protected', `pid ${pid} is never signalled by the agent`);
    const cached = this.#options.cachedStartTimeOf(pid);
    if (cached !== undefined && !sameStartNs(cached, startTime)) {
      return this.#refused(command, 'target_mismatch', `pid ${pid} is a process started at ${cached} ns after boot, not ${startTime} (reused)`);
    }
    const sameStart = (): boolean | null => {
      const ticks = (this.#options.startTicksOf ?? procStartTicks)(pid);
      return ticks === null ? null : startMatchesTicks(startTime, ticks);
    };
    const before = sameStart();
    if (before === null) return this.#refused(command, 'target_gone', `no process ${pid}`);
    if (!before) return this.#refused(command, 'target_mismatch', `pid ${pid} started at another time than ${startTime} ns after boot (reused)`);
    if (command.dry_run) return this.#ack(command, 'dry_run', null);
    let result: ExactSignalResult;
    try {
      result = this.#options.kill(pid, () => sameStart() === true);
    } catch (error) {
      return this.#refused(command, 'failed', (error as Error).message);
    }
    switch (result) {
      case 'signalled':
        return this.#ack(command, 'killed', null);
      case 'gone':
        return this.#refused(command, 'target_gone', `process ${pid} exited before the signal`);
      case 'mismatch':
        return this.#refused(command, 'target_mismatch', `pid ${pid} was reused before the signal`);
    }
  }

  #refused(command: ControlCommand, status: AckStatus, detail: string): ControlAck {
    this.#options.onRefused?.(status, command);
    return this.#ack(command, status, detail);
  }

  #ack(command: ControlCommand, status: AckStatus, detail: string | null): ControlAck {
    return { command_id: command.command_id, node: this.#options.node, agent_id: this.#options.agentId, status, detail, acked_at_ns: this.#now() };
  }
}

/**
 * How far a start time the agent recorded may lie after the kernel's own: the sensor stamps a process at its fork
 * record, after the kernel set the start time (microseconds; 1 ms is generous), and /proc rounds down to 10 ms ticks.
 * A pid cannot be reused by a process started within that span of the original (it must exit and the pid numbers
 * wrap first), so this tolerance never confuses two processes.
 */
export const START_TIME_SLACK_NS = 1_000_000n;
const TICK_NS = 1_000_000_000n / CLOCK_TICKS_PER_SECOND;

/** Whether /proc's start time in ticks is the kernel's start of the process the agent recorded at `startNs`. */
export function startMatchesTicks(startNs: bigint, ticks: bigint): boolean {
  const procNs = ticks * TICK_NS;
  return startNs >= procNs && startNs - procNs < TICK_NS + START_TIME_SLACK_NS;
}

/** Whether two recorded start times (one may come from /proc, rounded to a tick) denote the same process start. */
export function sameStartNs(a: bigint, b: bigint): boolean {
  const difference = a > b ? a - b : b - a;
  return difference < TICK_NS + START_TIME_SLACK_NS;
}

/** The start time of `pid` from /proc/<pid>/stat, in clock ticks; null when there is no such process. */
export function procStartTicks(pid: number): bigint | null {
  try {
    return parseStartTicks(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

/** /proc/<pid>/stat field 22 (starttime), for `startTicksOf`. The command name (field 2) may hold spaces and ')'. */
export function parseStartTicks(stat: string): bigint | null {
  const afterName = stat.lastIndexOf(')');
  if (afterName === -1) return null;
  const fields = stat.slice(afterName + 2).split(' ');
  // fields[0] is field 3 (state), so field 22 is fields[19].
  const value = fields[19];
  return value !== undefined && /^\d+$/.test(value) ? BigInt(value) : null;
}
