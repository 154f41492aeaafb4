/**
 * Decoder and layout tables of the egress parser's record and maps (C: struct egress_event and friends in
 * bpf/lib/stinger_net.h, written by bpf/network/bpf_egress.c). egress-records.layout.test.ts compiles the header
 * with the host compiler and fails when any offset, size or constant here differs.
 */
import { decodeRecordHeader, cString, sliceKind, type RecordHeader, type RecordSlice } from '../core/record-header.ts';
import { EVENT_KINDS } from '../core/event-kinds.ts';
import { NET_AF, formatIpv4, formatIpv6, type NetFamily } from './records.ts';

export const EGRESS_EVENT_KIND = EVENT_KINDS.EVENT_KIND_EGRESS.value;

/** egress_event.app: which application protocol the payload was read as. */
export const EGRESS_APP = { dns: 1, tls: 2, http: 3 } as const;
export type EgressApp = keyof typeof EGRESS_APP;

/** egress_event.parse: whether the fields are complete (see stinger_net.h). */
export const EGRESS_PARSE = { ok: 0, truncated: 1, fragmented: 2, malformed: 3 } as const;
export type EgressParse = keyof typeof EGRESS_PARSE;

export const EGRESS_NAME_SIZE = 128;
export const EGRESS_ALPN_SIZE = 32;
export const EGRESS_REQUEST_SIZE = 128;

export const EGRESS_EVENT_LAYOUT = {
  size: 416,
  offsets: {
    hdr: 0,
    socket_cookie: 64,
    family: 72,
    protocol: 74,
    sport: 76,
    dport: 78,
    saddr: 80,
    daddr: 96,
    app: 112,
    parse: 113,
    dns_type: 114,
    name_len: 116,
    alpn_len: 118,
    request_len: 120,
    pad: 122,
    payload_len: 124,
    name: 128,
    alpn: 256,
    request: 288,
  },
} as const;
export const EGRESS_SOCKET_LAYOUT = { size: 72, offsets: { owner: 0, state: 64, pad: 68 } } as const;
export const EGRESS_CONFIG_LAYOUT = { size: 16, offsets: { cost_ns: 0, max_credit_ns: 8 } } as const;
export const EGRESS_BUCKET_LAYOUT = { size: 24, offsets: { last_ns: 0, credit_ns: 8, dropped: 16 } } as const;
/** Slots of the per-CPU egress_counters array. */
export const EGRESS_COUNTER = { emitted: 0, rateLimited: 1, ringFull: 2 } as const;
export const EGRESS_SOCKET_DONE = 1;

const PROTOCOL_NAMES: Readonly<Record<number, 'tcp' | 'udp'>> = { 6: 'tcp', 17: 'udp' };

/**
 * One parsed payload. The header (pid, tid, uid, gid, comm, cgroupId) is the socket's owner as recorded when it
 * connected or sent to port 53, not the task that ran when the packet left.
 */
export interface EgressRecord extends RecordHeader {
  readonly kind: 'egress';
  readonly app: EgressApp;
  readonly parse: EgressParse;
  readonly socketCookie: bigint;
  readonly family: NetFamily;
  readonly protocol: 'tcp' | 'udp';
  readonly saddr: string;
  readonly sport: number;
  readonly daddr: string;
  readonly dport: number;
  /** Bytes of application payload in the parsed packet. */
  readonly payloadBytes: number;
  /** DNS: the query name; TLS: the server name (SNI); HTTP: the Host header. Empty when absent. */
  readonly name: string;
  /** DNS QTYPE (1 A, 28 AAAA, ...); 0 for TLS/HTTP or when not read. */
  readonly dnsType: number;
  /** TLS ALPN protocols in the client's order. */
  readonly alpn: readonly string[];
  /** HTTP request line without its CRLF; empty for DNS/TLS. */
  readonly request: string;
}

/**
 * Length-prefixed labels as the packet holds them (a DNS name's labels, a TLS ALPN list) as a list of strings. A
 * label cut short by the field's end (a truncated record) keeps what is there.
 */
export function labelsOf(bytes: Uint8Array): string[] {
  const labels: string[] = [];
  for (let at = 0; at < bytes.length; ) {
    const length = bytes[at] ?? 0;
    if (length === 0) break;
    labels.push(Buffer.from(bytes.subarray(at + 1, Math.min(at + 1 + length, bytes.length))).toString('latin1'));
    at += 1 + length;
  }
  return labels;
}

function keyOf<T extends Record<string, number>>(table: T, value: number): keyof T | undefined {
  for (const [key, number] of Object.entries(table)) if (number === value) return key;
  return undefined;
}

/** Decodes an egress record; undefined for another kind, a short record, or values outside the C constants. */
export function decodeEgressRecord(slice: RecordSlice): EgressRecord | undefined {
  const { buffer, view, offset, length } = slice;
  if (sliceKind(slice) !== EGRESS_EVENT_KIND || length < EGRESS_EVENT_LAYOUT.size) return undefined;
  const o = EGRESS_EVENT_LAYOUT.offsets;
  const app = keyOf(EGRESS_APP, view.getUint8(offset + o.app));
  const parse = keyOf(EGRESS_PARSE, view.getUint8(offset + o.parse));
  const familyNumber = view.getUint16(offset + o.family, true);
  const protocol = PROTOCOL_NAMES[view.getUint16(offset + o.protocol, true)];
  if (app === undefined || parse === undefined || protocol === undefined) return undefined;
  if (familyNumber !== NET_AF.inet && familyNumber !== NET_AF.inet6) return undefined;
  const address = (at: number): string =>
    familyNumber === NET_AF.inet ? formatIpv4(buffer, offset + at) : formatIpv6(buffer, offset + at);
  const field = (at: number, lengthAt: number, size: number): Uint8Array =>
    buffer.subarray(offset + at, offset + at + Math.min(view.getUint16(offset + lengthAt, true), size - 1));
  const text = (at: number, lengthAt: number, size: number): string => cString(buffer, offset + at, field(at, lengthAt, size).length);
  const name = app === 'dns' ? labelsOf(field(o.name, o.name_len, EGRESS_NAME_SIZE)).join('.') : text(o.name, o.name_len, EGRESS_NAME_SIZE);
  return {
    ...decodeRecordHeader(slice),
    kind: 'egress',
    app,
    parse,
    socketCookie: view.getBigUint64(offset + o.socket_cookie, true),
    family: familyNumber === NET_AF.inet ? 'inet' : 'inet6',
    protocol,
    saddr: address(o.saddr),
    sport: view.getUint16(offset + o.sport, true),
    daddr: address(o.daddr),
    dport: view.getUint16(offset + o.dport, true),
    payloadBytes: view.getUint32(offset + o.payload_len, true),
    name,
    dnsType: view.getUint16(offset + o.dns_type, true),
    alpn: labelsOf(field(o.alpn, o.alpn_len, EGRESS_ALPN_SIZE)),
    request: text(o.request, o.request_len, EGRESS_REQUEST_SIZE),
  };
}

/** kind -> decoder, for createRecordDispatcher. */
export const EGRESS_RECORD_DECODERS: ReadonlyMap<number, (slice: RecordSlice) => EgressRecord | undefined> = new Map([
  [EGRESS_EVENT_KIND, decodeEgressRecord],
]);
