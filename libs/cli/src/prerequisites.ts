/**
 * Machine prerequisites of the tests and of `stinger up`: commands and the Debian packages that
 * provide them. Installed with apt-get when missing and running as root; otherwise named in an error.
 */
import { spawnSync } from 'node:child_process';
import type { Logger } from '@stinger/log';
import { processEnvironment } from '@stinger/config';
import { CliError } from './errors.ts';

export interface Prerequisite {
  readonly command: string;
  readonly debianPackage: string;
  readonly why: string;
}

export const BROKER_PREREQUISITES: readonly Prerequisite[] = [
  { command: 'java', debianPackage: 'default-jre-headless', why: 'runs the local Kafka broker' },
  { command: 'mvn', debianPackage: 'maven', why: 'resolves the pinned Apache Kafka jars' },
];

export const TEST_PREREQUISITES: readonly Prerequisite[] = [...BROKER_PREREQUISITES];

function hasCommand(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

export function missingPrerequisites(list: readonly Prerequisite[]): Prerequisite[] {
  return list.filter((p) => !hasCommand(p.command));
}

export function ensurePrerequisites(list: readonly Prerequisite[], logger: Logger): void {
  const missing = missingPrerequisites(list);
  if (missing.length === 0) return;
  const packages = [...new Set(missing.map((p) => p.debianPackage))];
  if (process.getuid?.() !== 0) {
    throw new CliError(
      `missing ${missing.map((p) => `${p.command} (${p.why})`).join(', ')}; install with: sudo apt-get install -y ${packages.join(' ')}`,
    );
  }
  logger.info({ packages }, 'installing Debian packages');
  for (const args of [['update', '-qq'], ['install', '-y', '-qq', '--no-install-recommends', ...packages]]) {
    const result = spawnSync('apt-get', args, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...processEnvironment(), DEBIAN_FRONTEND: 'noninteractive' } });
    if (result.status !== 0) throw new CliError(`apt-get ${args.join(' ')} failed with exit code ${result.status}`);
  }
  const still = missingPrerequisites(list);
  if (still.length > 0) throw new CliError(`still missing after install: ${still.map((p) => p.command).join(', ')}`);
}
