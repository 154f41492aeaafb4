/**
 * The VM's initramfs: a static busybox, the kernel's modules of GUEST_MODULES and the /init of guest-init.ts.
 * Cached beside the kernel as initramfs-<hash>.cpio, the hash over everything it holds: a new init script or
 * busybox makes a new file, an unchanged one is reused.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpioArchive, type CpioEntry } from './cpio.ts';
import { GUEST_MODULES, guestInitScript } from './guest-init.ts';
import type { VmKernel } from './kernel-package.ts';

/** Debian's busybox-static (a dynamically linked busybox cannot run before the root file system is mounted). */
export const BUSYBOX = '/bin/busybox';

/** The archive's members: the directories /init mounts on, busybox, the modules, /init. */
export function initramfsEntries(options: { readonly busybox: Uint8Array; readonly modules: ReadonlyMap<string, Uint8Array>; readonly init: string }): CpioEntry[] {
  const directories = ['bin', 'dev', 'proc', 'sys', 'lower', 'upper', 'root', 'modules'];
  return [
    ...directories.map((path): CpioEntry => ({ kind: 'directory', path })),
    { kind: 'file', path: 'bin/busybox', data: options.busybox, mode: 0o755 },
    { kind: 'symlink', path: 'bin/sh', target: 'busybox' },
    ...[...options.modules].map(([name, data]): CpioEntry => ({ kind: 'file', path: `modules/${name}.ko`, data })),
    { kind: 'file', path: 'init', data: Buffer.from(options.init), mode: 0o755 },
  ];
}

/** The initramfs for `kernel`; its path (built now unless cached). */
export function ensureInitramfs(kernel: VmKernel): string {
  if (!existsSync(BUSYBOX)) throw new Error(`${BUSYBOX} is missing: install Debian's busybox-static`);
  const modules = new Map<string, Uint8Array>();
  for (const path of GUEST_MODULES) {
    const file = join(kernel.modulesDir, `${path}.ko`);
    if (!existsSync(file)) throw new Error(`kernel ${kernel.release} has no module ${path}.ko (${file})`);
    modules.set(path.slice(path.lastIndexOf('/') + 1), readFileSync(file));
  }
  const archive = cpioArchive(initramfsEntries({ busybox: readFileSync(BUSYBOX), modules, init: guestInitScript() }));
  const hash = createHash('sha256').update(archive).digest('hex').slice(0, 16);
  const path = join(kernel.dir, `initramfs-${hash}.cpio`);
  if (!existsSync(path)) {
    writeFileSync(`${path}.partial`, archive);
    renameSync(`${path}.partial`, path);
  }
  return path;
}
