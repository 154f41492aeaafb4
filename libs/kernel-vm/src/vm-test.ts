/**
 * `stinger vm-test`: test files run as root in a VM booted from a stock distribution kernel (Debian's 6.1 by
 * default), with this repository and the host's Node.js shared into the guest, so a kernel test proves its behaviour
 * on a kernel other than the host's. Streams the tests' output (spec reporter) and returns their exit status and
 * the TAP counts, for `stinger test` to report the run in its own section.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '@stinger/log';
import { guestRunScript, RUN_SCRIPT } from './guest-init.ts';
import { ensureInitramfs } from './initramfs.ts';
import { ensureVmKernel } from './kernel-package.ts';
import { runVm } from './qemu.ts';

export interface VmConfig {
  /** Debian package of the kernel to boot (linux-image-amd64 or a concrete linux-image-<release>). */
  readonly kernelPackage: string;
  readonly memoryMiB: number;
  readonly timeoutMs: number;
  readonly qemu: string;
}

export interface RunVmTestsOptions {
  readonly vm: VmConfig;
  readonly cacheDir: string;
  readonly logger: Logger;
  /** The repository root: the tests' working directory in the guest. */
  readonly repoRoot: string;
  /** Node.js to run the tests with (the host's, reached through the shared root). */
  readonly node: string;
  /** Test files or globs, relative to repoRoot. */
  readonly files: readonly string[];
  /** Extra environment of the tests (PATH, HOME and the run's own are set here). */
  readonly env?: Readonly<Record<string, string>>;
  readonly write: (text: string) => void;
}

export interface VmTestRun {
  readonly release: string;
  /** The tests' exit status; 1 when the VM gave none (the failure says why). */
  readonly status: number;
  /** The TAP stream the guest wrote ('' when it wrote none). */
  readonly tap: string;
  readonly failure: string | null;
  readonly seconds: number;
}

const TAP_FILE = 'results.tap';

export async function runVmTests(options: RunVmTestsOptions): Promise<VmTestRun> {
  const kernel = ensureVmKernel({ cacheDir: options.cacheDir, packageName: options.vm.kernelPackage, logger: options.logger });
  const initramfs = ensureInitramfs(kernel);
  // Under /tmp (not os.tmpdir() when TMPDIR points elsewhere): the path goes on the kernel command line as it is.
  const runDir = mkdtempSync(join(tmpdir().startsWith('/tmp') ? tmpdir() : '/tmp', 'stinger-vm-'));
  try {
    const command = [
      options.node,
      '--test',
      '--test-concurrency=1',
      '--test-reporter=spec',
      '--test-reporter-destination=stdout',
      '--test-reporter=tap',
      `--test-reporter-destination=${join(runDir, TAP_FILE)}`,
      ...options.files,
    ];
    const env = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root', TERM: 'dumb', ...options.env };
    writeFileSync(join(runDir, RUN_SCRIPT), guestRunScript({ cwd: options.repoRoot, command, env, runDir }));
    options.write(`kernel ${kernel.release}${kernel.fetched ? ' (fetched now)' : ''}, ${options.files.length} test pattern(s), qemu (TCG)\n`);
    const run = await runVm({
      qemu: options.vm.qemu,
      kernel: kernel.vmlinuz,
      initramfs,
      runDir,
      memoryMiB: options.vm.memoryMiB,
      timeoutMs: options.vm.timeoutMs,
      logger: options.logger,
      write: options.write,
    });
    let tap = '';
    try {
      tap = readFileSync(join(runDir, TAP_FILE), 'utf8');
    } catch {
      // No TAP: the tests never ran; run.failure says why.
    }
    return { release: kernel.release, status: run.status ?? 1, tap, failure: run.failure, seconds: run.seconds };
  } finally {
    rmSync(runDir, { recursive: true, force: true });
  }
}
