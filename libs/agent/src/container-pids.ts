/**
 * Pids as a container sees them → host pids, for pid selectors with `namespace: container` (a kernel pid scope
 * holds host pids). A process is in a container when its cgroup v2 path names one (containerIdFromCgroupPath: the
 * cgroup tells which container) and it is not in the node's initial pid namespace; its pid as the container sees it
 * is the last NSpid entry of /proc/<pid>/status (the pid in its own, innermost, pid namespace; the first entry is the
 * host pid). A container without a pid namespace of its own (hostPID) sees host pids: it has no namespace pids.
 *
 * Who calls: the agent's pid scopes (libs/bpf createPidScopes option `containerPids`) when a container-namespace
 * selector's slot is filled. Read from /proc, so only running processes: a selector names processes that are there.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { containerIdFromCgroupPath, createProcReader, parseCgroupV2Path } from '@stinger/process-cache';

/** A process as this translation needs it. */
export interface NamespacedProcess {
  /** Pid in the initial pid namespace. */
  readonly pid: number;
  /** NSpid of /proc/<pid>/status: the host pid first, then one pid per nested pid namespace. */
  readonly nsPids: readonly number[];
  /** cgroup v2 path ("0::" line of /proc/<pid>/cgroup); null when unknown. */
  readonly cgroupPath: string | null;
}

/** The NSpid line of /proc/<pid>/status; null when absent (a kernel before 4.1) or malformed. */
export function parseNsPids(status: string): number[] | null {
  const line = /^NSpid:\s+([\d\s]+)$/m.exec(status)?.[1];
  if (line === undefined) return null;
  const pids = line.trim().split(/\s+/).map(Number);
  return pids.length > 0 && pids.every((pid) => Number.isInteger(pid) && pid > 0) ? pids : null;
}

/** Host pids of the processes in containers whose pid in their own pid namespace is one of `pids`. Pure. */
export function hostPidsInContainers(pids: readonly number[], processes: Iterable<NamespacedProcess>): number[] {
  const wanted = new Set(pids);
  const found: number[] = [];
  for (const process of processes) {
    if (process.nsPids.length < 2) continue; // the initial pid namespace: not a container's own
    const inner = process.nsPids[process.nsPids.length - 1];
    if (inner === undefined || !wanted.has(inner)) continue;
    if (containerIdFromCgroupPath(process.cgroupPath) === null) continue;
    found.push(process.pid);
  }
  return found.sort((a, b) => a - b);
}

/** Every running process with its NSpid and cgroup, from `procRoot`; processes gone meanwhile are left out. */
export function namespacedProcessesFromProc(procRoot = '/proc'): NamespacedProcess[] {
  const processes: NamespacedProcess[] = [];
  for (const pid of createProcReader({ procRoot }).listPids()) {
    try {
      const nsPids = parseNsPids(readFileSync(join(procRoot, String(pid), 'status'), 'utf8'));
      if (nsPids === null || nsPids.length < 2) continue;
      processes.push({ pid, nsPids, cgroupPath: parseCgroupV2Path(readFileSync(join(procRoot, String(pid), 'cgroup'), 'utf8')) });
    } catch {
      // gone since the listing
    }
  }
  return processes;
}

/** containerPids for createPidScopes: the translation over /proc now. */
export function containerPidsFromProc(pids: readonly number[]): number[] {
  return hostPidsInContainers(pids, namespacedProcessesFromProc());
}
