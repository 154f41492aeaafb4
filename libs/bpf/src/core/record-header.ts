/**
 * The header every ring-buffer record starts with (struct event_header in bpf/lib/stinger_event.h), shared by
 * every sensor's decoder. process/records.layout.test.ts checks these offsets against the C header.
 */

export const TASK_COMM_SIZE = 16;

/** Byte offsets of every field, and the struct sizes (sizeof). */
export const EVENT_HEADER_LAYOUT = {
  size: 64,
  offsets: { kind: 0, flags: 2, size: 4, time_ns: 8, cgroup_id: 16, pid: 24, tid: 28, ppid: 32, uid: 36, gid: 40, pad: 44, comm: 48 },
} as const;

export interface RecordHeader {
  /** CLOCK_BOOTTIME nanoseconds. */
  readonly timeNs: bigint;
  readonly cgroupId: bigint;
  readonly pid: number;
  readonly tid: number;
  /** 0 when the parent forked before the sensor loaded. */
  readonly ppid: number;
  readonly uid: number;
  readonly gid: number;
  readonly comm: string;
}

/** Where a record sits: the batch's buffer and view, the record's first byte and its length. */
/**
 * The record's event_header.kind, or -1 for a record too short to be one: decoders and the dispatcher read the kind
 * through this, so a truncated record is refused rather than read past its end.
 */
export function sliceKind({ view, offset, length }: RecordSlice): number {
  return length < EVENT_HEADER_LAYOUT.size ? -1 : view.getUint16(offset + EVENT_HEADER_LAYOUT.offsets.kind, true);
}

export interface RecordSlice {
  readonly buffer: Buffer;
  readonly view: DataView;
  readonly offset: number;
  readonly length: number;
}

/**
 * The NUL-terminated string at start, at most max bytes (a byte scan: cheaper than Buffer.indexOf for short
 * fields). Shared by every sensor's decoder; not part of the package's public API.
 */
export function cString(buffer: Buffer, start: number, max: number): string {
  let end = start;
  const limit = start + max;
  while (end < limit && buffer[end] !== 0) end++;
  return buffer.toString('utf8', start, end);
}

/** The shared header of any record (struct event_header), without its kind. */
export function decodeRecordHeader(slice: RecordSlice): RecordHeader {
  const { buffer, view, offset } = slice;
  const h = EVENT_HEADER_LAYOUT.offsets;
  return {
    timeNs: view.getBigUint64(offset + h.time_ns, true),
    cgroupId: view.getBigUint64(offset + h.cgroup_id, true),
    pid: view.getUint32(offset + h.pid, true),
    tid: view.getUint32(offset + h.tid, true),
    ppid: view.getUint32(offset + h.ppid, true),
    uid: view.getUint32(offset + h.uid, true),
    gid: view.getUint32(offset + h.gid, true),
    comm: cString(buffer, offset + h.comm, TASK_COMM_SIZE),
  };
}
