/**
 * Messages and shared counters between the guard (file-guard.ts, agent main thread) and its worker
 * (guard-worker.ts). Structured-clone types only.
 */
import type { ReachedBy } from './reached-by.ts';

/** Counters in the shared array, in this order (BigInt64). */
export const GUARD_COUNTERS = ['events', 'allowed', 'denied', 'killed', 'slow_answers', 'unresolved', 'errors', 'marks', 'answer_micros', 'digests', 'digest_skipped'] as const;
export type GuardCounter = (typeof GUARD_COUNTERS)[number];

/** An answer slower than this is counted (`slow_answers`): the opener waited on the agent that long. */
export const SLOW_ANSWER_MS = 10;

/** A container the guard enforces in: its file system is reached through /proc/<pid>/root of a process of it. */
export interface GuardRootSpec {
  readonly id: string;
  readonly pid: number;
  readonly pod: boolean;
}

/** An open or exec the guard refused. */
export interface GuardDecision {
  readonly ruleId: number;
  readonly policy: string;
  readonly rule: string;
  readonly action: 'deny' | 'kill';
  readonly event: 'file' | 'exec';
  readonly pid: number;
  /** Wall clock, nanoseconds since the epoch (microsecond precision). */
  readonly timeNs: bigint;
  /** The file as the rule names it, in the process's namespace. */
  readonly path: string;
  /** The string the process passed to open/execve (the resolved path when it could not be read). */
  readonly pathAsGiven: string;
  readonly reachedBy: ReachedBy;
  /** open flags, 0 for exec. */
  readonly flags: number;
  /** exec: the executable's digest, when a digest rule had it computed. */
  readonly sha256: string | null;
  readonly answerMicros: number;
}

export interface WorkerData {
  readonly selfPid: number;
  readonly counters: SharedArrayBuffer;
}

export type WorkerMessage =
  | { readonly type: 'ready'; readonly fds: readonly number[] }
  | { readonly type: 'unavailable'; readonly reason: string }
  | { readonly type: 'plan'; readonly marks: number; readonly problems: readonly string[] }
  | { readonly type: 'decision'; readonly decision: GuardDecision }
  | { readonly type: 'failed'; readonly reason: string }
  /** The worker closed its groups (it is ending): the agent must not close those descriptors again. */
  | { readonly type: 'closed' };
