/**
 * Runs the real `stinger` command as a user would, against the test run's broker and a topic prefix. It signs with the
 * test process's keys (STINGER_KEYS_DIR = testKeysDir(), shared with `startAgent`) unless `env` names other keys.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { processEnvironment } from '@stinger/config';
import { testKeysDir } from './keys.ts';

const STINGER = fileURLToPath(new URL('../../libs/cli/bin/stinger.mjs', import.meta.url));

export interface CliResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function runStinger(args: readonly string[], env: Readonly<Record<string, string>>): CliResult {
  const result = spawnSync(process.execPath, ['--disable-warning=TimeoutNegativeWarning', STINGER, ...args], {
    env: { ...processEnvironment(), STINGER_KEYS_DIR: testKeysDir(), ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
