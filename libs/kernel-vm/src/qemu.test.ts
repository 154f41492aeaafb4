import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BEGIN_MARKER } from './guest-init.ts';
import { concreteKernelPackage, kernelRelease } from './kernel-package.ts';
import { createConsoleFilter, qemuArguments } from './qemu.ts';

test('qemu runs under TCG with the host root read-only, the run directory writable and the run directory on the command line', () => {
  const args = qemuArguments({ kernel: '/k/vmlinuz', initramfs: '/k/initramfs.cpio', runDir: '/tmp/stinger-vm-x', memoryMiB: 1024 });
  const value = (flag: string) => args.filter((_, i) => args[i - 1] === flag);
  assert.deepEqual(value('-machine'), ['accel=tcg']);
  assert.deepEqual(value('-m'), ['1024']);
  assert.deepEqual(value('-virtfs'), [
    'local,path=/,mount_tag=stinger-host-root,security_model=none,readonly=on,multidevs=remap',
    'local,path=/tmp/stinger-vm-x,mount_tag=stinger-run,security_model=none,multidevs=remap',
  ]);
  assert.match(value('-append')[0] ?? '', /console=ttyS0 .*panic=-1 STINGER_RUN_DIR=\/tmp\/stinger-vm-x$/);
  assert.ok(args.includes('-no-reboot'), 'a guest panic ends qemu');
  assert.throws(() => qemuArguments({ kernel: 'k', initramfs: 'i', runDir: '/tmp/a b', memoryMiB: 1 }), /without spaces/);
});

test('the console filter holds back firmware and boot output until the begin marker, and drops the serial line\'s carriage returns', () => {
  const written: string[] = [];
  const filter = createConsoleFilter((text) => written.push(text));
  filter.push('\u001b[2JSeaBIOS\r\nBooting');
  assert.deepEqual(written, []);
  filter.push(` from ROM\r\n${BEGIN_MARKER} 6.1.0\r\n✔ a test\r`);
  filter.push('\n');
  assert.ok(filter.started());
  assert.equal(written.join(''), `${BEGIN_MARKER} 6.1.0\n✔ a test\n`);
  assert.equal(filter.held(), '\u001b[2JSeaBIOS\nBooting from ROM\n');
});

test('a kernel meta-package resolves to the concrete package apt-cache names, and a release is read from it', () => {
  assert.equal(concreteKernelPackage('linux-image-amd64\n  Depends: linux-image-6.1.0-57-amd64\n'), 'linux-image-6.1.0-57-amd64');
  assert.equal(concreteKernelPackage('linux-image-amd64\n'), null);
  assert.equal(kernelRelease('linux-image-6.1.0-57-amd64'), '6.1.0-57-amd64');
  assert.equal(kernelRelease('linux-image-amd64'), null);
});
