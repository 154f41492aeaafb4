/**
 * Decoder and layout tables of the egress parser's record and maps (C: struct egress_event and friends in
 * bpf/lib/stinger_net.h, written by bpf/network/bpf_egress.c). egress-records.layout.test.ts compiles the header
 * with the host compiler and fails when any offset, size or constant here differs.
 */
import { decodeRecordHeader, cString, sliceKind, type RecordHeader, type RecordSlice } from '../core/record-header.ts';
import { EVENT_KINDS } from '../core/event-kinds.ts';
import { NET_AF, formatIpv4, formatIpv6, type NetFamily } from './records.ts';

export const EGRESS_EVENT_KIND = EVENT_KINDS.EVENT_KIND_EGRESS.value;
export const FLOW_EVENT_KIND = EVENT_KINDS.EVENT_KIND_FLOW.value;

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
export const EGRESS_SOCKET_LAYOUT = {
  size: 160,
  offsets: {
    owner: 0,
    state: 64,
    pad: 68,
    bytes_sent: 72,
    bytes_received: 80,
    packets_sent: 88,
    packets_received: 96,
    reported_ns: 104,
    start_ns: 112,
    family: 120,
    protocol: 122,
    sport: 124,
    dport: 126,
    saddr: 128,
    daddr: 144,
  },
} as const;
export const EGRESS_CONFIG_LAYOUT = {
  size: 40,
  offsets: { cost_ns: 0, max_credit_ns: 8, flow_interval_ns: 16, flow_cost_ns: 24, flow_max_credit_ns: 32 },
} as const;
export const EGRESS_BUCKET_LAYOUT = { size: 24, offsets: { last_ns: 0, credit_ns: 8, dropped: 16 } } as const;
/** Slots of the per-CPU egress_counters array. */
export const EGRESS_COUNTER = { emitted: 0, rateLimited: 1, ringFull: 2, flows: 3, flowsRateLimited: 4 } as const;
export const EGRESS_SOCKET_DONE = 1;
export const EGRESS_SOCKET_TUPLE = 2;

export const FLOW_EVENT_LAYOUT = {
  size: 160,
  offsets: {
    hdr: 0,
    socket_cookie: 64,
    family: 72,
    protocol: 74,
    sport: 76,
    dport: 78,
    saddr: 80,
    daddr: 96,
    bytes_sent: 112,
    bytes_received: 120,
    packets_sent: 128,
    packets_received: 136,
    start_ns: 144,
    reason: 152,
    pad: 153,
  },
} as const;
/** flow_event.reason: the socket was released, or it is still open and this is an interim count. */
export const FLOW_REASON = { end: 1, interim: 2 } as const;
export type FlowReason = keyof typeof FLOW_REASON;

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

/**
 * One socket's traffic (C: struct flow_event): totals since the socket's first packet, both ways. Bytes are
 * network-layer (IP header included), as the stack handed the packets over (a GSO packet once, with its headers
 * once); packets count segments. The header is the socket's owner, as in EgressRecord; socketCookie is the one
 * the socket's egress records carry.
 */
export interface FlowRecord extends RecordHeader {
  readonly kind: 'flow';
  readonly reason: FlowReason;
  readonly socketCookie: bigint;
  readonly family: NetFamily;
  readonly protocol: 'tcp' | 'udp';
  readonly saddr: string;
  readonly sport: number;
  readonly daddr: string;
  readonly dport: number;
  readonly bytesSent: bigint;
  readonly bytesReceived: bigint;
  readonly packetsSent: bigint;
  readonly packetsReceived: bigint;
  /** When the socket was connected (or first sent to port 53), CLOCK_BOOTTIME ns like timeNs. */
  readonly startNs: bigint;
}

/** Decodes a flow record; undefined for another kind, a short record, or values outside the C constants. */
export function decodeFlowRecord(slice: RecordSlice): FlowRecord | undefined {
  const { buffer, view, offset, length } = slice;
  if (sliceKind(slice) !== FLOW_EVENT_KIND || length < FLOW_EVENT_LAYOUT.size) return undefined;
  const o = FLOW_EVENT_LAYOUT.offsets;
  const reason = keyOf(FLOW_REASON, view.getUint8(offset + o.reason));
  const familyNumber = view.getUint16(offset + o.family, true);
  const protocol = PROTOCOL_NAMES[view.getUint16(offset + o.protocol, true)];
  if (reason === undefined || protocol === undefined) return undefined;
  if (familyNumber !== NET_AF.inet && familyNumber !== NET_AF.inet6) return undefined;
  const address = (at: number): string =>
    familyNumber === NET_AF.inet ? formatIpv4(buffer, offset + at) : formatIpv6(buffer, offset + at);
  const u64 = (at: number): bigint => view.getBigUint64(offset + at, true);
  return {
    ...decodeRecordHeader(slice),
    kind: 'flow',
    reason,
    socketCookie: u64(o.socket_cookie),
    family: familyNumber === NET_AF.inet ? 'inet' : 'inet6',
    protocol,
    saddr: address(o.saddr),
    sport: view.getUint16(offset + o.sport, true),
    daddr: address(o.daddr),
    dport: view.getUint16(offset + o.dport, true),
    bytesSent: u64(o.bytes_sent),
    bytesReceived: u64(o.bytes_received),
    packetsSent: u64(o.packets_sent),
    packetsReceived: u64(o.packets_received),
    startNs: u64(o.start_ns),
  };
}

/** kind -> decoder, for createRecordDispatcher (egress and flow records, both written by bpf_egress.c). */
export const EGRESS_RECORD_DECODERS: ReadonlyMap<number, (slice: RecordSlice) => EgressRecord | FlowRecord | undefined> = new Map<
  number,
  (slice: RecordSlice) => EgressRecord | FlowRecord | undefined
>([
  [EGRESS_EVENT_KIND, decodeEgressRecord],
  [FLOW_EVENT_KIND, decodeFlowRecord],
]);
