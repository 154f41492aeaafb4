/**
 * ProcessCache: what the agent knows about every process on the node, built from fork/exec/exit/chdir
 * events plus a /proc scan at start for processes already running.
 *
 * Contract:
 * - `execId` is unique per execution: `<node>:<time ns>:<pid>` with the exec time (or, for processes
 *   found by the scan, their start time). A fork gets its own execId from the fork time.
 * - `parentExecId` is the execId the parent process had when it forked or when the child exec'd.
 * - cwd is inherited at fork, kept across exec, updated by chdir (relative chdirs resolve against it).
 * - Memory is bounded: an exited process stays `exitedRetentionNs` (kernel time, 2 minutes by default) so late
 *   events of a just-exited process, and of the children it left, still resolve it, and at most `maxExited`
 *   exited entries stay whatever their age. Only a time bound keeps memory flat under a steady process rate: with
 *   the count alone a node running 25 short processes a second kept 20,000 exited entries (with the Process objects
 *   and encoded bytes the agent keeps per entry, ~25 MiB of heap) and reached that bound only after 13 minutes.
 *   Live entries are capped at `maxLive`, and `sweep()` drops live entries whose process is gone (a lost exit
 *   record).
 * - A lookup of an unknown pid counts a miss and falls back to /proc (the process may predate the
 *   sensor or its fork record may have been lost); when /proc has nothing either, null.
 * - `get` and `lookup` take the cgroup id a record was made in (bpf_get_current_cgroup_id), when the caller has one:
 *   a process moved into another cgroup without an exec follows it (see `#follow`).
 */
import { containerIdFromCgroupPath } from './container-id.ts';
import { resolvePath } from './paths.ts';
import type { ProcReader, ProcSnapshot } from './proc-reader.ts';

export interface ProcessInfo {
  readonly execId: string;
  readonly pid: number;
  readonly ppid: number;
  readonly uid: number;
  readonly gid: number;
  readonly binary: string;
  /** Arguments after argv[0]. */
  readonly args: readonly string[];
  readonly cwd: string | null;
  /** CLOCK_BOOTTIME ns at which the process (not this execution) started. */
  readonly startTimeNs: bigint;
  readonly cgroupId: bigint | null;
  readonly cgroupPath: string | null;
  readonly containerId: string | null;
  readonly parentExecId: string | null;
  /** Boot ns of the exit, null while running. */
  readonly exitTimeNs: bigint | null;
}

export interface ProcessCacheOptions {
  readonly nodeName: string;
  readonly procReader: ProcReader;
  /** cgroup id → cgroup path (relative to the v2 root); null when unknown. */
  readonly cgroupPathOf?: (cgroupId: bigint) => string | null;
  readonly maxLive?: number;
  readonly maxExited?: number;
  /** How long (kernel time, ns) an exited process stays resolvable; 2 minutes by default. */
  readonly exitedRetentionNs?: bigint;
}

export interface ProcessCacheStats {
  readonly live: number;
  readonly exited: number;
  readonly misses: number;
  readonly evicted: number;
}

export interface ForkInput {
  readonly parentPid: number;
  readonly childPid: number;
  readonly timeNs: bigint;
  /** The cgroup the fork record was made in (the parent's, which the child starts in), when known. */
  readonly parentCgroupId?: bigint;
}

export interface ExecInput {
  readonly pid: number;
  readonly timeNs: bigint;
  readonly binary: string;
  /** argv as the kernel captured it, argv[0] included. */
  readonly argv: readonly string[];
  readonly uid: number;
  readonly gid: number;
  readonly cgroupId: bigint;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export class ProcessCache {
  readonly #nodeName: string;
  readonly #procReader: ProcReader;
  readonly #cgroupPathOf: (cgroupId: bigint) => string | null;
  readonly #maxLive: number;
  readonly #maxExited: number;
  readonly #exitedRetentionNs: bigint;
  readonly #live = new Map<number, Mutable<ProcessInfo>>();
  // Insertion-ordered: the first key is the least recently exited. Keyed by execId, since pids recycle.
  readonly #exited = new Map<string, ProcessInfo>();
  readonly #exitedByPid = new Map<number, string>();
  /**
   * Entries whose cgroup id had no path yet when they were made (a container's cgroup created moments before its
   * first exec, inside the resolver's rewalk interval): they carry the path they had before, and `get` resolves
   * their id again until it is known. Their forks inherit the mark.
   */
  readonly #unresolvedCgroup = new WeakSet<ProcessInfo>();
  #misses = 0;
  #evicted = 0;

  constructor(options: ProcessCacheOptions) {
    this.#nodeName = options.nodeName;
    this.#procReader = options.procReader;
    this.#cgroupPathOf = options.cgroupPathOf ?? (() => null);
    this.#maxLive = options.maxLive ?? 200_000;
    this.#maxExited = options.maxExited ?? 20_000;
    this.#exitedRetentionNs = options.exitedRetentionNs ?? 120_000_000_000n;
  }

  execIdOf(timeNs: bigint, pid: number): string {
    return `${this.#nodeName}:${timeNs}:${pid}`;
  }

  /** Adds every running process from /proc; returns how many. Called once, before events flow. */
  scan(): number {
    let added = 0;
    const snapshots = this.#procReader
      .listPids()
      .map((pid) => this.#procReader.read(pid))
      .filter((s): s is ProcSnapshot => s !== null)
      // Parents first, so children find their parent's execId.
      .sort((a, b) => (a.startTimeNs < b.startTimeNs ? -1 : a.startTimeNs > b.startTimeNs ? 1 : a.pid - b.pid));
    for (const snapshot of snapshots) {
      if (this.#live.has(snapshot.pid)) continue;
      this.#put(this.#fromSnapshot(snapshot));
      added += 1;
    }
    return added;
  }

  fork({ parentPid, childPid, timeNs, parentCgroupId }: ForkInput): ProcessInfo {
    const parent = this.lookup(parentPid, parentCgroupId);
    const child: Mutable<ProcessInfo> = {
      execId: this.execIdOf(timeNs, childPid),
      pid: childPid,
      ppid: parentPid,
      uid: parent?.uid ?? 0,
      gid: parent?.gid ?? 0,
      binary: parent?.binary ?? '',
      args: parent?.args ?? [],
      cwd: parent?.cwd ?? null,
      startTimeNs: timeNs,
      cgroupId: parent?.cgroupId ?? null,
      cgroupPath: parent?.cgroupPath ?? null,
      containerId: parent?.containerId ?? null,
      parentExecId: parent?.execId ?? null,
      exitTimeNs: null,
    };
    if (parent && this.#unresolvedCgroup.has(parent)) this.#unresolvedCgroup.add(child);
    this.#put(child);
    return child;
  }

  exec(input: ExecInput): ProcessInfo {
    const before = this.lookup(input.pid);
    const parent = before ? this.get(before.ppid) : undefined;
    const resolved = this.#cgroupPathOf(input.cgroupId);
    const cgroupPath = resolved ?? before?.cgroupPath ?? null;
    const info: Mutable<ProcessInfo> = {
      execId: this.execIdOf(input.timeNs, input.pid),
      pid: input.pid,
      ppid: before?.ppid ?? 0,
      uid: input.uid,
      gid: input.gid,
      binary: input.binary,
      args: input.argv.slice(1),
      cwd: before?.cwd ?? null,
      startTimeNs: before?.startTimeNs ?? input.timeNs,
      cgroupId: input.cgroupId,
      cgroupPath,
      containerId: containerIdFromCgroupPath(cgroupPath),
      parentExecId: parent?.execId ?? before?.parentExecId ?? null,
      exitTimeNs: null,
    };
    if (resolved === null) this.#unresolvedCgroup.add(info);
    this.#put(info);
    return info;
  }

  /**
   * Marks the process exited; it stays resolvable for `exitedRetentionNs` after `timeNs` (while at most `maxExited`
   * exited entries are kept). Entries that exited longer ago than that before this exit go now.
   */
  exit(pid: number, timeNs: bigint): ProcessInfo | null {
    const info = this.#live.get(pid);
    if (!info) return null;
    this.#live.delete(pid);
    info.exitTimeNs = timeNs;
    this.#exited.set(info.execId, info);
    this.#exitedByPid.set(pid, info.execId);
    while (this.#exited.size > this.#maxExited) this.#evictOldestExited();
    // Exits come in kernel-time order (near enough: records of several CPUs interleave by microseconds), so the
    // first entries are the oldest.
    for (const oldest of this.#exited.values()) {
      if (oldest.exitTimeNs === null || timeNs - oldest.exitTimeNs <= this.#exitedRetentionNs) break;
      this.#evictOldestExited();
    }
    return info;
  }

  /** A successful chdir/fchdir: `path` is what the process passed (relative paths resolve). */
  chdir(pid: number, path: string): void {
    const info = this.#live.get(pid);
    if (!info) return;
    info.cwd = resolvePath(info.cwd, path) ?? info.cwd;
  }

  /**
   * The running process, or the most recently exited one with this pid; no /proc fallback. `cgroupId`: the cgroup
   * the kernel reported with the caller's record, which the entry then follows (see `#follow`).
   */
  get(pid: number, cgroupId?: bigint): ProcessInfo | undefined {
    const live = this.#live.get(pid);
    if (live) return this.#resolveCgroup(this.#follow(live, cgroupId));
    const execId = this.#exitedByPid.get(pid);
    const exited = execId ? this.#exited.get(execId) : undefined;
    return exited ? this.#resolveCgroup(this.#follow(exited as Mutable<ProcessInfo>, cgroupId)) : undefined;
  }

  /**
   * A record's cgroup id that differs from the entry's: the process was moved into another cgroup without an exec,
   * and the entry takes the new cgroup (its forks from then on inherit it). runc does this for `kubectl exec`: its
   * init process, forked in the runtime's cgroup on the host, is written into the running container's cgroup.procs
   * and then execs the command, so a kernel kill at that execve (no exec record follows it) was reported with the
   * host cgroup the fork gave it. The same for a shell that writes itself into a cgroup.procs. An id the resolver
   * does not know yet keeps the path the entry had, marked for `#resolveCgroup`. 0 (no id) changes nothing.
   */
  #follow(info: Mutable<ProcessInfo>, cgroupId: bigint | undefined): Mutable<ProcessInfo> {
    if (cgroupId === undefined || cgroupId === 0n || info.cgroupId === cgroupId) return info;
    info.cgroupId = cgroupId;
    const path = this.#cgroupPathOf(cgroupId);
    if (path === null) {
      this.#unresolvedCgroup.add(info);
      return info;
    }
    info.cgroupPath = path;
    info.containerId = containerIdFromCgroupPath(path);
    this.#unresolvedCgroup.delete(info);
    return info;
  }

  /** Gives an entry the path of its cgroup id once the resolver knows it (see #unresolvedCgroup). */
  #resolveCgroup(info: Mutable<ProcessInfo>): ProcessInfo {
    if (info.cgroupId === null || !this.#unresolvedCgroup.has(info)) return info;
    const path = this.#cgroupPathOf(info.cgroupId);
    if (path !== null) {
      info.cgroupPath = path;
      info.containerId = containerIdFromCgroupPath(path);
      this.#unresolvedCgroup.delete(info);
    }
    return info;
  }

  /** Like get, but a miss is counted and answered from /proc when the process is still there. */
  lookup(pid: number, cgroupId?: bigint): ProcessInfo | null {
    const known = this.get(pid, cgroupId);
    if (known) return known;
    if (pid <= 0) return null;
    this.#misses += 1;
    const snapshot = this.#procReader.read(pid);
    if (!snapshot) return null;
    const info = this.#follow(this.#fromSnapshot(snapshot), cgroupId);
    this.#put(info);
    return info;
  }

  /** Drops live entries whose process no longer exists (their exit record was lost). */
  sweep(isAlive: (pid: number) => boolean): number {
    let dropped = 0;
    for (const [pid, info] of this.#live) {
      if (!isAlive(pid)) {
        this.exit(pid, info.exitTimeNs ?? 0n);
        dropped += 1;
      }
    }
    return dropped;
  }

  /** The processes running as far as the cache knows (what scan found, and what fork/exec added since). */
  live(): IterableIterator<ProcessInfo> {
    return this.#live.values();
  }

  stats(): ProcessCacheStats {
    return { live: this.#live.size, exited: this.#exited.size, misses: this.#misses, evicted: this.#evicted };
  }

  #fromSnapshot(snapshot: ProcSnapshot): Mutable<ProcessInfo> {
    const parent = this.get(snapshot.ppid);
    return {
      execId: this.execIdOf(snapshot.startTimeNs, snapshot.pid),
      pid: snapshot.pid,
      ppid: snapshot.ppid,
      uid: snapshot.uid,
      gid: snapshot.gid,
      binary: snapshot.binary,
      args: snapshot.args,
      cwd: snapshot.cwd,
      startTimeNs: snapshot.startTimeNs,
      cgroupId: null,
      cgroupPath: snapshot.cgroupPath,
      containerId: containerIdFromCgroupPath(snapshot.cgroupPath),
      parentExecId: parent?.execId ?? null,
      exitTimeNs: null,
    };
  }

  #put(info: Mutable<ProcessInfo>): void {
    this.#live.delete(info.pid);
    this.#live.set(info.pid, info);
    while (this.#live.size > this.#maxLive) {
      const oldest = this.#live.keys().next().value;
      if (oldest === undefined) break;
      this.#live.delete(oldest);
      this.#evicted += 1;
    }
  }

  #evictOldestExited(): void {
    const oldest = this.#exited.keys().next().value;
    if (oldest === undefined) return;
    const info = this.#exited.get(oldest);
    this.#exited.delete(oldest);
    if (info && this.#exitedByPid.get(info.pid) === oldest) this.#exitedByPid.delete(info.pid);
    this.#evicted += 1;
  }
}
