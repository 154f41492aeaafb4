/**
 * Helpers for the daemons Stinger starts and stops itself (the local Kafka broker, etcd, kube-apiserver,
 * services under `stinger up`): liveness from /proc, signalling that tolerates a process already gone,
 * bounded waits, and the tail of a log file for error messages. Linux only (/proc).
 */
import { readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/** A zombie counts as gone: it holds no ports and only waits to be reaped. */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** The process's argv (from /proc/<pid>/cmdline); empty when it is gone. */
export function commandLineOf(pid: number): string[] {
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    if (args.at(-1) === '') args.pop();
    return args;
  } catch {
    return [];
  }
}

/** Sends `name` to `pid`; a process that is already gone is not an error. */
export function signalProcess(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** Resolves true once `pid` is gone, false when it is still alive after `timeoutMs`. */
export async function pollUntilGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await sleep(100);
  }
  return true;
}

/** True when `promise` settles within `timeoutMs`. */
export async function settlesWithin(promise: Promise<void>, timeoutMs: number): Promise<boolean> {
  const timer = new AbortController();
  const result = await Promise.race([promise.then(() => true), sleep(timeoutMs, false, { signal: timer.signal }).catch(() => false)]);
  timer.abort();
  return result;
}

/** The last `bytes` of a file as text ('' when it cannot be read): for quoting a daemon's log in an error. */
export async function readFileTail(file: string, bytes: number): Promise<string> {
  const handle = await open(file, 'r').catch(() => null);
  if (!handle) return '';
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, bytes);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    return buffer.toString('utf8');
  } finally {
    await handle.close();
  }
}
