// The egress record decoder on hand-made records: DNS labels and the ALPN list arrive in wire form and leave as text;
// a label cut by its field keeps what is there; values outside the C constants are refused.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EGRESS_APP, EGRESS_EVENT_KIND, EGRESS_EVENT_LAYOUT, EGRESS_PARSE, decodeEgressRecord, labelsOf } from './egress-records.ts';
import { EVENT_HEADER_LAYOUT } from '../core/record-header.ts';

const o = EGRESS_EVENT_LAYOUT.offsets;
const wire = (...labels: string[]): Buffer => Buffer.concat(labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'latin1')])));

function record(fields: { app: number; parse?: number; name?: Buffer; alpn?: Buffer; request?: string; protocol?: number; family?: number }) {
  const buffer = Buffer.alloc(EGRESS_EVENT_LAYOUT.size);
  buffer.writeUInt16LE(EGRESS_EVENT_KIND, EVENT_HEADER_LAYOUT.offsets.kind);
  buffer.writeUInt32LE(4242, EVENT_HEADER_LAYOUT.offsets.pid);
  buffer.write('getent', EVENT_HEADER_LAYOUT.offsets.comm);
  buffer.writeBigUInt64LE(77n, o.socket_cookie);
  buffer.writeUInt16LE(fields.family ?? 2, o.family);
  buffer.writeUInt16LE(fields.protocol ?? 17, o.protocol);
  buffer.writeUInt16LE(40000, o.sport);
  buffer.writeUInt16LE(53, o.dport);
  buffer.set([10, 0, 0, 2], o.saddr);
  buffer.set([10, 96, 0, 10], o.daddr);
  buffer.writeUInt8(fields.app, o.app);
  buffer.writeUInt8(fields.parse ?? EGRESS_PARSE.ok, o.parse);
  buffer.writeUInt16LE(1, o.dns_type);
  const put = (at: number, lengthAt: number, bytes: Buffer | undefined) => {
    if (bytes === undefined) return;
    buffer.set(bytes, at);
    buffer.writeUInt16LE(bytes.length, lengthAt);
  };
  put(o.name, o.name_len, fields.name);
  put(o.alpn, o.alpn_len, fields.alpn);
  put(o.request, o.request_len, fields.request === undefined ? undefined : Buffer.from(fields.request));
  buffer.writeUInt32LE(37, o.payload_len);
  return { buffer, view: new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength), offset: 0, length: buffer.length };
}

test('a DNS record: the wire-form name dotted, addresses, ports, type and the socket owner', () => {
  const decoded = decodeEgressRecord(record({ app: EGRESS_APP.dns, name: wire('lookup', 'egress', 'example') }));
  assert.ok(decoded);
  assert.deepEqual(
    [decoded.app, decoded.name, decoded.dnsType, decoded.daddr, decoded.dport, decoded.saddr, decoded.sport, decoded.protocol, decoded.pid, decoded.comm, decoded.socketCookie, decoded.payloadBytes],
    ['dns', 'lookup.egress.example', 1, '10.96.0.10', 53, '10.0.0.2', 40000, 'udp', 4242, 'getent', 77n, 37],
  );
});

test('TLS: the server name as text and the ALPN list split; HTTP: the request line', () => {
  const tls = decodeEgressRecord(record({ app: EGRESS_APP.tls, protocol: 6, name: Buffer.from('tls.example'), alpn: wire('h2', 'http/1.1') }));
  assert.deepEqual([tls?.name, tls?.alpn], ['tls.example', ['h2', 'http/1.1']]);
  const http = decodeEgressRecord(record({ app: EGRESS_APP.http, protocol: 6, name: Buffer.from('web.example'), request: 'GET / HTTP/1.1' }));
  assert.deepEqual([http?.request, http?.name, http?.alpn], ['GET / HTTP/1.1', 'web.example', []]);
});

test('labelsOf: stops at a zero length, keeps a label cut by the end of the field', () => {
  assert.deepEqual(labelsOf(wire('a', 'bc')), ['a', 'bc']);
  assert.deepEqual(labelsOf(Buffer.concat([wire('a'), Buffer.from([0]), wire('zz')])), ['a']);
  assert.deepEqual(labelsOf(Buffer.from([5, 0x61, 0x62])), ['ab']);
  assert.deepEqual(labelsOf(Buffer.alloc(0)), []);
});

test('an unknown application, parse result, protocol or family is refused, not guessed', () => {
  assert.equal(decodeEgressRecord(record({ app: 9 })), undefined);
  assert.equal(decodeEgressRecord(record({ app: EGRESS_APP.dns, parse: 7 })), undefined);
  assert.equal(decodeEgressRecord(record({ app: EGRESS_APP.dns, protocol: 1 })), undefined);
  assert.equal(decodeEgressRecord(record({ app: EGRESS_APP.dns, family: 1 })), undefined);
});
