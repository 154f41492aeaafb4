import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EgressRecord, FlowRecord } from '@stinger/bpf';
import { dnsTypeName, egressPayload, flowPayload } from './egress-payload.ts';

const record = (fields: Partial<EgressRecord>): EgressRecord => ({
  kind: 'egress',
  timeNs: 1n,
  cgroupId: 7n,
  pid: 42,
  tid: 42,
  ppid: 1,
  uid: 0,
  gid: 0,
  comm: 'curl',
  app: 'dns',
  parse: 'ok',
  socketCookie: 99n,
  family: 'inet',
  protocol: 'udp',
  saddr: '10.0.0.2',
  sport: 5353,
  daddr: '10.0.0.1',
  dport: 53,
  payloadBytes: 33,
  name: '',
  dnsType: 0,
  alpn: [],
  request: '',
  ...fields,
});

test('a DNS record: the name lower-cased, the type by name, nothing of TLS or HTTP', () => {
  const payload = egressPayload(record({ name: 'Pool.Example', dnsType: 28 }));
  assert.equal(payload.group, 'egress');
  assert.equal(payload.application, 'dns');
  assert.equal(payload.dns_name, 'pool.example');
  assert.equal(payload.dns_type, 'AAAA');
  assert.deepEqual([payload.server_name, payload.http_request, payload.http_host, payload.alpn], [null, null, null, []]);
  assert.equal(payload.socket_cookie, 99n);
  assert.equal(payload.payload_bytes, 33);
});

test('TLS: server name and ALPN; HTTP: request line as sent, Host lower-cased; an absent name is null', () => {
  const tls = egressPayload(record({ app: 'tls', protocol: 'tcp', dport: 443, name: 'API.example', alpn: ['h2', 'http/1.1'] }));
  assert.deepEqual([tls.server_name, tls.alpn, tls.dns_name, tls.dns_type], ['api.example', ['h2', 'http/1.1'], null, null]);
  const http = egressPayload(record({ app: 'http', protocol: 'tcp', dport: 80, name: 'Web.Example:8080', request: 'GET /A HTTP/1.1' }));
  assert.deepEqual([http.http_request, http.http_host], ['GET /A HTTP/1.1', 'web.example:8080']);
  const fragmented = egressPayload(record({ app: 'tls', protocol: 'tcp', parse: 'fragmented' }));
  assert.deepEqual([fragmented.server_name, fragmented.parse], [null, 'fragmented']);
});

test('DNS types: common ones by name, others as TYPE<n> (RFC 3597)', () => {
  assert.deepEqual([1, 5, 16, 33, 65, 4242].map(dnsTypeName), ['A', 'CNAME', 'TXT', 'SRV', 'HTTPS', 'TYPE4242']);
});

const flowRecord = (fields: Partial<FlowRecord>): FlowRecord => ({
  kind: 'flow',
  timeNs: 5_000n,
  cgroupId: 7n,
  pid: 42,
  tid: 42,
  ppid: 1,
  uid: 0,
  gid: 0,
  comm: 'curl',
  reason: 'end',
  socketCookie: 99n,
  family: 'inet',
  protocol: 'tcp',
  saddr: '10.0.0.2',
  sport: 40000,
  daddr: '10.0.0.9',
  dport: 443,
  bytesSent: 700n,
  bytesReceived: 1_000_300n,
  packetsSent: 20n,
  packetsReceived: 30n,
  startNs: 1_000n,
  ...fields,
});

test('a flow record: a network payload with both directions, the cookie, its state, and its start on the wall clock', () => {
  const payload = flowPayload(flowRecord({}), 1_700_000_000_000_000_000n);
  assert.equal(payload.group, 'network');
  assert.deepEqual([payload.daddr, payload.dport, payload.saddr, payload.sport, payload.protocol, payload.result], ['10.0.0.9', 443, '10.0.0.2', 40000, 'tcp', 0]);
  assert.deepEqual([payload.bytes_sent, payload.bytes_received, payload.bytes], [700n, 1_000_300n, 1_001_000n]);
  assert.deepEqual([payload.packets_sent, payload.packets_received, payload.socket_cookie], [20n, 30n, 99n]);
  assert.equal(payload.flow_state, 'ended');
  assert.equal(payload.flow_start, 1_700_000_000_000_001_000n);
  assert.equal(flowPayload(flowRecord({ reason: 'interim', startNs: 0n }), 0n).flow_state, 'open');
  assert.equal(flowPayload(flowRecord({ startNs: 0n }), 5n).flow_start, null, 'no start read: null, not the boot time');
});
