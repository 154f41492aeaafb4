/**
 * Sensor records for the unit tests of this package, shaped as libs/bpf decodes them. Not exported
 * from the package (tests only).
 */
import type { ExecRecord, ExecRuleRecord, ExitRecord, FileCloseRecord, FileRecord, ForkRecord, NetworkRecord, NamespaceRecord } from '@stinger/bpf';

const header = { cgroupId: 1n, ppid: 0, uid: 0, gid: 0, comm: 'test' };

export const execRecord = (r: { timeNs: bigint; pid: number; binary: string; args: string[]; uid?: number }): ExecRecord => ({
  ...header,
  kind: 'exec',
  timeNs: r.timeNs,
  pid: r.pid,
  tid: r.pid,
  uid: r.uid ?? 0,
  oldTid: r.pid,
  binary: r.binary,
  args: r.args,
  argsTruncated: false,
  argsMissing: false,
  binaryTruncated: false,
  flags: 0,
});

export const forkRecord = (r: { timeNs: bigint; pid: number; childPid: number }): ForkRecord => ({ ...header, kind: 'fork', tid: r.pid, ...r });

/** An execve a kernel exec rule acted on at its entry (no exec record follows a kill). */
export const execRuleRecord = (r: Partial<ExecRuleRecord> & { pid: number; path: string }): ExecRuleRecord => ({
  ...header,
  kind: 'exec-rule',
  timeNs: 1n,
  tid: r.pid,
  ruleId: 0,
  action: 'killed',
  dirfd: -100,
  atFlags: 0,
  flags: 0,
  relative: !r.path.startsWith('/'),
  needsResolution: false,
  pathTruncated: false,
  match: 'exact',
  resolved: false,
  ...r,
});

export const exitRecord = (r: { timeNs: bigint; pid: number; code: number | null; signal: number | null }): ExitRecord => ({
  ...header,
  kind: 'exit',
  tid: r.pid,
  status: 0,
  statusKnown: true,
  ...r,
});

export const fileRecord = (r: Partial<FileRecord> & { pid: number; op: FileRecord['op']; path: string }): FileRecord => ({
  ...header,
  kind: 'file',
  timeNs: 1n,
  tid: r.pid,
  path2: null,
  path2Truncated: false,
  matchedPath2: false,
  resolvedPath: null,
  resolvedPath2: null,
  dirfd: -100,
  dirfd2: -100,
  result: 0,
  openFlags: 0,
  mode: 0,
  ownerUid: 0,
  ownerGid: 0,
  ruleId: 0,
  action: 'none',
  flags: 0,
  relative: !r.path.startsWith('/'),
  needsResolution: false,
  pathTruncated: false,
  match: 'exact',
  openId: null,
  ...r,
});

export const fileCloseRecord = (r: Partial<FileCloseRecord> & { pid: number; openId: bigint }): FileCloseRecord => ({
  ...header,
  kind: 'file-close',
  timeNs: 2n,
  tid: r.pid,
  bytesRead: 0n,
  bytesWritten: 0n,
  bytesMapped: 0n,
  reads: 0,
  writes: 0,
  maps: 0,
  fd: 3,
  reason: 'close',
  ...r,
});

export const networkRecord = (r: Partial<NetworkRecord> & { pid: number; kind: NetworkRecord['kind'] }): NetworkRecord => ({
  ...header,
  timeNs: 1n,
  tid: r.pid,
  family: 'inet',
  familyNumber: 2,
  address: '127.0.0.1',
  port: 80,
  protocol: 6,
  fd: 3,
  result: 0,
  backlog: 0,
  ruleId: 0,
  action: 'none',
  fromCgroup: false,
  addrFault: false,
  flags: 0,
  ...r,
});

export const namespaceRecord = (r: Partial<NamespaceRecord> & { pid: number }): NamespaceRecord => ({
  ...header,
  kind: 'namespace',
  timeNs: 1n,
  tid: r.pid,
  op: 'unshare',
  flags: 0x40000000n,
  namespaces: ['net'],
  unknownNamespaceBits: 0n,
  fd: -1,
  result: 0,
  ruleId: 0,
  action: 'none',
  ...r,
});
