/**
 * Reading processes from /proc: the start-up scan and the fallback for a process the cache missed.
 * docs/architecture.md: a short-lived process is gone from /proc by the time user space looks, so this is
 * never the primary source — the cache is built from fork/exec/exit events.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

export interface ProcSnapshot {
  readonly pid: number;
  readonly ppid: number;
  /** Process start, CLOCK_BOOTTIME nanoseconds (from clock ticks: 10 ms granularity). */
  readonly startTimeNs: bigint;
  readonly uid: number;
  readonly gid: number;
  readonly binary: string;
  readonly args: readonly string[];
  readonly cwd: string | null;
  /** cgroup v2 path relative to the v2 root ("0::" line), null when absent. */
  readonly cgroupPath: string | null;
}

export interface ProcReader {
  listPids(): number[];
  /** Null when the process is gone or unreadable. */
  read(pid: number): ProcSnapshot | null;
}

export interface ProcReaderOptions {
  readonly procRoot?: string;
  /** sysconf(_SC_CLK_TCK); 100 on every Linux architecture Stinger runs on. */
  readonly clockTicksPerSecond?: number;
}

/** Parses /proc/<pid>/stat; the command name may contain spaces and parentheses. */
export function parseStat(stat: string): { ppid: number; startTicks: bigint } | null {
  const close = stat.lastIndexOf(')');
  if (close < 0) return null;
  const fields = stat.slice(close + 2).split(' ');
  // After "pid (comm) ": state is field 3 → index 0; ppid field 4 → 1; starttime field 22 → 19.
  const ppid = Number(fields[1]);
  const start = fields[19];
  if (!Number.isInteger(ppid) || start === undefined || !/^\d+$/.test(start)) return null;
  return { ppid, startTicks: BigInt(start) };
}

/** The real uid and gid from /proc/<pid>/status. */
export function parseStatusIds(status: string): { uid: number; gid: number } | null {
  const uid = /^Uid:\s+(\d+)/m.exec(status)?.[1];
  const gid = /^Gid:\s+(\d+)/m.exec(status)?.[1];
  return uid !== undefined && gid !== undefined ? { uid: Number(uid), gid: Number(gid) } : null;
}

export function parseCgroupV2Path(cgroup: string): string | null {
  const line = cgroup.split('\n').find((l) => l.startsWith('0::'));
  return line ? line.slice(3) : null;
}

function readOr<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    return fallback;
  }
}

export function createProcReader(options: ProcReaderOptions = {}): ProcReader {
  const { procRoot = '/proc', clockTicksPerSecond = 100 } = options;
  const nsPerTick = BigInt(Math.round(1e9 / clockTicksPerSecond));
  return {
    listPids() {
      return readOr(() => readdirSync(procRoot), [] as string[])
        .filter((name) => /^\d+$/.test(name))
        .map(Number);
    },
    read(pid) {
      const dir = join(procRoot, String(pid));
      const stat = readOr(() => parseStat(readFileSync(join(dir, 'stat'), 'utf8')), null);
      const ids = readOr(() => parseStatusIds(readFileSync(join(dir, 'status'), 'utf8')), null);
      if (!stat || !ids) return null;
      const args = readOr(() => readFileSync(join(dir, 'cmdline'), 'utf8').split('\0'), [] as string[]);
      if (args.at(-1) === '') args.pop();
      // Kernel threads have no exe; use their name in brackets as ps does.
      const binary = readOr(
        () => readlinkSync(join(dir, 'exe')),
        `[${readOr(() => readFileSync(join(dir, 'comm'), 'utf8').trim(), '?')}]`,
      );
      return {
        pid,
        ppid: stat.ppid,
        startTimeNs: stat.startTicks * nsPerTick,
        uid: ids.uid,
        gid: ids.gid,
        binary: binary.replace(/ \(deleted\)$/, ''),
        args: args.slice(1),
        cwd: readOr(() => readlinkSync(join(dir, 'cwd')), null),
        cgroupPath: readOr(() => parseCgroupV2Path(readFileSync(join(dir, 'cgroup'), 'utf8')), null),
      };
    },
  };
}
