/**
 * The stock kernel the VM boots: a Debian linux-image package, fetched with `apt-get download` and unpacked with
 * `dpkg-deb -x` into <cacheDir>/vm-kernel-<release>/ (keyed by the kernel release, e.g. 6.1.0-57-amd64), once.
 * A meta-package (linux-image-amd64) is resolved to the release it depends on today, so a Debian point release
 * brings a new cached kernel rather than changing one under the same key.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '@stinger/log';

export interface VmKernel {
  /** The kernel release (uname -r in the guest). */
  readonly release: string;
  /** The cache directory holding the unpacked package (boot/, lib/modules/<release>/). */
  readonly dir: string;
  readonly vmlinuz: string;
  /** lib/modules/<release>/kernel of the package. */
  readonly modulesDir: string;
  /** Whether it was downloaded now (false: from the cache). */
  readonly fetched: boolean;
}

export interface EnsureVmKernelOptions {
  readonly cacheDir: string;
  /** A linux-image package: a concrete one (linux-image-6.1.0-57-amd64) or a meta-package (linux-image-amd64). */
  readonly packageName: string;
  readonly logger: Logger;
}

const CONCRETE = /^linux-image-(\d+\.\d+[^\s]*)$/;

/** The concrete package a meta-package depends on, from `apt-cache depends` output (null: none named). */
export function concreteKernelPackage(aptCacheDepends: string): string | null {
  for (const line of aptCacheDepends.split('\n')) {
    const match = /^\s*Depends:\s*(linux-image-\d\S*)\s*$/.exec(line);
    if (match?.[1] !== undefined) return match[1];
  }
  return null;
}

/** The kernel release a concrete package name carries (linux-image-6.1.0-57-amd64 → 6.1.0-57-amd64). */
export function kernelRelease(packageName: string): string | null {
  return CONCRETE.exec(packageName)?.[1] ?? null;
}

function resolvePackage(packageName: string): string {
  if (kernelRelease(packageName) !== null) return packageName;
  let output: string;
  try {
    output = execFileSync('apt-cache', ['depends', '--important', packageName], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    throw new Error(`cannot resolve kernel package ${packageName} with apt-cache: ${(error as Error).message}`);
  }
  const concrete = concreteKernelPackage(output);
  if (concrete === null) throw new Error(`kernel package ${packageName} depends on no linux-image-<release> package (apt-cache depends)`);
  return concrete;
}

/** The kernel, from the cache or fetched now. Throws with the failing command when apt or dpkg-deb fail. */
export function ensureVmKernel(options: EnsureVmKernelOptions): VmKernel {
  const packageName = resolvePackage(options.packageName);
  const release = kernelRelease(packageName);
  if (release === null) throw new Error(`not a kernel image package: ${packageName}`);
  const dir = join(options.cacheDir, `vm-kernel-${release}`);
  const kernel = (fetched: boolean): VmKernel => ({
    release,
    dir,
    vmlinuz: join(dir, 'boot', `vmlinuz-${release}`),
    modulesDir: join(dir, 'lib', 'modules', release, 'kernel'),
    fetched,
  });
  if (existsSync(kernel(false).vmlinuz)) return kernel(false);
  mkdirSync(options.cacheDir, { recursive: true });
  // Unpacked beside its final place and renamed, so an interrupted fetch never looks cached.
  const work = mkdtempSync(join(options.cacheDir, `vm-kernel-${release}.partial-`));
  try {
    options.logger.info({ packageName }, 'fetching the VM kernel');
    execFileSync('apt-get', ['download', '-q', packageName], { cwd: work, stdio: ['ignore', 'ignore', 'pipe'] });
    const deb = readdirSync(work).find((name) => name.endsWith('.deb'));
    if (deb === undefined) throw new Error(`apt-get download ${packageName} left no .deb`);
    execFileSync('dpkg-deb', ['-x', join(work, deb), join(work, 'root')], { stdio: ['ignore', 'ignore', 'pipe'] });
    rmSync(dir, { recursive: true, force: true });
    renameSync(join(work, 'root'), dir);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  if (!existsSync(kernel(true).vmlinuz)) throw new Error(`${packageName} has no boot/vmlinuz-${release}`);
  return kernel(true);
}
