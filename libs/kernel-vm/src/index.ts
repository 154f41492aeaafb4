/**
 * @stinger/kernel-vm — kernel tests on a stock distribution kernel: fetches and caches the kernel package, builds
 * the initramfs, boots qemu with the host's root shared read-only under a writable overlay and runs test files in it.
 */
export { runVmTests, type RunVmTestsOptions, type VmTestRun, type VmConfig } from './vm-test.ts';
export { KERNEL_TESTS } from './kernel-tests.ts';
export { ensureVmKernel, concreteKernelPackage, kernelRelease, type VmKernel, type EnsureVmKernelOptions } from './kernel-package.ts';
export { cpioArchive, type CpioEntry } from './cpio.ts';
export { guestInitScript, guestRunScript, GUEST_MODULES, BEGIN_MARKER } from './guest-init.ts';
export { qemuArguments, createConsoleFilter, type QemuOptions } from './qemu.ts';
