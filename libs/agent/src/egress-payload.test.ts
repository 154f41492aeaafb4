import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EgressRecord } from '@stinger/bpf';
import { dnsTypeName, egressPayload } from './egress-payload.ts';

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
