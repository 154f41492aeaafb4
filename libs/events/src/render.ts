/**
 * The JSON rendering of events used by the CLI (`-o json`) and the docs: the event-model names of
 * docs/architecture.md, one object per event, with the payload under its group's name (`exec`, `file`,
 * `network`, ...) instead of a `payload` union. `time` becomes an RFC 3339 string with nanoseconds;
 * other 64-bit integers become JSON numbers when exact, strings when beyond 2^53.
 */
import type { Alert, Enforcement, Event, FileIo, RawEvent } from './generated/types.ts';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

function toJsonValue(value: unknown): JsonValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(value) : value.toString();
  if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') return value;
  if (Buffer.isBuffer(value)) return value.toString('base64');
  if (Array.isArray(value)) return value.map(toJsonValue);
  if (typeof value === 'object') {
    const out: Record<string, JsonValue> = {};
    for (const [key, inner] of Object.entries(value)) out[key] = toJsonValue(inner);
    return out;
  }
  return String(value);
}

/** RFC 3339 UTC with nanoseconds, e.g. 2026-11-29T16:31:00.123456789Z. */
export function formatTimeNs(timeNs: bigint): string {
  const ms = timeNs / 1_000_000n;
  const iso = new Date(Number(ms)).toISOString(); // ...:SS.mmmZ
  const nanos = (timeNs % 1_000_000_000n).toString().padStart(9, '0');
  return `${iso.slice(0, 19)}.${nanos}Z`;
}

export function renderEventJson(event: RawEvent | Event): Record<string, JsonValue> {
  const { payload, time, ...rest } = event;
  const { group, ...fields } = payload;
  const out: Record<string, JsonValue> = { time: formatTimeNs(time) };
  for (const [key, value] of Object.entries(rest)) out[key] = toJsonValue(value);
  out[group] = toJsonValue(fields);
  return out;
}

/** An argument as a shell would need it quoted: plain when safe, else JSON-quoted (newlines never break the line). */
function quoteArg(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : JSON.stringify(arg);
}

/** A byte count for people: `512 B`, `2.1 KiB`, `3.0 MiB` (binary units, one decimal). */
export function formatBytes(bytes: bigint): string {
  if (bytes < 1024n) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = Number(bytes) / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

const plural = (count: bigint, one: string): string => `${count} ${one}${count === 1n ? '' : 's'}`;

/** What went through an open, e.g. `read 2.1 KiB (3 reads), wrote 10 B (1 write), mapped 4.0 KiB, at exit`. */
export function describeFileIo(io: FileIo): string {
  const parts: string[] = [];
  if (io.reads > 0n) parts.push(`read ${formatBytes(io.bytes_read)} (${plural(io.reads, 'read')})`);
  if (io.writes > 0n) parts.push(`wrote ${formatBytes(io.bytes_written)} (${plural(io.writes, 'write')})`);
  if (io.bytes_mapped > 0n) parts.push(`mapped ${formatBytes(io.bytes_mapped)}`);
  if (parts.length === 0) parts.push('nothing read or written');
  if (io.closed_by !== 'close') parts.push(io.closed_by === 'replaced' ? 'replaced by dup2' : `at ${io.closed_by}`);
  return parts.join(', ');
}

/**
 * One human line: time, node, kind, pid, binary and the payload's most telling fields. With `withPod`, the pod
 * (namespace/name) follows the node when known (`stinger events`; the console shows the pod in a column of its own and
 * parses the line's start).
 */
export function renderEventCompact(event: RawEvent | Event, options: { readonly withPod?: boolean } = {}): string {
  const { process: proc, payload } = event;
  const pod = options.withPod === true && 'pod' in event && event.pod !== null ? ` ${event.pod.namespace}/${event.pod.name}` : '';
  const head = `${formatTimeNs(event.time)} ${event.node}${pod} ${event.kind.padEnd(9)} pid=${proc.pid} ${proc.binary}`;
  const action = event.action ? ` [${event.action.kind} by ${event.action.policy}/${event.action.rule}]` : '';
  switch (payload.group) {
    case 'exec':
      return `${head} ${proc.args.map(quoteArg).join(' ')}${action}`;
    case 'exit':
      return `${head} code=${payload.code} signal=${payload.signal}${action}`;
    case 'fork':
      return `${head} child=${payload.child_pid}${action}`;
    case 'file':
      if (payload.op === 'close' && payload.io !== null) return `${head} closed ${payload.path}: ${describeFileIo(payload.io)}${action}`;
      return `${head} ${payload.op} ${payload.path} result=${payload.result}${action}`;
    case 'network': {
      const endpoints = `${payload.protocol} ${payload.saddr ?? '*'}:${payload.sport ?? '*'} -> ${payload.daddr ?? '*'}:${payload.dport ?? '*'}`;
      // A flow's totals so far, and whether the socket is gone (ended) or still open.
      if (payload.flow_state !== null)
        return `${head} ${endpoints} sent=${payload.bytes_sent ?? '?'} received=${payload.bytes_received ?? '?'} (${payload.flow_state})${action}`;
      return `${head} ${endpoints} result=${payload.result}${action}`;
    }
    case 'privilege':
    case 'capset':
    case 'namespace':
    case 'module':
    case 'ptrace':
    case 'bpf':
    case 'mount':
      return `${head} ${JSON.stringify(toJsonValue(payload))}${action}`;
    case 'egress': {
      const parse = payload.parse === 'ok' ? '' : ` (${payload.parse})`;
      const what =
        payload.application === 'dns'
          ? `${payload.dns_type ?? '?'} ${payload.dns_name ?? '?'}`
          : payload.application === 'tls'
            ? `sni=${payload.server_name ?? '-'}${payload.alpn.length > 0 ? ` alpn=${payload.alpn.join(',')}` : ''}`
            : `${JSON.stringify(payload.http_request ?? '')} host=${payload.http_host ?? '-'}`;
      return `${head} ${payload.application} ${what} -> ${payload.daddr}:${payload.dport}${parse}${action}`;
    }
  }
}

/**
 * An alert as JSON (`stinger alerts -o json`, the console): the alert's fields with times as RFC 3339, the event and
 * related events in the event rendering above, and `enforcement` — what became of it — when known.
 */
export function renderAlertJson(alert: Alert, enforcement: Enforcement | null): Record<string, JsonValue> {
  const { event, related_events: related, time, first_seen_ns: firstSeen, ...rest } = alert;
  const out: Record<string, JsonValue> = { time: formatTimeNs(time) };
  for (const [key, value] of Object.entries(rest)) out[key] = toJsonValue(value);
  out.first_seen = firstSeen === null ? null : formatTimeNs(firstSeen);
  out.event = renderEventJson(event);
  out.related_events = related.map(renderEventJson);
  out.enforcement =
    enforcement === null
      ? null
      : {
          outcome: enforcement.outcome,
          detail: enforcement.detail,
          command_id: enforcement.command_id,
          completed: enforcement.completed_at_ns === null ? null : formatTimeNs(enforcement.completed_at_ns),
        };
  return out;
}

/**
 * One line: time, severity, policy/rule, where, what, and the outcome (`pending` while none is known, or
 * `withoutOutcome`: a replayed alert has none and says what it would have led to).
 */
export function renderAlertCompact(alert: Alert, enforcement: Enforcement | null, withoutOutcome = 'pending'): string {
  const where = alert.event.pod ? `${alert.event.pod.namespace}/${alert.event.pod.name}` : alert.node;
  const outcome = enforcement === null ? withoutOutcome : `${enforcement.outcome}${enforcement.detail ? ` (${enforcement.detail})` : ''}`;
  const count = alert.count > 1 ? ` ×${alert.count}` : '';
  return `${formatTimeNs(alert.time).slice(0, 23)}Z ${alert.severity.toUpperCase().padEnd(8)} ${alert.policy}/${alert.rule}${count} ${where} pid ${alert.event.process.pid} ${alert.event.process.binary} → ${outcome}`;
}
