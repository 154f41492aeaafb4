/**
 * What the kernel side needs from the host before anything loads: privileges, tracefs (libbpf resolves
 * tracepoint ids under /sys/kernel/tracing/events), the cgroup v2 mount, and where the compiled objects are.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BpfEnvironmentError, BpfPermissionError, errnoName } from './errors.ts';
import { ffi, lastErrno } from './libbpf.ts';

/** Where `npm run -w @stinger/bpf build:bpf` puts the BPF objects (bpf/build at the repository root). */
export const DEFAULT_OBJECT_DIR = fileURLToPath(new URL('../../../../bpf/build/', import.meta.url));

const CAP_SYS_ADMIN = 21n;
const CAP_PERFMON = 38n;
const CAP_BPF = 39n;

/** Effective capability set of this process, from /proc/self/status. */
function effectiveCapabilities(): bigint {
  const line = readFileSync('/proc/self/status', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('CapEff:'));
  return line === undefined ? 0n : BigInt(`0x${line.slice('CapEff:'.length).trim()}`);
}

/**
 * Throws BpfPermissionError unless this process may load and attach tracing programs: CAP_SYS_ADMIN, or CAP_BPF
 * together with CAP_PERFMON (tracepoints attach through perf events).
 */
export function assertBpfPrivileges(): void {
  const caps = effectiveCapabilities();
  const has = (cap: bigint): boolean => ((caps >> cap) & 1n) === 1n;
  if (has(CAP_SYS_ADMIN) || (has(CAP_BPF) && has(CAP_PERFMON))) return;
  const uid = process.getuid?.() ?? -1;
  throw new BpfPermissionError(
    `loading BPF programs needs root, or CAP_BPF and CAP_PERFMON (uid ${uid}, effective capabilities 0x${caps.toString(16)})`,
  );
}

const TRACEFS = '/sys/kernel/tracing';

/** Mounts tracefs at /sys/kernel/tracing when no tracefs is reachable (libbpf needs it to attach tracepoints). */
export function ensureTracefs(): void {
  if (existsSync(`${TRACEFS}/events`) || existsSync('/sys/kernel/debug/tracing/events')) return;
  const err = ffi().libc.mount('tracefs', TRACEFS, 'tracefs', 0, null);
  if (err !== 0) {
    const errno = lastErrno();
    throw new BpfEnvironmentError(`cannot mount tracefs at ${TRACEFS}: ${errnoName(errno)}`, { errno });
  }
}

/** The cgroup v2 mount point from /proc/mounts (/sys/fs/cgroup on most nodes, /sys/fs/cgroup/unified on hybrid hosts). */
export function cgroup2MountPoint(): string {
  for (const line of readFileSync('/proc/mounts', 'utf8').split('\n')) {
    const [, mountPoint, fsType] = line.split(' ');
    if (fsType === 'cgroup2' && mountPoint !== undefined) return mountPoint;
  }
  throw new BpfEnvironmentError('no cgroup v2 filesystem is mounted');
}

/** The cgroup v2 id of a directory of the cgroup v2 mount (its inode number), as bpf_get_current_cgroup_id reports it. */
export function cgroupIdOf(cgroupPath: string): bigint {
  return statSync(cgroupPath, { bigint: true }).ino;
}
