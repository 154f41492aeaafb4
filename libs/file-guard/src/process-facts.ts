/**
 * What the guard worker reads of a process blocked in open/execve on a marked file: its executable, real uid,
 * whether it runs in a pod, and the syscall it is blocked in (number, arguments, the path string it passed,
 * read from its memory). The process cannot leave the syscall until the worker answers, so /proc/<pid>/syscall
 * shows that very call. Every reader returns null when the process is gone or /proc refuses.
 */
import { closeSync, lstatSync, openSync, readFileSync, readlinkSync, readSync } from 'node:fs';
import { AT_FDCWD } from './reached-by.ts';

export function readExecutable(pid: number): string | null {
  try {
    return readlinkSync(`/proc/${pid}/exe`).replace(/ \(deleted\)$/, '');
  } catch {
    return null;
  }
}

export function readRealUid(pid: number): number | null {
  try {
    const match = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

/** Pod cgroup roots, as kubelet names them with the systemd and the cgroupfs drivers. */
const POD_CGROUP_SEGMENT = /(^|\/)(kubepods\.slice|kubepods)(\/|$)/;

/** Whether the process's cgroup v2 path lies under a pod cgroup root. */
export function readInPod(pid: number): boolean | null {
  try {
    const text = readFileSync(`/proc/${pid}/cgroup`, 'latin1');
    const unified = /^0::(.*)$/m.exec(text)?.[1];
    return unified === undefined ? null : POD_CGROUP_SEGMENT.test(unified);
  } catch {
    return null;
  }
}

/** Syscall numbers by architecture: the calls that open a file by name, and execve. */
const SYSCALLS: Readonly<Record<string, Readonly<Record<number, { name: string; dirfdArg: number | null; pathArg: number; flagsArg: number | null }>>>> = {
  x64: {
    2: { name: 'open', dirfdArg: null, pathArg: 0, flagsArg: 1 },
    85: { name: 'creat', dirfdArg: null, pathArg: 0, flagsArg: null },
    257: { name: 'openat', dirfdArg: 0, pathArg: 1, flagsArg: 2 },
    437: { name: 'openat2', dirfdArg: 0, pathArg: 1, flagsArg: null },
    59: { name: 'execve', dirfdArg: null, pathArg: 0, flagsArg: null },
    322: { name: 'execveat', dirfdArg: 0, pathArg: 1, flagsArg: null },
  },
  arm64: {
    56: { name: 'openat', dirfdArg: 0, pathArg: 1, flagsArg: 2 },
    437: { name: 'openat2', dirfdArg: 0, pathArg: 1, flagsArg: null },
    221: { name: 'execve', dirfdArg: null, pathArg: 0, flagsArg: null },
    281: { name: 'execveat', dirfdArg: 0, pathArg: 1, flagsArg: null },
  },
};

const O_CREAT_WRITE_FLAGS = 0o100 | 0o1000 | 0o2000; // O_CREAT | O_TRUNC | O_APPEND
const CREAT_FLAGS = 0o1 | 0o100 | 0o1000; // creat(): O_WRONLY | O_CREAT | O_TRUNC

/** The call a process is blocked in, with the path it passed. */
export interface BlockedCall {
  readonly syscall: string;
  /** The path string; null when it could not be read from the process's memory. */
  readonly path: string | null;
  readonly dirfd: number;
  /** open flags (O_*), when the call carries them; null otherwise. */
  readonly flags: number | null;
}

export function readBlockedCall(pid: number): BlockedCall | null {
  let fields: string[];
  try {
    fields = readFileSync(`/proc/${pid}/syscall`, 'latin1').trim().split(' ');
  } catch {
    return null;
  }
  const call = SYSCALLS[process.arch]?.[Number(fields[0])];
  if (call === undefined) return null;
  const arg = (index: number): bigint => BigInt(fields[1 + index] ?? '0');
  const path = readUserString(pid, arg(call.pathArg));
  const dirfd = call.dirfdArg === null ? AT_FDCWD : Number(BigInt.asIntN(32, arg(call.dirfdArg)));
  let flags: number | null = call.flagsArg === null ? null : Number(arg(call.flagsArg) & 0xffffffffn);
  if (call.name === 'creat') flags = CREAT_FLAGS;
  if (call.name === 'openat2') flags = readUserLong(pid, arg(2));
  return { syscall: call.name, path, dirfd, flags };
}

/** Read or write access asked by open flags (O_PATH opens raise no permission event). */
export function accessOf(flags: number): { read: boolean; write: boolean } {
  const mode = flags & 3;
  return { read: mode === 0 || mode === 2, write: mode === 1 || mode === 2 || (flags & O_CREAT_WRITE_FLAGS) !== 0 };
}

const PAGE = 4096;

/** A NUL-terminated string at `address` in the process's memory (at most 4096 bytes); null when unreadable. */
export function readUserString(pid: number, address: bigint): string | null {
  if (address === 0n) return null;
  const bytes = readUserBytes(pid, address, PAGE);
  if (bytes === null) return null;
  const end = bytes.indexOf(0);
  return end < 0 ? null : bytes.toString('utf8', 0, end);
}

function readUserLong(pid: number, address: bigint): number | null {
  const bytes = readUserBytes(pid, address, 8);
  return bytes === null || bytes.length < 8 ? null : Number(bytes.readBigUInt64LE(0) & 0xffffffffn);
}

/** Up to `length` bytes, stopping at the first unreadable page. */
function readUserBytes(pid: number, address: bigint, length: number): Buffer | null {
  let fd: number;
  try {
    fd = openSync(`/proc/${pid}/mem`, 'r');
  } catch {
    return null;
  }
  try {
    const buffer = Buffer.alloc(length);
    // The first read stops at the page boundary: the rest of the page may be unmapped.
    const firstChunk = Math.min(length, PAGE - Number(address % BigInt(PAGE)));
    let got = readSync(fd, buffer, 0, firstChunk, address);
    if (got === firstChunk && got < length && buffer.subarray(0, got).indexOf(0) < 0) {
      try {
        got += readSync(fd, buffer, got, length - got, address + BigInt(got));
      } catch {
        // the next page is not mapped: the string ends in the first
      }
    }
    return buffer.subarray(0, got);
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

/** `seen` (a path in the agent's view) in the root whose prefix in that view is given; unchanged outside it. */
export function withinRoot(seen: string, prefix: string): string {
  return prefix !== '' && seen.startsWith(`${prefix}/`) ? seen.slice(prefix.length) : seen;
}

/** The directory a relative path of `pid` starts from: its cwd, or what `dirfd` names, in its own namespace. */
export function readBaseDirectory(pid: number, dirfd: number, root: string): string | null {
  try {
    return withinRoot(readlinkSync(dirfd === AT_FDCWD ? `/proc/${pid}/cwd` : `/proc/${pid}/fd/${dirfd}`), root);
  } catch {
    return null;
  }
}

/**
 * Follows symlinks in `path` as a process whose root is `root` would ('' for the host): absolute link targets
 * start again from that root, not from the agent's. Null when a component is missing or links loop.
 */
export function resolveInRoot(root: string, path: string): string | null {
  const pending = path.split('/').filter((part) => part !== '');
  const resolved: string[] = [];
  for (let links = 0; pending.length > 0; ) {
    const part = pending.shift() as string;
    if (part === '.') continue;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const candidate = `${root}/${[...resolved, part].join('/')}`;
    try {
      if (!lstatSync(candidate).isSymbolicLink()) {
        resolved.push(part);
        continue;
      }
      if (++links > 40) return null;
      const target = readlinkSync(candidate);
      if (target.startsWith('/')) resolved.length = 0;
      pending.unshift(...target.split('/').filter((p) => p !== ''));
    } catch {
      return null;
    }
  }
  return `/${resolved.join('/')}`;
}
