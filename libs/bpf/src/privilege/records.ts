/**
 * Decoders and layout tables for the privilege, namespace and kernel-integrity records and maps
 * (C: bpf/lib/stinger_priv.h). records.layout.test.ts beside it compares every table and constant with the C header.
 */
import { cString, decodeRecordHeader, sliceKind, type RecordHeader, type RecordSlice } from '../core/record-header.ts';
import { sensorEventKinds } from '../core/event-kinds.ts';
import { actionName, type StingerAction } from '../network/records.ts';

/** event_header.kind of privilege records (from core/event-kinds.ts). */
export const PRIV_EVENT_KIND = sensorEventKinds('privilege');
export type PrivilegeRecordKind = keyof typeof PRIV_EVENT_KIND;

export const SETID_OP = { setuid: 1, setgid: 2, setreuid: 3, setregid: 4, setresuid: 5, setresgid: 6, setfsuid: 7, setfsgid: 8 } as const;
export type SetidOp = keyof typeof SETID_OP;

export const NS_OP = { setns: 1, unshare: 2, clone: 3, clone3: 4 } as const;
export type NamespaceOp = keyof typeof NS_OP;

/**
 * CLONE_NEW* bits (uapi/linux/sched.h), keyed by the namespace's name in /proc/<pid>/ns: the names the event model
 * (NamespacePayload.namespaces) and policies use, so no layer translates them (CLONE_NEWNS is `mnt`).
 */
export const CLONE_NEW = {
  time: 0x00000080,
  mnt: 0x00020000,
  cgroup: 0x02000000,
  uts: 0x04000000,
  ipc: 0x08000000,
  user: 0x10000000,
  pid: 0x20000000,
  net: 0x40000000,
} as const;
export type NamespaceType = keyof typeof CLONE_NEW;
export const CLONE_NEW_MASK = Object.values(CLONE_NEW).reduce((a, b) => a | b, 0) >>> 0;

export const MODULE_OP = { init: 1, finit: 2 } as const;
export const MODULE_PARAMS_SIZE = 128;
export const MOUNT_SOURCE_SIZE = 128;
export const MOUNT_TARGET_SIZE = 256;
export const MOUNT_FSTYPE_SIZE = 32;
export const BPF_PROG_NAME_SIZE = 16;
export const SCOPE_CGROUP_DEPTH = 16;
export const MOUNT_FLAG = { sourceTruncated: 1 << 0, targetTruncated: 1 << 1, fstypeTruncated: 1 << 2 } as const;
export const CAPSET_FLAG = { dataRead: 1 << 0 } as const;

export const PRIV_WATCH = {
  setid: 1 << 0,
  capset: 1 << 1,
  namespace: 1 << 2,
  module: 1 << 3,
  bpf: 1 << 4,
  ptrace: 1 << 5,
  mount: 1 << 6,
} as const;

export const SETID_EVENT_LAYOUT = { size: 88, offsets: { hdr: 0, op: 64, result: 68, args: 72, pad: 84 } } as const;
export const CAPSET_EVENT_LAYOUT = {
  size: 104,
  offsets: { hdr: 0, target_pid: 64, version: 68, result: 72, cap_flags: 76, effective: 80, permitted: 88, inheritable: 96 },
} as const;
export const NS_EVENT_LAYOUT = {
  size: 96,
  offsets: { hdr: 0, flags: 64, op: 72, result: 76, fd: 80, rule_id: 84, action: 88, pad: 89 },
} as const;
export const MODULE_EVENT_LAYOUT = {
  size: 224,
  offsets: { hdr: 0, op: 64, result: 68, fd: 72, module_flags: 76, len: 80, rule_id: 88, action: 92, pad: 93, params: 96 },
} as const;
export const BPF_EVENT_LAYOUT = {
  size: 96,
  offsets: { hdr: 0, cmd: 64, result: 68, prog_type: 72, insn_cnt: 76, prog_name: 80 },
} as const;
export const PTRACE_EVENT_LAYOUT = { size: 80, offsets: { hdr: 0, request: 64, target_pid: 72, result: 76 } } as const;
export const MOUNT_EVENT_LAYOUT = {
  size: 496,
  offsets: { hdr: 0, mount_flags: 64, result: 72, str_flags: 76, source: 80, target: 208, fstype: 464 },
} as const;
export const PRIV_WATCH_CONFIG_LAYOUT = { size: 16, offsets: { watch: 0, pad: 4, bpf_cmds: 8 } } as const;
export const SCOPE_RULE_LAYOUT = { size: 24, offsets: { match: 0, rule_id: 8, action: 12, flags: 16, pad: 20 } } as const;

/** scope_rule.flags (SCOPE_RULE_FLAG_*). */
export const SCOPE_RULE_FLAG = { hostOnly: 1 << 0, podsOnly: 1 << 1 } as const;

export interface SetidRecord extends RecordHeader {
  readonly kind: 'privilege';
  readonly op: SetidOp;
  /** As passed; 4294967295 ((u32)-1) = unchanged. setuid/setgid/setfs*: [id]; setre*: [real, effective]; setres*: [real, effective, saved]. */
  readonly args: readonly number[];
  /** 0 / -errno; setfsuid/setfsgid: the previous id. */
  readonly result: number;
}

export interface CapsetRecord extends RecordHeader {
  readonly kind: 'capset';
  /** 0 = the caller itself. */
  readonly targetPid: number;
  readonly version: number;
  readonly result: number;
  /** False when the user data could not be read (sets are 0n then). */
  readonly dataRead: boolean;
  readonly effective: bigint;
  readonly permitted: bigint;
  readonly inheritable: bigint;
}

export interface NamespaceRecord extends RecordHeader {
  readonly kind: 'namespace';
  readonly op: NamespaceOp;
  /** unshare/clone/clone3: the flags; setns: nstype (0 = any). */
  readonly flags: bigint;
  /** The CLONE_NEW* types named by flags, by their /proc/<pid>/ns names (setns with nstype 0: empty). */
  readonly namespaces: readonly NamespaceType[];
  /**
   * setns: the bits of nstype that are no CLONE_NEW* this decoder knows (a namespace type newer than it), 0n when
   * none. Always 0n for unshare and clone, whose flags mix CLONE_NEW* with other clone flags.
   */
  readonly unknownNamespaceBits: bigint;
  readonly fd: number;
  /** 0 / -errno, clone: the child pid; 0 when the caller was killed at entry (action killed). */
  readonly result: number;
  readonly ruleId: number;
  readonly action: StingerAction;
}

export interface ModuleRecord extends RecordHeader {
  readonly kind: 'module';
  readonly op: 'init' | 'finit';
  /** finit_module's fd (resolve the file from the process's fds); -1 for init_module. The module name is not known here. */
  readonly fd: number;
  readonly moduleFlags: number;
  /** init_module: image bytes. */
  readonly length: bigint;
  readonly params: string;
  readonly result: number;
  readonly ruleId: number;
  readonly action: StingerAction;
}

export interface BpfSyscallRecord extends RecordHeader {
  readonly kind: 'bpf';
  readonly cmd: number;
  readonly result: number;
  /** BPF_PROG_LOAD only, else 0 / ''. */
  readonly progType: number;
  readonly insnCount: number;
  readonly progName: string;
}

export interface PtraceRecord extends RecordHeader {
  readonly kind: 'ptrace';
  readonly request: bigint;
  readonly targetPid: number;
  readonly result: number;
}

export interface MountRecord extends RecordHeader {
  readonly kind: 'mount';
  readonly source: string;
  readonly target: string;
  readonly fstype: string;
  readonly mountFlags: bigint;
  readonly result: number;
  readonly truncated: boolean;
}

export type PrivilegeSensorRecord =
  | SetidRecord
  | CapsetRecord
  | NamespaceRecord
  | ModuleRecord
  | BpfSyscallRecord
  | PtraceRecord
  | MountRecord;

function keyOf<T extends Readonly<Record<string, number>>>(table: T, value: number): keyof T | undefined {
  for (const [name, v] of Object.entries(table)) if (v === value) return name as keyof T;
  return undefined;
}

/** The /proc/<pid>/ns names of the CLONE_NEW* bits set in flags; other bits are left out. */
export function namespaceTypes(flags: bigint | number): NamespaceType[] {
  const bits = BigInt(flags);
  return (Object.keys(CLONE_NEW) as NamespaceType[]).filter((name) => (bits & BigInt(CLONE_NEW[name])) !== 0n);
}

const MIN_SIZE: Readonly<Record<PrivilegeRecordKind, number>> = {
  privilege: SETID_EVENT_LAYOUT.size,
  capset: CAPSET_EVENT_LAYOUT.size,
  namespace: NS_EVENT_LAYOUT.size,
  module: MODULE_EVENT_LAYOUT.size,
  bpf: BPF_EVENT_LAYOUT.size,
  ptrace: PTRACE_EVENT_LAYOUT.size,
  mount: MOUNT_EVENT_LAYOUT.size,
};

/** Decodes a privilege-sensor record (kinds 30..36); undefined for another kind, an unknown op or a short record. */
export function decodePrivilegeRecord(slice: RecordSlice): PrivilegeSensorRecord | undefined {
  const { buffer, view, offset, length } = slice;
  const kind = keyOf(PRIV_EVENT_KIND, sliceKind(slice));
  if (kind === undefined || length < MIN_SIZE[kind]) return undefined;
  const header = decodeRecordHeader(slice);
  const u32 = (at: number): number => view.getUint32(offset + at, true);
  const s32 = (at: number): number => view.getInt32(offset + at, true);
  switch (kind) {
    case 'privilege': {
      const o = SETID_EVENT_LAYOUT.offsets;
      const op = keyOf(SETID_OP, u32(o.op));
      if (op === undefined) return undefined;
      const n = op.startsWith('setres') ? 3 : op.startsWith('setre') ? 2 : 1;
      const args = [u32(o.args), u32(o.args + 4), u32(o.args + 8)].slice(0, n);
      return { ...header, kind, op, args, result: s32(o.result) };
    }
    case 'capset': {
      const o = CAPSET_EVENT_LAYOUT.offsets;
      return {
        ...header,
        kind,
        targetPid: s32(o.target_pid),
        version: u32(o.version),
        result: s32(o.result),
        dataRead: (u32(o.cap_flags) & CAPSET_FLAG.dataRead) !== 0,
        effective: view.getBigUint64(offset + o.effective, true),
        permitted: view.getBigUint64(offset + o.permitted, true),
        inheritable: view.getBigUint64(offset + o.inheritable, true),
      };
    }
    case 'namespace': {
      const o = NS_EVENT_LAYOUT.offsets;
      const op = keyOf(NS_OP, u32(o.op));
      if (op === undefined) return undefined;
      const flags = view.getBigUint64(offset + o.flags, true);
      return {
        ...header,
        kind,
        op,
        flags,
        namespaces: namespaceTypes(flags),
        unknownNamespaceBits: op === 'setns' ? flags & ~BigInt(CLONE_NEW_MASK) : 0n,
        fd: s32(o.fd),
        result: s32(o.result),
        ruleId: u32(o.rule_id),
        action: actionName(view.getUint8(offset + o.action)),
      };
    }
    case 'module': {
      const o = MODULE_EVENT_LAYOUT.offsets;
      const op = keyOf(MODULE_OP, u32(o.op));
      if (op === undefined) return undefined;
      return {
        ...header,
        kind,
        op,
        fd: s32(o.fd),
        moduleFlags: u32(o.module_flags),
        length: view.getBigUint64(offset + o.len, true),
        params: cString(buffer, offset + o.params, MODULE_PARAMS_SIZE),
        result: s32(o.result),
        ruleId: u32(o.rule_id),
        action: actionName(view.getUint8(offset + o.action)),
      };
    }
    case 'bpf': {
      const o = BPF_EVENT_LAYOUT.offsets;
      return {
        ...header,
        kind,
        cmd: u32(o.cmd),
        result: s32(o.result),
        progType: u32(o.prog_type),
        insnCount: u32(o.insn_cnt),
        progName: cString(buffer, offset + o.prog_name, BPF_PROG_NAME_SIZE),
      };
    }
    case 'ptrace': {
      const o = PTRACE_EVENT_LAYOUT.offsets;
      return { ...header, kind, request: view.getBigUint64(offset + o.request, true), targetPid: u32(o.target_pid), result: s32(o.result) };
    }
    case 'mount': {
      const o = MOUNT_EVENT_LAYOUT.offsets;
      return {
        ...header,
        kind,
        source: cString(buffer, offset + o.source, MOUNT_SOURCE_SIZE),
        target: cString(buffer, offset + o.target, MOUNT_TARGET_SIZE),
        fstype: cString(buffer, offset + o.fstype, MOUNT_FSTYPE_SIZE),
        mountFlags: view.getBigUint64(offset + o.mount_flags, true),
        result: s32(o.result),
        truncated: u32(o.str_flags) !== 0,
      };
    }
  }
}

/** kind -> decoder, for createRecordDispatcher. */
export const PRIVILEGE_RECORD_DECODERS: ReadonlyMap<number, (slice: RecordSlice) => PrivilegeSensorRecord | undefined> = new Map(
  Object.values(PRIV_EVENT_KIND).map((kind) => [kind, decodePrivilegeRecord]),
);
