/**
 * A refusal by the file guard (libs/file-guard) as a record the event builder takes like a kernel record: the
 * open or exec it denied (or denied and killed), with the header fields the builder reads. Built on the agent's
 * main thread from the worker's GuardDecision.
 */
import { statSync } from 'node:fs';
import type { RecordHeader } from '@stinger/bpf';
import type { GuardDecision, GuardRootSpec } from '@stinger/file-guard';
import { isKubernetesPodCgroup, type ProcessInfo } from '@stinger/process-cache';

/**
 * How long the agent holds a guard refusal before building its event. The worker answers while the opener is
 * still blocked, so its decision reaches the main thread before the ring buffer's fork and exec records of that
 * very process; built at once, the event would name the process by its image before the exec (or its cgroup
 * before it moved into a container). The guard has already acted: only the report waits.
 */
export const GUARD_RECORD_DELAY_MS = 50;

export interface GuardRecord extends RecordHeader {
  readonly kind: 'file-guard';
  readonly decision: GuardDecision;
}

/** `bootToWallNs`: wall clock minus CLOCK_BOOTTIME (records carry boot time; the worker measured wall time). */
export function guardRecordOf(decision: GuardDecision, process: ProcessInfo | null, bootToWallNs: bigint): GuardRecord {
  return {
    kind: 'file-guard',
    decision,
    timeNs: decision.timeNs - bootToWallNs,
    cgroupId: process?.cgroupId ?? 0n,
    pid: decision.pid,
    tid: decision.pid,
    ppid: process?.ppid ?? 0,
    uid: process?.uid ?? 0,
    gid: process?.gid ?? 0,
    comm: '',
  };
}

/**
 * The containers the guard enforces in, from the live processes the agent knows: for each container id, the
 * process of it that started first (the longest-lived: its /proc/<pid>/root is the container's root), and whether
 * it is a pod's (its cgroup lies under a pod cgroup root).
 */
export function containerRootsOf(processes: Iterable<ProcessInfo>): GuardRootSpec[] {
  const oldest = new Map<string, ProcessInfo>();
  for (const info of processes) {
    if (info.containerId === null || info.exitTimeNs !== null) continue;
    const current = oldest.get(info.containerId);
    if (current === undefined || info.startTimeNs < current.startTimeNs) oldest.set(info.containerId, info);
  }
  return [...oldest.entries()]
    .map(([id, info]) => ({ id, pid: info.pid, pod: isKubernetesPodCgroup(info.cgroupPath) }))
    .sort((a, b) => a.id.localeCompare(b.id));
}

/** The identity (dev:ino) of a process's root directory, or null when the process is gone. */
export function rootDirectoryOf(pid: number): string | null {
  try {
    const stats = statSync(`/proc/${pid}/root`, { bigint: true });
    return `${stats.dev}:${stats.ino}`;
  } catch {
    return null;
  }
}

/**
 * The container roots the guard was last given, and the root directory each root's process had then. A container's
 * first process may change its root after the agent first saw it (runc's init pivots, a shell execs chroot), and a
 * plan made across that change marks some of the container's files and misses others; so an exec in a container
 * whose root process now has another root directory calls for a new plan.
 * Who calls: the agent's main thread, on each exec in a container (`stale`) and every few seconds (`update`).
 * `rootOf(pid)`: the identity (dev:ino) of /proc/<pid>/root, or null when the process is gone.
 */
export class GuardRootTracker {
  readonly #rootOf: (pid: number) => string | null;
  #key = '';
  #given = new Map<string, { readonly pid: number; readonly root: string | null }>();

  constructor(rootOf: (pid: number) => string | null) {
    this.#rootOf = rootOf;
  }

  /** The roots to give the guard now, or null when they and their root directories are those given last. */
  update(processes: Iterable<ProcessInfo>): GuardRootSpec[] | null {
    const roots = containerRootsOf(processes);
    const given = new Map(roots.map((root) => [root.id, { pid: root.pid, root: this.#rootOf(root.pid) }]));
    const key = JSON.stringify(roots.map((root) => [root.id, root.pid, root.pod, given.get(root.id)?.root]));
    if (key === this.#key) return null;
    this.#key = key;
    this.#given = given;
    return roots;
  }

  /** Whether an exec in `containerId` calls for update(): a container not given yet, or one whose root moved since. */
  stale(containerId: string): boolean {
    const given = this.#given.get(containerId);
    return given === undefined || this.#rootOf(given.pid) !== given.root;
  }
}
