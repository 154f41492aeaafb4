/**
 * Decoders for the records the process sensor writes (C structs in bpf/lib/stinger_event.h).
 *
 * The offset tables below are the TypeScript half of the ring-buffer contract; records.layout.test.ts compiles
 * the C header with the host compiler and fails when any offset, size or constant differs. Decoding reads
 * fixed offsets with a DataView; strings are cut at their recorded length or first NUL.
 */
import { cString, decodeRecordHeader, sliceKind, type RecordHeader, type RecordSlice } from '../core/record-header.ts';
import type { RecordDecoderTable } from '../core/record-dispatch.ts';
import { sensorEventKinds } from '../core/event-kinds.ts';

/** Values of event_header.kind for the process sensor's records (from core/event-kinds.ts). */
export const EVENT_KIND = sensorEventKinds('process');
export type ProcessRecordKind = keyof typeof EVENT_KIND;

export const EXEC_FILENAME_SIZE = 256;
export const EXEC_ARGS_SIZE = 1024;
export const EXEC_ARGC_MAX = 64;

export const EXEC_FLAG = {
  argsTruncated: 1 << 0,
  argsMissing: 1 << 1,
  filenameTruncated: 1 << 2,
  filenameFromUser: 1 << 3,
  argsFault: 1 << 4,
} as const;

export const EXIT_FLAG = { statusKnown: 1 << 0, signaled: 1 << 1 } as const;

/** Byte offsets of every field, and the struct sizes (sizeof). */
export const EXEC_EVENT_LAYOUT = {
  size: 2384,
  offsets: { hdr: 0, old_tid: 64, exec_flags: 68, filename_len: 72, args_len: 74, argc: 76, filename: 80, args: 336 },
} as const;

export const FORK_EVENT_LAYOUT = { size: 72, offsets: { hdr: 0, child_pid: 64, pad: 68 } } as const;

export const EXIT_EVENT_LAYOUT = { size: 72, offsets: { hdr: 0, status: 64, exit_flags: 68 } } as const;

export interface ExecRecord extends RecordHeader {
  readonly kind: 'exec';
  /** Thread that called execve (differs from tid when a non-leader thread exec'd). */
  readonly oldTid: number;
  readonly binary: string;
  readonly args: readonly string[];
  readonly argsTruncated: boolean;
  /** No execve syscall was seen (kernel-initiated exec): args empty. */
  readonly argsMissing: boolean;
  readonly binaryTruncated: boolean;
  readonly flags: number;
}

export interface ForkRecord extends RecordHeader {
  readonly kind: 'fork';
  readonly childPid: number;
}

export interface ExitRecord extends RecordHeader {
  readonly kind: 'exit';
  /** wait(2)-style status; meaningful only when statusKnown. */
  readonly status: number;
  readonly statusKnown: boolean;
  /** Exit code (status >> 8) when the process called exit, else null. */
  readonly code: number | null;
  /** Terminating signal when the process was killed by one, else null. */
  readonly signal: number | null;
}

export type ProcessRecord = ExecRecord | ForkRecord | ExitRecord;

function splitArgs(buffer: Buffer, start: number, length: number): string[] {
  const args: string[] = [];
  const end = start + length;
  for (let pos = start; pos < end; ) {
    let nul = buffer.indexOf(0, pos);
    if (nul < 0 || nul > end) nul = end;
    args.push(buffer.toString('utf8', pos, nul));
    pos = nul + 1;
  }
  return args;
}

function decodeExec(slice: RecordSlice): ExecRecord {
  const { buffer, view, offset, length } = slice;
  const o = EXEC_EVENT_LAYOUT.offsets;
  const flags = view.getUint32(offset + o.exec_flags, true);
  const filenameLen = Math.min(view.getUint16(offset + o.filename_len, true), EXEC_FILENAME_SIZE - 1);
  const argsLen = Math.min(view.getUint16(offset + o.args_len, true), length - o.args, EXEC_ARGS_SIZE);
  return {
    ...decodeRecordHeader(slice),
    kind: 'exec',
    oldTid: view.getUint32(offset + o.old_tid, true),
    binary: cString(buffer, offset + o.filename, filenameLen),
    args: splitArgs(buffer, offset + o.args, Math.max(argsLen, 0)),
    argsTruncated: (flags & EXEC_FLAG.argsTruncated) !== 0,
    argsMissing: (flags & EXEC_FLAG.argsMissing) !== 0,
    binaryTruncated: (flags & EXEC_FLAG.filenameTruncated) !== 0,
    flags,
  };
}

function decodeFork(slice: RecordSlice): ForkRecord {
  const { view, offset } = slice;
  return {
    ...decodeRecordHeader(slice),
    kind: 'fork',
    childPid: view.getUint32(offset + FORK_EVENT_LAYOUT.offsets.child_pid, true),
  };
}

function decodeExit(slice: RecordSlice): ExitRecord {
  const { view, offset } = slice;
  const status = view.getUint32(offset + EXIT_EVENT_LAYOUT.offsets.status, true);
  const flags = view.getUint32(offset + EXIT_EVENT_LAYOUT.offsets.exit_flags, true);
  const statusKnown = (flags & EXIT_FLAG.statusKnown) !== 0;
  const signaled = (flags & EXIT_FLAG.signaled) !== 0;
  return {
    ...decodeRecordHeader(slice),
    kind: 'exit',
    status,
    statusKnown,
    code: statusKnown && !signaled ? (status >> 8) & 0xff : null,
    signal: statusKnown && signaled ? status & 0x7f : null,
  };
}

const MIN_SIZE: Readonly<Record<ProcessRecordKind, number>> = {
  exec: EXEC_EVENT_LAYOUT.offsets.args,
  fork: FORK_EVENT_LAYOUT.size,
  exit: EXIT_EVENT_LAYOUT.size,
};

/** The kind of the record at slice, or undefined for a kind this decoder does not know. */
export function recordKind(slice: RecordSlice): ProcessRecordKind | undefined {
  switch (sliceKind(slice)) {
    case EVENT_KIND.exec:
      return 'exec';
    case EVENT_KIND.exit:
      return 'exit';
    case EVENT_KIND.fork:
      return 'fork';
    default:
      return undefined;
  }
}

/** Decodes one process-sensor record; undefined when the kind is unknown or the record is shorter than its struct. */
export function decodeProcessRecord(slice: RecordSlice): ProcessRecord | undefined {
  const kind = recordKind(slice);
  if (kind === undefined || slice.length < MIN_SIZE[kind]) return undefined;
  switch (kind) {
    case 'exec':
      return decodeExec(slice);
    case 'fork':
      return decodeFork(slice);
    case 'exit':
      return decodeExit(slice);
  }
}

/** The process sensor's kinds for createRecordDispatcher. */
export const PROCESS_RECORD_DECODERS: RecordDecoderTable<ProcessRecord> = new Map([
  [EVENT_KIND.exec, decodeProcessRecord],
  [EVENT_KIND.exit, decodeProcessRecord],
  [EVENT_KIND.fork, decodeProcessRecord],
]);
