/**
 * Runs the real `stinger` command as a user would, against the test run's broker and a topic prefix. It signs with the
 * test process's keys (STINGER_KEYS_DIR = testKeysDir(), shared with `startAgent`) unless `env` names other keys.
 */
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { processEnvironment } from '@stinger/config';
import { testKeysDir } from './keys.ts';

const STINGER = fileURLToPath(new URL('../../libs/cli/bin/stinger.mjs', import.meta.url));

export interface CliResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `timeoutMs`: the command is killed after this long (status null); 60 s unless a command is known to take longer. */
export function runStinger(args: readonly string[], env: Readonly<Record<string, string>>, options: { readonly timeoutMs?: number } = {}): CliResult {
  const result = spawnSync(process.execPath, ['--disable-warning=TimeoutNegativeWarning', STINGER, ...args], {
    env: { ...processEnvironment(), STINGER_KEYS_DIR: testKeysDir(), ...env },
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Starts `stinger` without waiting for it (commands that keep running: --follow); `exited` resolves when it ends. */
export function startStinger(args: readonly string[], env: Readonly<Record<string, string>>): { readonly exited: Promise<CliResult>; stop(): void } {
  const child = spawn(process.execPath, ['--disable-warning=TimeoutNegativeWarning', STINGER, ...args], {
    env: { ...processEnvironment(), STINGER_KEYS_DIR: testKeysDir(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<CliResult>((resolve) => child.once('close', (status) => resolve({ status, stdout, stderr })));
  return { exited, stop: () => void child.kill('SIGINT') };
}
