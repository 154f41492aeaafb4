/**
 * Decoders for the file sensor's records and the exec-rule matches (C structs in bpf/lib/stinger_file.h).
 *
 * The tables below are the TypeScript half of the ring-buffer contract; records.layout.test.ts beside it compiles the
 * C header with the host compiler and fails when any offset, size or constant differs.
 */
import { cString, decodeRecordHeader, sliceKind, type RecordHeader, type RecordSlice } from '../core/record-header.ts';
import type { RecordDecoderTable } from '../core/record-dispatch.ts';
import { sensorEventKinds } from '../core/event-kinds.ts';

/** Values of event_header.kind owned by this sensor (10..19). */
export const FILE_EVENT_KIND = sensorEventKinds('file');

/** Bytes of a path kept, NUL included (rule keys are this size); a path may have at most FILE_PATH_SIZE - 1 bytes. */
export const FILE_PATH_SIZE = 256;

/** Operation bits: file_event.op (one bit) and file_rule.ops (a mask). */
export const FILE_OP = {
  open: 1 << 0,
  unlink: 1 << 1,
  rename: 1 << 2,
  chmod: 1 << 3,
  chown: 1 << 4,
  chdir: 1 << 5,
  fchdir: 1 << 6,
  exec: 1 << 7,
} as const;
export type FileOp = keyof typeof FILE_OP;

/** file_rule.action. */
export const RULE_ACTION = { audit: 1, kill: 2, deny: 3 } as const;
/** file_rule.flags. */
export const RULE_FLAG = { killOnName: 1 << 0, hostOnly: 1 << 1, podsOnly: 1 << 2 } as const;
/** file_event.action / exec_rule_event.action: what the kernel did. */
export const ACTION_TAKEN = { none: 0, audit: 1, killed: 2, denied: 3 } as const;
export type ActionTaken = keyof typeof ACTION_TAKEN;

export const FILE_FLAG = {
  relative: 1 << 0,
  needsResolution: 1 << 1,
  pathTruncated: 1 << 2,
  path2Truncated: 1 << 3,
  matchExact: 1 << 4,
  matchPrefix: 1 << 5,
  matchName: 1 << 6,
  matchPath2: 1 << 7,
  resultKnown: 1 << 8,
  pathFault: 1 << 9,
  matchCwd: 1 << 10,
  resolved: 1 << 11,
  /** Written in the kept tier because a rule that matched keeps its records (KEEP_RECORDS_RULE_FLAG). */
  kept: 1 << 12,
} as const;

/** struct cwd_entry (value of cwd_by_tgid). */
export const CWD_ENTRY_LAYOUT = { size: 264, offsets: { len: 0, pad: 4, path: 8 } } as const;

export const PATH_KEY_LAYOUT = { size: 256, offsets: { path: 0 } } as const;
export const PATH_PREFIX_KEY_LAYOUT = { size: 260, offsets: { prefixlen: 0, path: 4 } } as const;
export const FILE_RULE_LAYOUT = { size: 16, offsets: { rule_id: 0, action: 4, ops: 8, flags: 12 } } as const;
/** struct path_filter: necessary conditions for match_path's lookups (bpf/file/file_match.h). */
export const PATH_FILTER_LAYOUT = { size: 2176, offsets: { valid: 0, dir_rules: 4, exact_len: 8, prefix_first: 40, name: 72, prefix_len: 2120, name_length_count: 2152, pad: 2156, name_lengths: 2160 } } as const;
/** How many distinct name lengths struct path_filter lists (NAME_LENGTHS_MAX); with more, the kernel scans every path. */
export const NAME_LENGTHS_MAX = 16;
/** struct dir_identity_key: a prefix rule's directory by identity, for the file_open LSM hook (bpf/file/bpf_file_lsm.c). */
export const DIR_IDENTITY_KEY_LAYOUT = { size: 16, offsets: { dev: 0, ino: 8 } } as const;

export const FILE_EVENT_LAYOUT = {
  size: 896,
  offsets: {
    hdr: 0,
    op: 64,
    file_flags: 68,
    rule_id: 72,
    action: 76,
    dirfd: 80,
    dirfd2: 84,
    result: 88,
    open_flags: 96,
    mode: 104,
    owner_uid: 108,
    owner_gid: 112,
    path_len: 116,
    path2_len: 118,
    open_id: 120,
    path: 128,
    path2: 384,
    path3: 640,
  },
} as const;

/** file_fd_entry.fd_flags. */
export const FD_FLAG = { cloexec: 1 << 0 } as const;
/** file_close_event.close_flags: how the last descriptor of an open went (none set: close(2)). */
export const FILE_CLOSE_FLAG = { atExit: 1 << 0, atExec: 1 << 1, replaced: 1 << 2 } as const;
/** Slots of the file_io_losses per-CPU array: descriptor tracking the kernel gave up, by reason. */
export const FILE_IO_LOSS = { evicted: 0, staleFd: 1, sweepFull: 2, untracked: 3 } as const;
export type FileIoLoss = keyof typeof FILE_IO_LOSS;
export const FILE_IO_LOSS_SLOTS = 4;

export const FILE_FD_KEY_LAYOUT = { size: 8, offsets: { tgid: 0, fd: 4 } } as const;
export const FILE_FD_ENTRY_LAYOUT = { size: 16, offsets: { open_id: 0, fd_flags: 8, pad: 12 } } as const;
export const FILE_IO_TOTALS_LAYOUT = {
  size: 56,
  offsets: { bytes_read: 0, bytes_written: 8, bytes_mapped: 16, reads: 24, writes: 32, maps: 40, refs: 48 },
} as const;
export const FILE_CLOSE_EVENT_LAYOUT = {
  size: 128,
  offsets: { hdr: 0, open_id: 64, bytes_read: 72, bytes_written: 80, bytes_mapped: 88, reads: 96, writes: 104, maps: 112, fd: 120, close_flags: 124 },
} as const;

export const EXEC_RULE_EVENT_LAYOUT = {
  size: 344,
  offsets: { hdr: 0, rule_id: 64, action: 68, exec_rule_flags: 72, dirfd: 76, at_flags: 80, path_len: 84, pad: 86, path: 88 },
} as const;

/** How the kernel matched the path to a rule; null when no rule caused the record. */
export type PathMatch = 'exact' | 'prefix' | 'name' | null;

export interface PathFlags {
  /** The path did not start with '/': resolve it against `dirfd` (AT_FDCWD: the process's cwd). */
  readonly relative: boolean;
  /** Matched by its last component only (or too long to match): user space must resolve and re-match. */
  readonly needsResolution: boolean;
  readonly pathTruncated: boolean;
  readonly match: PathMatch;
}

export interface FileRecord extends RecordHeader, PathFlags {
  readonly kind: 'file';
  readonly op: Exclude<FileOp, 'exec'>;
  /** The path exactly as the process passed it; '' for an operation only an LSM hook saw (see resolvedPath). */
  readonly path: string;
  /** rename: the new path, as given, or as the kernel resolved it when resolvedPath2 is set; else null. */
  readonly path2: string | null;
  /**
   * Where the file sensor runs in its lsm mode: the path the kernel resolved for the file (bpf_d_path at the file_open
   * LSM hook; the path_unlink/rmdir/rename/chmod/chown hooks' own walk, bpf/file/bpf_file_path_lsm.c: symlinks, `//`,
   * `..`, the cwd and directory fds resolved), for a rename the old path; `match` then says how the resolved path
   * matched. null when no hook resolved it (tracepoint mode, or a path too deep or long for the hook).
   */
  readonly resolvedPath: string | null;
  /** A rename an LSM hook resolved: the new path as the kernel resolved it (also in path2); else null. */
  readonly resolvedPath2: string | null;
  readonly path2Truncated: boolean;
  /** The rule matched path2 (rename target) rather than path. */
  readonly matchedPath2: boolean;
  /** The *at() directory fd as given (-100 = AT_FDCWD); fchdir: the fd. */
  readonly dirfd: number;
  readonly dirfd2: number;
  /** The syscall's return value (fd, 0 or -errno); null when unknown (killed at entry). */
  readonly result: number | null;
  /** open: O_* flags; unlinkat/fchmodat/fchownat: AT_* flags; renameat2: RENAME_* flags. */
  readonly openFlags: number;
  /** open: creation mode; chmod: the new mode. */
  readonly mode: number;
  /** chown: new owner and group (0xffffffff = unchanged); else 0. */
  readonly ownerUid: number;
  readonly ownerGid: number;
  /** 0 when no rule caused the record (chdir, fchdir, too-long path). */
  readonly ruleId: number;
  readonly action: ActionTaken;
  readonly flags: number;
  /** A successful open: the id its close record (FileCloseRecord) names; else null. */
  readonly openId: bigint | null;
}

/** How the last descriptor of an open went. */
export type FileCloseReason = 'close' | 'exit' | 'exec' | 'replaced';

/**
 * The last descriptor of a watched open went (close, dup2 over it, execve of a close-on-exec descriptor, exit):
 * what went through the open. The header is the process that let it go.
 */
export interface FileCloseRecord extends RecordHeader {
  readonly kind: 'file-close';
  /** FileRecord.openId of the open. */
  readonly openId: bigint;
  readonly bytesRead: bigint;
  readonly bytesWritten: bigint;
  /** Lengths of successful mmaps; reads and writes through a mapping are not counted anywhere. */
  readonly bytesMapped: bigint;
  readonly reads: number;
  readonly writes: number;
  readonly maps: number;
  /** The last descriptor's number. */
  readonly fd: number;
  readonly reason: FileCloseReason;
}

export interface ExecRuleRecord extends RecordHeader, PathFlags {
  readonly kind: 'exec-rule';
  /** The binary path as passed to execve/execveat; when `resolved`, the path the kernel resolved instead. */
  readonly path: string;
  /**
   * The record comes from the bprm_check_security LSM hook (the file sensor's lsm mode): `path` is the binary the
   * kernel opened, symlinks and relative names resolved; 'denied' and 'killed' then mean execve failed with EPERM.
   */
  readonly resolved: boolean;
  readonly ruleId: number;
  /** 'killed': SIGKILL was sent at syscall entry, the binary never ran. */
  readonly action: ActionTaken;
  readonly dirfd: number;
  readonly atFlags: number;
  readonly flags: number;
}

export type FileSensorRecord = FileRecord | ExecRuleRecord | FileCloseRecord;

const OP_BY_BIT = new Map<number, Exclude<FileOp, 'exec'>>([
  [FILE_OP.open, 'open'],
  [FILE_OP.unlink, 'unlink'],
  [FILE_OP.rename, 'rename'],
  [FILE_OP.chmod, 'chmod'],
  [FILE_OP.chown, 'chown'],
  [FILE_OP.chdir, 'chdir'],
  [FILE_OP.fchdir, 'fchdir'],
]);

function actionTaken(value: number): ActionTaken {
  switch (value) {
    case ACTION_TAKEN.audit:
      return 'audit';
    case ACTION_TAKEN.killed:
      return 'killed';
    case ACTION_TAKEN.denied:
      return 'denied';
    default:
      return 'none';
  }
}

function pathMatch(flags: number): PathMatch {
  if (flags & FILE_FLAG.matchExact) return 'exact';
  if (flags & FILE_FLAG.matchPrefix) return 'prefix';
  if (flags & FILE_FLAG.matchName) return 'name';
  return null;
}

/** A path field: its recorded length, capped at FILE_PATH_SIZE - 1, or up to the first NUL. */
function pathAt(buffer: Buffer, start: number, length: number): string {
  return cString(buffer, start, Math.min(length, FILE_PATH_SIZE - 1));
}

function decodeFileEvent(slice: RecordSlice): FileRecord | undefined {
  const { buffer, view, offset, length } = slice;
  const o = FILE_EVENT_LAYOUT.offsets;
  if (length < o.path2) return undefined;
  const op = OP_BY_BIT.get(view.getUint32(offset + o.op, true));
  if (op === undefined) return undefined;
  const flags = view.getUint32(offset + o.file_flags, true);
  const rename = op === 'rename';
  const hasPath2 = rename && length >= o.path3;
  // Sizes by stinger_file.h: a resolved record carries path2, and a resolved rename path3 as well.
  const resolved = (flags & FILE_FLAG.resolved) !== 0 && length >= (rename ? FILE_EVENT_LAYOUT.size : o.path3);
  const path2 = hasPath2 || resolved ? pathAt(buffer, offset + o.path2, view.getUint16(offset + o.path2_len, true)) : null;
  return {
    ...decodeRecordHeader(slice),
    kind: 'file',
    op,
    path: pathAt(buffer, offset + o.path, view.getUint16(offset + o.path_len, true)),
    path2: hasPath2 ? path2 : null,
    resolvedPath: !resolved ? null : rename ? pathAt(buffer, offset + o.path3, FILE_PATH_SIZE - 1) : path2,
    resolvedPath2: resolved && rename ? path2 : null,
    relative: (flags & FILE_FLAG.relative) !== 0,
    needsResolution: (flags & FILE_FLAG.needsResolution) !== 0,
    pathTruncated: (flags & FILE_FLAG.pathTruncated) !== 0,
    path2Truncated: (flags & FILE_FLAG.path2Truncated) !== 0,
    match: pathMatch(flags),
    matchedPath2: (flags & FILE_FLAG.matchPath2) !== 0,
    dirfd: view.getInt32(offset + o.dirfd, true),
    dirfd2: view.getInt32(offset + o.dirfd2, true),
    result: flags & FILE_FLAG.resultKnown ? Number(view.getBigInt64(offset + o.result, true)) : null,
    openFlags: Number(view.getBigUint64(offset + o.open_flags, true)),
    mode: view.getUint32(offset + o.mode, true),
    ownerUid: view.getUint32(offset + o.owner_uid, true),
    ownerGid: view.getUint32(offset + o.owner_gid, true),
    ruleId: view.getUint32(offset + o.rule_id, true),
    action: actionTaken(view.getUint32(offset + o.action, true)),
    flags,
    openId: openIdOrNull(view.getBigUint64(offset + o.open_id, true)),
  };
}

function openIdOrNull(id: bigint): bigint | null {
  return id === 0n ? null : id;
}

function closeReason(flags: number): FileCloseReason {
  if (flags & FILE_CLOSE_FLAG.atExit) return 'exit';
  if (flags & FILE_CLOSE_FLAG.atExec) return 'exec';
  if (flags & FILE_CLOSE_FLAG.replaced) return 'replaced';
  return 'close';
}

function decodeFileCloseEvent(slice: RecordSlice): FileCloseRecord | undefined {
  const { view, offset, length } = slice;
  const o = FILE_CLOSE_EVENT_LAYOUT.offsets;
  if (length < FILE_CLOSE_EVENT_LAYOUT.size) return undefined;
  const u64 = (at: number): bigint => view.getBigUint64(offset + at, true);
  return {
    ...decodeRecordHeader(slice),
    kind: 'file-close',
    openId: u64(o.open_id),
    bytesRead: u64(o.bytes_read),
    bytesWritten: u64(o.bytes_written),
    bytesMapped: u64(o.bytes_mapped),
    reads: Number(u64(o.reads)),
    writes: Number(u64(o.writes)),
    maps: Number(u64(o.maps)),
    fd: view.getInt32(offset + o.fd, true),
    reason: closeReason(view.getUint32(offset + o.close_flags, true)),
  };
}

function decodeExecRuleEvent(slice: RecordSlice): ExecRuleRecord | undefined {
  const { buffer, view, offset, length } = slice;
  const o = EXEC_RULE_EVENT_LAYOUT.offsets;
  if (length < EXEC_RULE_EVENT_LAYOUT.size) return undefined;
  const flags = view.getUint32(offset + o.exec_rule_flags, true);
  return {
    ...decodeRecordHeader(slice),
    kind: 'exec-rule',
    path: pathAt(buffer, offset + o.path, view.getUint16(offset + o.path_len, true)),
    resolved: (flags & FILE_FLAG.resolved) !== 0,
    relative: (flags & FILE_FLAG.relative) !== 0,
    needsResolution: (flags & FILE_FLAG.needsResolution) !== 0,
    pathTruncated: (flags & FILE_FLAG.pathTruncated) !== 0,
    match: pathMatch(flags),
    ruleId: view.getUint32(offset + o.rule_id, true),
    action: actionTaken(view.getUint32(offset + o.action, true)),
    dirfd: view.getInt32(offset + o.dirfd, true),
    atFlags: view.getUint32(offset + o.at_flags, true),
    flags,
  };
}

/**
 * Decodes one file-sensor record (kind FILE_EVENT_KIND.file, .execRule or .close); undefined for another kind, an
 * unknown op or a record shorter than its struct.
 */
export function decodeFileRecord(slice: RecordSlice): FileSensorRecord | undefined {
  switch (sliceKind(slice)) {
    case FILE_EVENT_KIND.file:
      return decodeFileEvent(slice);
    case FILE_EVENT_KIND.execRule:
      return decodeExecRuleEvent(slice);
    case FILE_EVENT_KIND.close:
      return decodeFileCloseEvent(slice);
    default:
      return undefined;
  }
}

/** The file sensor's kinds for createRecordDispatcher. */
export const FILE_RECORD_DECODERS: RecordDecoderTable<FileSensorRecord> = new Map([
  [FILE_EVENT_KIND.file, decodeFileRecord],
  [FILE_EVENT_KIND.execRule, decodeFileRecord],
  [FILE_EVENT_KIND.close, decodeFileRecord],
]);
