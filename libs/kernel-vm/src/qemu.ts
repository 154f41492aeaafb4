/**
 * Boots the kernel under qemu (TCG: KVM hangs after the BIOS on these machines, and TCG needs nothing from the host
 * kernel) and runs one run script in it; streams the guest's console from the moment /init starts the run script,
 * and returns the exit status the script wrote. One VM at a time: the caller waits for the returned promise.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '@stinger/log';
import { BEGIN_MARKER, HOST_ROOT_TAG, isPlainRunDir, RUN_DIR_TAG, RUN_DIR_VARIABLE, STATUS_FILE } from './guest-init.ts';

export interface QemuOptions {
  readonly kernel: string;
  readonly initramfs: string;
  /** The host directory mounted writable at the same path in the guest. */
  readonly runDir: string;
  readonly memoryMiB: number;
}

/**
 * qemu's arguments: no firmware extras, no network, no display, the serial console on stdio; the host's root
 * shared read-only (multidevs=remap: the host root spans several file systems, whose inode numbers would collide),
 * the run directory writable. panic=-1 with -no-reboot turns a guest panic into qemu exiting.
 */
export function qemuArguments(options: QemuOptions): string[] {
  if (!isPlainRunDir(options.runDir)) throw new Error(`run directory must be an absolute path without spaces or quotes: "${options.runDir}"`);
  return [
    '-machine', 'accel=tcg',
    '-cpu', 'max',
    '-smp', '1',
    '-m', String(options.memoryMiB),
    '-nodefaults',
    '-no-user-config',
    '-display', 'none',
    '-serial', 'stdio',
    '-no-reboot',
    '-kernel', options.kernel,
    '-initrd', options.initramfs,
    '-append', `console=ttyS0 quiet loglevel=3 panic=-1 ${RUN_DIR_VARIABLE}=${options.runDir}`,
    '-virtfs', `local,path=/,mount_tag=${HOST_ROOT_TAG},security_model=none,readonly=on,multidevs=remap`,
    '-virtfs', `local,path=${options.runDir},mount_tag=${RUN_DIR_TAG},security_model=none,multidevs=remap`,
  ];
}

export interface RunVmOptions extends QemuOptions {
  readonly qemu: string;
  readonly timeoutMs: number;
  readonly logger: Logger;
  /** Receives the guest's console output from the begin marker on, in chunks. */
  readonly write: (text: string) => void;
}

export interface VmRun {
  /** The run script's exit status; null when the guest never wrote one (boot failure, panic, timeout). */
  readonly status: number | null;
  /** Why there is no status, with the console's boot output when the run script never started. */
  readonly failure: string | null;
  readonly seconds: number;
}

/**
 * Splits the console stream at BEGIN_MARKER: what comes before is held back (firmware escape codes, boot), what
 * comes after goes to `write`, without the serial line's carriage returns.
 */
export function createConsoleFilter(write: (text: string) => void): { push(chunk: string): void; started(): boolean; held(): string } {
  let held = '';
  let started = false;
  return {
    push(chunk: string): void {
      // The serial line ends lines with CRLF, and a chunk may end between the two: every CR goes.
      const text = chunk.replaceAll('\r', '');
      if (started) {
        write(text);
        return;
      }
      held += text;
      const at = held.indexOf(BEGIN_MARKER);
      if (at < 0) return;
      started = true;
      write(held.slice(at));
      held = held.slice(0, at);
    },
    started: () => started,
    held: () => held,
  };
}

function readStatus(runDir: string): number | null {
  try {
    const value = Number(readFileSync(join(runDir, STATUS_FILE), 'utf8').trim());
    return Number.isInteger(value) ? value : null;
  } catch {
    return null;
  }
}

export function runVm(options: RunVmOptions): Promise<VmRun> {
  const started = performance.now();
  const args = qemuArguments(options);
  options.logger.debug({ qemu: options.qemu, args }, 'starting the VM');
  return new Promise((resolve, reject) => {
    const child = spawn(options.qemu, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const filter = createConsoleFilter(options.write);
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => filter.push(chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot start ${options.qemu}: ${error.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const seconds = (performance.now() - started) / 1000;
      const status = readStatus(options.runDir);
      if (status !== null && !timedOut) {
        resolve({ status, failure: null, seconds });
        return;
      }
      const how = timedOut ? `timed out after ${options.timeoutMs / 1000} s` : `qemu exited (${signal ?? code}) without a test status`;
      const boot = filter.started() ? '' : `\nthe run script never started; console:\n${filter.held().slice(-4000)}`;
      const qemuErrors = stderr.trim() === '' ? '' : `\nqemu: ${stderr.trim().slice(-2000)}`;
      resolve({ status: null, failure: `${how}${boot}${qemuErrors}`, seconds });
    });
  });
}
