/**
 * `stinger vm-test [--tap FILE] [FILES...]`: kernel test files (default: KERNEL_TESTS) run as root in a qemu VM
 * booted from a stock Debian kernel (STINGER_VM_KERNEL, default linux-image-amd64: 6.1), with the repository and
 * this Node.js shared into the guest. Streams the tests' spec output, ends with the same `tests: …` line as
 * `stinger test`, and exits with the tests' status (1 when the VM gave none, with the reason on stderr).
 * `stinger test` runs it after the native run, reading the counts from --tap.
 */
import { writeFileSync } from 'node:fs';
import type { StingerConfig } from '@stinger/config';
import { KERNEL_TESTS, runVmTests } from '@stinger/kernel-vm';
import type { Logger } from '@stinger/log';
import { ensurePrerequisites, VM_TEST_PREREQUISITES } from '../prerequisites.ts';
import { childNodeOptions, REPO_ROOT } from '../workspace.ts';
import { summaryLine, tapCounts } from './test.ts';

export interface VmTestOptions {
  readonly config: StingerConfig;
  readonly logger: Logger;
  /** Test files or globs relative to the repository root; empty: KERNEL_TESTS. */
  readonly files: readonly string[];
  /** Where to copy the guest's TAP stream (null: nowhere). */
  readonly tapFile: string | null;
}

export async function vmTest(options: VmTestOptions): Promise<number> {
  const { config, logger } = options;
  ensurePrerequisites(VM_TEST_PREREQUISITES, logger);
  const files = options.files.length > 0 ? options.files : KERNEL_TESTS;
  const run = await runVmTests({
    vm: config.vm,
    cacheDir: config.cacheDir,
    logger,
    repoRoot: REPO_ROOT,
    node: process.execPath,
    files,
    env: { NODE_OPTIONS: childNodeOptions(undefined) },
    write: (text) => process.stdout.write(text),
  });
  if (options.tapFile !== null) writeFileSync(options.tapFile, run.tap);
  if (run.failure !== null) process.stderr.write(`stinger: vm-test: ${run.failure}\n`);
  const counts = tapCounts(run.tap);
  const failed = counts.failed + (run.status !== 0 && counts.failed === 0 ? 1 : 0);
  process.stdout.write(`\nkernel ${run.release} in qemu, ${run.seconds.toFixed(1)} s boot to power-off\n${summaryLine({ ...counts, failed })}\n`);
  return run.status === 0 ? 0 : 1;
}
