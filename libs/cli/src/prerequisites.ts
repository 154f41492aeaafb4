/**
 * Machine prerequisites of the tests and of `stinger up`: commands and the Debian packages that
 * provide them. Installed with apt-get when missing and running as root; otherwise named in an error.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Logger } from '@stinger/log';
import { processEnvironment } from '@stinger/config';
import { CliError } from './errors.ts';

export interface Prerequisite {
  /** A command on PATH, or an absolute path to a file (headers, libraries). */
  readonly command: string;
  readonly debianPackage: string;
  readonly why: string;
}

export const BROKER_PREREQUISITES: readonly Prerequisite[] = [
  { command: 'java', debianPackage: 'default-jre-headless', why: 'runs the local Kafka broker' },
  { command: 'mvn', debianPackage: 'maven', why: 'resolves the pinned Apache Kafka jars' },
];

export const BPF_PREREQUISITES: readonly Prerequisite[] = [
  { command: 'clang', debianPackage: 'clang', why: 'compiles the eBPF programs' },
  { command: 'llvm-strip', debianPackage: 'llvm', why: 'strips the eBPF objects' },
  { command: '/usr/include/bpf/libbpf.h', debianPackage: 'libbpf-dev', why: 'libbpf headers and library for the loader' },
  { command: 'bpftool', debianPackage: 'bpftool', why: 'regenerates bpf/include/vmlinux.h' },
  { command: 'make', debianPackage: 'make', why: 'builds the eBPF objects and the native drain helper' },
  { command: 'cc', debianPackage: 'gcc', why: 'builds the native drain helper and the layout checks' },
];

export const TEST_PREREQUISITES: readonly Prerequisite[] = [
  ...BROKER_PREREQUISITES,
  ...BPF_PREREQUISITES,
  { command: 'chromium', debianPackage: 'chromium', why: "headless browser for the console page's browser tests" },
  { command: 'curl', debianPackage: 'curl', why: "an outbound connection by a real client in the console's egress tests" },
];

/** `stinger vm-test`: the stock-kernel VM. */
export const VM_TEST_PREREQUISITES: readonly Prerequisite[] = [
  { command: 'qemu-system-x86_64', debianPackage: 'qemu-system-x86', why: 'boots the stock kernel of the kernel tests' },
  { command: '/bin/busybox', debianPackage: 'busybox-static', why: "the VM's init (static: it runs before any file system is mounted)" },
];

/** `stinger images build` and running its images (integration-tests/images). */
export const IMAGE_PREREQUISITES: readonly Prerequisite[] = [
  { command: 'mmdebstrap', debianPackage: 'mmdebstrap', why: "extracts the images' minimal Debian root file system" },
  { command: 'umoci', debianPackage: 'umoci', why: 'assembles the OCI images from their layers' },
  { command: 'skopeo', debianPackage: 'skopeo', why: "copies the images into podman's storage" },
  { command: 'podman', debianPackage: 'podman', why: 'stores and runs the images' },
  { command: 'runc', debianPackage: 'runc', why: "podman's runtime here (crun needs CAP_SYS_RESOURCE)" },
  { command: 'strip', debianPackage: 'binutils', why: "strips Node.js's debug info for the images" },
];

/** `stinger dev-cluster up --with-node`: a real node on this machine. */
export const NODE_PREREQUISITES: readonly Prerequisite[] = [
  { command: 'containerd', debianPackage: 'containerd', why: "the node's container runtime (CRI)" },
  { command: 'ctr', debianPackage: 'containerd', why: 'imports images into the node (no registry is reachable)' },
  { command: 'runc', debianPackage: 'runc', why: "containerd's runtime" },
  { command: '/usr/lib/cni/bridge', debianPackage: 'containernetworking-plugins', why: "the pods' bridge network" },
  { command: 'iptables', debianPackage: 'iptables', why: 'forwards the kubernetes Service address to the API server' },
  { command: 'ip', debianPackage: 'iproute2', why: "makes the pods' bridge" },
  { command: 'umoci', debianPackage: 'umoci', why: "makes the node's pause image" },
  { command: 'skopeo', debianPackage: 'skopeo', why: 'copies images to archives containerd imports' },
];

function hasCommand(command: string): boolean {
  if (command.startsWith('/')) return existsSync(command);
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
