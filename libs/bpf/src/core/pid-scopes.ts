/**
 * Pid scopes: the processes a pid selector names (spec.selector.pids), kept in the kernel so that the rules the
 * kernel decides for them (exec, file and connect rules with a `pidScope` slot) are decided at the syscall
 * (pid_scope_tgids, pid_scope_follow and pid_scope_full in bpf/lib/stinger_maps.h).
 *
 * Each distinct selector (its pids and followChildren) gets one of PID_SCOPE_SLOTS slots while any holder uses it.
 * Taking a slot writes its members: the named processes, and with followChildren their descendants alive now (from
 * /proc, read twice so that a child forked while the first read ran is not missed); from then on the kernel adds
 * each child at fork (sched_process_fork) and drops every process at exit. A named pid that is not running is
 * skipped: pids name processes, and a process started later under that pid is not the one the selector named.
 * Pids as containers see them (namespace `container`) are translated to host pids when the slot is taken, by the
 * `containerPids` the agent gives (it knows which cgroups are containers'); from then on the scope is host pids.
 * The maps are shared like the ring buffer, so one set of scopes serves every sensor joined to `sensor`.
 *
 * Who calls: the agent's kernel maps, when a pid-scoped rule enters or leaves the kernel. Not thread-safe; one
 * PidScopes per agent (it owns the maps).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { BpfError } from './errors.ts';
import { readPerCpuCounter } from './ring-buffer-reader.ts';
import { u32Key, tgidKey } from './map-keys.ts';
import { PID_SCOPE_SLOTS } from './rule-scope.ts';
import type { Sensor } from './sensor.ts';

/** Entries pid_scope_tgids holds (PID_SCOPE_TGIDS_MAX): members of all scopes together. */
export const PID_SCOPE_TGIDS_MAX = 16384;

export interface PidScopeSpec {
  /** Process ids in the pid namespace `namespace` names. */
  readonly pids: readonly number[];
  /** The named processes' descendants are members too. */
  readonly followChildren: boolean;
  /** host (the default): `pids` are in the initial pid namespace; container: as each container sees them. */
  readonly namespace?: 'host' | 'container';
}

export interface PidScopes {
  /**
   * The slot of `spec` for `holder` (any string naming who uses it, e.g. a rule's map entry); the first holder of a
   * selector takes a free slot and writes its members. Throws BpfError when all slots are taken.
   */
  acquire(holder: string, spec: PidScopeSpec): number;
  /** Lets go of whatever `holder` held; the last holder of a slot frees it and removes its members. */
  release(holder: string): void;
  /** The processes of a slot in the kernel map now. */
  members(slot: number): number[];
  /** Children of members the kernel did not add because the map was full (pid_scope_full). */
  childrenNotAdded(): bigint;
}

export interface CreatePidScopesOptions {
  /** Every running process and its parent (tgid → ppid). Default: /proc (parentPidsFromProc). */
  readonly parentPids?: () => ReadonlyMap<number, number>;
  /**
   * Host pids of the running processes in containers whose pid in their own pid namespace is one of `pids`
   * (the agent reads /proc/<pid>/status NSpid and tells containers by cgroup). Absent: a container-namespace
   * selector is refused with a BpfError.
   */
  readonly containerPids?: (pids: readonly number[]) => number[];
}

/** tgid → parent tgid of every running process, from /proc/<pid>/stat (field 4). Processes gone meanwhile are left out. */
export function parentPidsFromProc(): Map<number, number> {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parents.set(pid, Number(fields[1]));
    } catch {
      // gone since the listing
    }
  }
  return parents;
}

/** PF_EXITING in a task's flags (/proc/<pid>/stat field 9): set by do_exit before the sched_process_exit tracepoint. */
const PF_EXITING = 0x4;

/**
 * Whether a process whose /proc/<pid>/stat reads `stat` has not begun its exit, so its exit (which drops it from the
 * map, bpf_exit.c) is still to come. A zombie has exited; so has a task whose do_exit set PF_EXITING, whose exit
 * tracepoint may already have run while its state still reads R or D (the window until it becomes a zombie, long
 * enough under a slow emulated CPU to leave a member written just then in the map after its exit). Pure.
 */
export function statShowsRunning(stat: string): boolean {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  const flags = Number(fields[6]);
  return state !== 'Z' && state !== 'X' && Number.isInteger(flags) && (flags & PF_EXITING) === 0;
}

/** Whether the process has not begun to exit (statShowsRunning); false when it is gone. */
function running(pid: number): boolean {
  try {
    return statShowsRunning(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** The members of a selector among `parents`' processes: the running named pids and, with followChildren, their descendants. Pure. */
export function scopeMembers(spec: PidScopeSpec, parents: ReadonlyMap<number, number>): Set<number> {
  const members = new Set(spec.pids.filter((pid) => parents.has(pid)));
  if (!spec.followChildren || members.size === 0) return members;
  const children = new Map<number, number[]>();
  for (const [pid, ppid] of parents) {
    const list = children.get(ppid);
    if (list) list.push(pid);
    else children.set(ppid, [pid]);
  }
  const queue = [...members];
  for (let next = queue.pop(); next !== undefined; next = queue.pop()) {
    for (const child of children.get(next) ?? []) {
      if (members.has(child)) continue;
      members.add(child);
      queue.push(child);
    }
  }
  return members;
}

function specKey(spec: PidScopeSpec): string {
  return JSON.stringify([[...new Set(spec.pids)].sort((a, b) => a - b), spec.followChildren, spec.namespace ?? 'host']);
}

function validateSpec(spec: PidScopeSpec): void {
  if (!Array.isArray(spec.pids) || spec.pids.length === 0) throw new BpfError('pid scope: pids must be a non-empty array');
  for (const pid of spec.pids) tgidKey(pid); // throws for anything that is not a process id
  if (typeof spec.followChildren !== 'boolean') throw new BpfError(`pid scope: followChildren must be a boolean, got ${typeof spec.followChildren}`);
  if (spec.namespace !== undefined && spec.namespace !== 'host' && spec.namespace !== 'container') {
    throw new BpfError(`pid scope: namespace must be host or container, got ${JSON.stringify(spec.namespace)}`);
  }
}

export function createPidScopes(sensor: Sensor, options: CreatePidScopesOptions = {}): PidScopes {
  const tgids = sensor.sharedMap('pid_scope_tgids');
  const follow = sensor.sharedMap('pid_scope_follow');
  const full = sensor.sharedMap('pid_scope_full');
  const parentPids = options.parentPids ?? parentPidsFromProc;
  const { containerPids } = options;
  const slots = new Map<string, { readonly slot: number; readonly holders: Set<string> }>();
  const holderSpec = new Map<string, string>();
  let followMask = 0n;

  const readScopes = (tgid: number): bigint => {
    const value = new Uint8Array(8);
    return tgids.lookup(tgidKey(tgid), value) ? new DataView(value.buffer).getBigUint64(0, true) : 0n;
  };
  const writeScopes = (tgid: number, scopes: bigint): void => {
    if (scopes === 0n) {
      tgids.delete(tgidKey(tgid));
      return;
    }
    const value = new Uint8Array(8);
    new DataView(value.buffer).setBigUint64(0, scopes, true);
    tgids.update(tgidKey(tgid), value);
  };
  const writeFollow = (): void => {
    const value = new Uint8Array(8);
    new DataView(value.buffer).setBigUint64(0, followMask, true);
    follow.update(u32Key(0), value);
  };
  const allTgids = (): number[] => tgids.keys().map((key) => new DataView(key.buffer, key.byteOffset).getUint32(0, true));

  /**
   * Adds a process read from /proc; one that began its exit meanwhile is taken out again (its exit may have come
   * first). Written before the check: a process seen not yet exiting after the write drops the entry at its exit.
   */
  const join = (pid: number, bit: bigint): void => {
    writeScopes(pid, readScopes(pid) | bit);
    if (!running(pid)) writeScopes(pid, readScopes(pid) & ~bit);
  };

  const fill = (slot: number, spec: PidScopeSpec): void => {
    const bit = 1n << BigInt(slot);
    if (spec.followChildren) {
      // Children forked from now on inherit the bit in the kernel; those forked before are found in /proc.
      followMask |= bit;
      writeFollow();
    }
    const hostPids = spec.namespace === 'container' ? (containerPids?.(spec.pids) ?? []) : spec.pids;
    const named = scopeMembers({ pids: hostPids, followChildren: false }, parentPids());
    for (const pid of named) join(pid, bit);
    if (!spec.followChildren) return;
    for (let pass = 0; pass < 2; pass++) {
      for (const pid of scopeMembers({ pids: hostPids, followChildren: true }, parentPids())) if ((readScopes(pid) & bit) === 0n) join(pid, bit);
    }
  };

  const empty = (slot: number): void => {
    const bit = 1n << BigInt(slot);
    followMask &= ~bit;
    writeFollow();
    for (const tgid of allTgids()) {
      const scopes = readScopes(tgid);
      if ((scopes & bit) !== 0n) writeScopes(tgid, scopes & ~bit);
    }
  };

  const release = (holder: string): void => {
    const key = holderSpec.get(holder);
    if (key === undefined) return;
    holderSpec.delete(holder);
    const entry = slots.get(key);
    if (!entry) return;
    entry.holders.delete(holder);
    if (entry.holders.size > 0) return;
    slots.delete(key);
    empty(entry.slot);
  };

  return {
    acquire(holder, spec) {
      validateSpec(spec);
      if (spec.namespace === 'container' && !containerPids) throw new BpfError('pid scope: pids in container pid namespaces need containerPids (which processes are whose), which these scopes were not given');
      const key = specKey(spec);
      const held = holderSpec.get(holder) === key ? slots.get(key) : undefined;
      if (held) return held.slot;
      release(holder);
      let entry = slots.get(key);
      if (!entry) {
        const used = new Set([...slots.values()].map((s) => s.slot));
        const slot = Array.from({ length: PID_SCOPE_SLOTS }, (_, i) => i).find((i) => !used.has(i));
        if (slot === undefined) throw new BpfError(`pid scopes: all ${PID_SCOPE_SLOTS} slots are taken (one per distinct pid selector on the node)`);
        entry = { slot, holders: new Set() };
        slots.set(key, entry);
        fill(slot, spec);
      }
      entry.holders.add(holder);
      holderSpec.set(holder, key);
      return entry.slot;
    },
    release,
    members(slot) {
      const bit = 1n << BigInt(slot);
      return allTgids()
        .filter((tgid) => (readScopes(tgid) & bit) !== 0n)
        .sort((a, b) => a - b);
    },
    childrenNotAdded: () => readPerCpuCounter(full),
  };
}
