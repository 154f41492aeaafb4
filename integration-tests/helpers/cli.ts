/** Runs the real `stinger` command as a user would, against the test run's broker and a topic prefix. */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { processEnvironment } from '@stinger/config';

const STINGER = fileURLToPath(new URL('../../libs/cli/bin/stinger.mjs', import.meta.url));

export interface CliResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function runStinger(args: readonly string[], env: Readonly<Record<string, string>>): CliResult {
  const result = spawnSync(process.execPath, ['--disable-warning=TimeoutNegativeWarning', STINGER, ...args], {
    env: { ...processEnvironment(), ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
