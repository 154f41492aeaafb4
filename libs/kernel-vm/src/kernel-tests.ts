/**
 * The kernel tests: test files that need a kernel and root but no Kafka broker, Kubernetes API or browser, so they
 * run unchanged inside the stock-kernel VM as well as natively. `stinger vm-test` runs these when named no files,
 * and `stinger test` runs them in the VM after the native run. Tests needing Kafka stay native for now (the VM has
 * no network to the test run's broker).
 */
export const KERNEL_TESTS: readonly string[] = [
  // libs/bpf: objects, sensors, C/TypeScript layouts, feature probing, every object loading (all kernel-only).
  'libs/bpf/src/**/*.test.ts',
  // libs/agent: a policy's deny rule refused at the LSM hooks (skipped where the kernel has no BPF LSM).
  'libs/agent/src/lsm-deny.test.ts',
];
