/**
 * Event summaries, for evaluating many stored events fast (`stinger replay`): an Event decoded without the fields
 * detection never reads — the root's agent_id, boot_id, seq and enrichment; a process's exec_id, tid, gid, args, cwd,
 * cgroup_id, cgroup_path and parent_exec_id; a pod's annotations, workload and workload_kind; a container's id and
 * image. Those are skipped on the wire (Avro schema resolution to a reader without them), which spares about half of
 * an event's strings.
 *
 * Contract: `decodeEventSummary` takes what decodeEvent takes (any committed Event version, single-object encoded)
 * and fails the same way (DecodeError with its reason). What it returns is typed Event but the omitted fields are
 * absent: it is for code that reads only the kept ones (libs/detection's matching, grouping, sequences and alert
 * messages). `fullEvent` turns a summary into the complete Event, decoded again from the bytes kept with it; anything
 * that leaves the process — an alert, output — goes through it. On a complete Event it returns the event itself.
 * A summary refers to the bytes it was decoded from (no copy per event: that would cost most of what the summary
 * saves): whoever keeps a summary beyond the batch it came from calls `keepEvent`, which gives it a copy of its own, so
 * a kept summary never holds on to a whole fetched batch.
 */
import type avro from 'avsc';
import { codecs, createAvroType, readWriterHeader, schemaVersions } from './codec.ts';
import { DecodeError } from './errors.ts';
import type { Event } from './generated/types.ts';

/** Fields left out of a summary, by record name. */
const OMITTED: Readonly<Record<string, readonly string[]>> = {
  Event: ['agent_id', 'boot_id', 'seq', 'enrichment'],
  Process: ['exec_id', 'tid', 'gid', 'args', 'cwd', 'cgroup_id', 'cgroup_path', 'parent_exec_id'],
  Pod: ['annotations', 'workload', 'workload_kind'],
  Container: ['id', 'image'],
};

/** The bytes a summary was decoded from: a symbol, so JSON and Object.entries never see it. */
const SOURCE = Symbol('stinger.event-summary.source');

/** A copy of `schema` (JSON) without the OMITTED fields. */
function withoutOmitted(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withoutOmitted);
  if (typeof schema !== 'object' || schema === null) return schema;
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) copy[key] = withoutOmitted(value);
  if (copy.type === 'record' && Array.isArray(copy.fields)) {
    const omitted = OMITTED[String(copy.name)] ?? [];
    copy.fields = (copy.fields as { name: string }[]).filter((field) => !omitted.includes(field.name));
  }
  return copy;
}

interface Resolving {
  readonly lo: number;
  readonly hi: number;
  readonly resolver: unknown;
}

let summary: { readonly reader: avro.Type; readonly writers: readonly Resolving[] } | undefined;

function load(): NonNullable<typeof summary> {
  if (summary) return summary;
  const versions = schemaVersions('Event');
  const current = versions[versions.length - 1];
  if (current === undefined) throw new Error('no Event schema');
  const reader = createAvroType(withoutOmitted(current.schema));
  // Newest first: records of the current version find theirs at once.
  const writers = [...versions].reverse().map((version) => ({
    lo: version.header.readUInt32LE(2),
    hi: version.header.readUInt32LE(6),
    resolver: reader.createResolver(version.type),
  }));
  summary = { reader, writers };
  return summary;
}

export function decodeEventSummary(bytes: Uint8Array): Event {
  const { reader, writers } = load();
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // Either wire format: single-object (C3 01 + fingerprint) or the registry's (00 + a schema id learnt before).
  const { lo, hi, bodyOffset } = readWriterHeader(buf, 'Event');
  const writer = writers.find((w) => w.lo === lo && w.hi === hi);
  // Not a committed Event version: the full decoder reads a newer producer's schema learnt from the registry, says
  // which schema it is, or that the fingerprint is unknown.
  if (writer === undefined) return codecs.Event.decode(buf);
  let result: { value: unknown; offset: number };
  try {
    result = reader.decode(buf, bodyOffset, writer.resolver as Parameters<avro.Type['decode']>[2]);
  } catch (cause) {
    throw new DecodeError(`Event: invalid body: ${(cause as Error).message}`, { reason: 'invalid-body', schema: 'Event', cause });
  }
  if (result.offset < 0) throw new DecodeError('Event: body ends early', { reason: 'truncated', schema: 'Event' });
  if (result.offset !== buf.length) throw new DecodeError(`Event: ${buf.length - result.offset} bytes after the body`, { reason: 'invalid-body', schema: 'Event' });
  const event = result.value as Event & { [SOURCE]?: Buffer };
  event[SOURCE] = buf;
  return event;
}

/** The complete Event behind a summary (decoded again from its bytes); a complete Event as it is. */
export function fullEvent(event: Event): Event {
  const source = (event as Event & { [SOURCE]?: Buffer })[SOURCE];
  return source === undefined ? event : codecs.Event.decode(source);
}

/** A summary now owning a copy of its bytes (see the file comment); a complete Event as it is. Returns `event`. */
export function keepEvent(event: Event): Event {
  const summary = event as Event & { [SOURCE]?: Buffer };
  const source = summary[SOURCE];
  if (source !== undefined && source.byteLength !== source.buffer.byteLength) {
    // A buffer of its own (not a pool slice), so keeping the event again copies nothing.
    const own = Buffer.allocUnsafeSlow(source.byteLength);
    source.copy(own);
    summary[SOURCE] = own;
  }
  return event;
}
