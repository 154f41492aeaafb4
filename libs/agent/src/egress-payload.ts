/**
 * The egress event's payload from an egress parser record (libs/bpf decodeEgressRecord): addresses as the
 * network events give them, the application fields of the one protocol that was read, DNS types by name. And the
 * flow event's payload from the same object's flow record (decodeFlowRecord): one socket's totals both ways.
 */
import type { EgressRecord, FlowRecord } from '@stinger/bpf';
import type { EgressPayload, NetworkPayload } from '@stinger/events';

/** DNS query types by number (RFC 1035 and successors): the ones seen in practice; others read TYPE<n> (RFC 3597). */
const DNS_TYPES: Readonly<Record<number, string>> = {
  1: 'A', 2: 'NS', 5: 'CNAME', 6: 'SOA', 12: 'PTR', 13: 'HINFO', 15: 'MX', 16: 'TXT', 28: 'AAAA', 33: 'SRV', 35: 'NAPTR',
  39: 'DNAME', 43: 'DS', 48: 'DNSKEY', 52: 'TLSA', 64: 'SVCB', 65: 'HTTPS', 255: 'ANY', 257: 'CAA',
};

export function dnsTypeName(type: number): string {
  return DNS_TYPES[type] ?? `TYPE${type}`;
}

const orNull = (text: string): string | null => (text === '' ? null : text);

/** The addresses and ports both record kinds carry, under the payload's names. */
function socketTuple<R extends EgressRecord | FlowRecord>(record: R): Pick<R, 'family' | 'protocol' | 'saddr' | 'sport' | 'daddr' | 'dport'> {
  return { family: record.family, protocol: record.protocol, saddr: record.saddr, sport: record.sport, daddr: record.daddr, dport: record.dport };
}

export function egressPayload(record: EgressRecord): EgressPayload {
  const dns = record.app === 'dns';
  const tls = record.app === 'tls';
  const http = record.app === 'http';
  return {
    group: 'egress',
    ...socketTuple(record),
    application: record.app,
    parse: record.parse,
    // DNS names are case-insensitive (RFC 4343): lower case, so rules and counts see one name.
    dns_name: dns ? orNull(record.name.toLowerCase()) : null,
    dns_type: dns && record.dnsType !== 0 ? dnsTypeName(record.dnsType) : null,
    server_name: tls ? orNull(record.name.toLowerCase()) : null,
    alpn: tls ? [...record.alpn] : [],
    http_request: http ? orNull(record.request) : null,
    http_host: http ? orNull(record.name.toLowerCase()) : null,
    socket_cookie: record.socketCookie,
    payload_bytes: record.payloadBytes,
  };
}

/**
 * A flow record as a NetworkPayload (kind flow). `bytes` is both ways together, as for the flows before the
 * per-direction fields; flow_start is the socket's connect time on the wall clock (bootToWallNs: the offset the
 * event's own time is converted with).
 */
export function flowPayload(record: FlowRecord, bootToWallNs: bigint): NetworkPayload {
  return {
    group: 'network',
    ...socketTuple(record),
    result: 0,
    bytes: record.bytesSent + record.bytesReceived,
    socket_cookie: record.socketCookie,
    bytes_sent: record.bytesSent,
    bytes_received: record.bytesReceived,
    packets_sent: record.packetsSent,
    packets_received: record.packetsReceived,
    flow_state: record.reason === 'end' ? 'ended' : 'open',
    flow_start: record.startNs === 0n ? null : record.startNs + bootToWallNs,
  };
}
