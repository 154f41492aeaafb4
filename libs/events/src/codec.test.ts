import { test } from 'node:test';
import assert from 'node:assert/strict';
import { codecs, createCodec, decode, decodeAny, encode, readFingerprint, schemaVersionOf } from './codec.ts';
import { DecodeError, EncodeError, SchemaError } from './errors.ts';
import type { Payload, RawEvent } from './generated/types.ts';
import { fingerprint64, fingerprintToBytes } from './crc64.ts';
import { NO_FLOW } from './network-payload.ts';

function sampleRawEvent(): RawEvent {
  return {
    id: '0191d3a4-7b7e-7cc0-9d7e-5c1f0b6a7e01',
    time: 1732900000123456789n,
    node: 'node-a',
    agent_id: 'agent-1',
    boot_id: null,
    seq: 42n,
    kind: 'exec',
    process: {
      exec_id: 'node-a:123:77', pid: 77, tid: 77, uid: 0n, gid: 0n, binary: '/usr/bin/id', args: ['-u'], cwd: '/',
      start_time: 123n, cgroup_id: 5n, cgroup_path: null, container_id: null, parent_exec_id: null,
    },
    parent: null,
    payload: { group: 'exec', filename: 'id', euid: 0n, egid: 0n, secure_exec: false, args_truncated: false, sha256: null, reached_by: null },
    action: null,
  };
}

// Exhaustive over the payload union: adding a payload group breaks this switch at compile time (lint and tsc).
function describePayload(payload: Payload): string {
  switch (payload.group) {
    case 'exec': return `exec ${payload.filename}`;
    case 'exit': return `exit ${payload.code}`;
    case 'fork': return `fork ${payload.child_pid}`;
    case 'file': return `file ${payload.op} ${payload.path}`;
    case 'network': return `network ${payload.daddr ?? ''}`;
    case 'privilege': return `privilege ${payload.syscall}`;
    case 'capset': return `capset ${payload.effective}`;
    case 'namespace': return `namespace ${payload.op}`;
    case 'module': return `module ${payload.op}`;
    case 'ptrace': return `ptrace ${payload.request_name}`;
    case 'bpf': return `bpf ${payload.cmd_name}`;
    case 'mount': return `mount ${payload.target}`;
    case 'egress': return `egress ${payload.application} ${payload.dns_name ?? payload.server_name ?? payload.http_host ?? ''}`;
  }
}

test('encode writes C3 01, the little-endian fingerprint of the canonical form, then the body; decode gives the value back', () => {
  const codec = codecs.RawEvent;
  const bytes = codec.encode(sampleRawEvent());
  assert.equal(bytes.subarray(0, 2).toString('hex'), 'c301');
  assert.deepEqual(bytes.subarray(2, 10), fingerprintToBytes(fingerprint64(codec.current.canonicalForm)));
  assert.deepEqual(bytes.subarray(10), codec.current.type.toBuffer(sampleRawEvent()));
  const decoded = codec.decode(bytes);
  assert.equal(decoded.time, 1732900000123456789n);
  assert.equal(describePayload(decoded.payload), 'exec id');
  assert.deepEqual(codec.encode(decoded), bytes);
});

test('payload groups survive the round trip for every branch', () => {
  const payloads: Payload[] = [
    { group: 'exit', code: 0, signal: 9 },
    { group: 'fork', child_pid: 5, child_exec_id: 'n:1:5', clone_flags: 17n },
    { group: 'file', op: 'rename', path: '/a', path_as_given: 'a', new_path: '/b', flags: 0, mode: null, result: 0, reached_by: null, io: null },
    { group: 'network', family: 'inet', protocol: 'tcp', saddr: null, sport: null, daddr: '10.0.0.1', dport: 80, result: -1, bytes: null, ...NO_FLOW },
    { group: 'privilege', syscall: 'setuid', ruid: 0n, euid: 0n, suid: 0n, rgid: null, egid: null, sgid: null, result: 0 },
    { group: 'capset', effective: 1n << 21n, permitted: 1n << 21n, inheritable: 0n, result: 0 },
    { group: 'namespace', op: 'unshare', flags: 0x40000000n, namespaces: ['net'], fd: null, result: 0 },
    { group: 'module', op: 'load', name: 'x', path: null, result: -1 },
    { group: 'ptrace', request: 16, request_name: 'PTRACE_ATTACH', target_pid: 1, result: 0 },
    { group: 'bpf', cmd: 5, cmd_name: 'BPF_PROG_LOAD', prog_type: 1, name: null, result: 3 },
    { group: 'mount', op: 'mount', source: 'proc', target: '/mnt', fstype: 'proc', flags: 0n, result: 0 },
    {
      group: 'egress',
      family: 'inet',
      protocol: 'udp',
      saddr: '10.244.0.5',
      sport: 40000,
      daddr: '10.96.0.10',
      dport: 53,
      application: 'dns',
      parse: 'ok',
      dns_name: 'pool.example',
      dns_type: 'A',
      server_name: null,
      alpn: [],
      http_request: null,
      http_host: null,
      socket_cookie: 4097n,
      payload_bytes: 30,
    },
  ];
  for (const payload of payloads) {
    const decoded = decodeRawEvent({ ...sampleRawEvent(), payload });
    assert.equal(decoded.payload.group, payload.group);
    assert.equal(describePayload(decoded.payload), describePayload(payload));
  }
});

function decodeRawEvent(value: RawEvent): RawEvent {
  return decode('RawEvent', encode('RawEvent', value));
}

function decodeError(fn: () => unknown): DecodeError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof DecodeError, `expected DecodeError, got ${String(error)}`);
    assert.equal(error.retriable, false);
    return error;
  }
  assert.fail('did not throw');
}

test('decode errors carry a reason a consumer can dead-letter by', () => {
  const codec = codecs.RawEvent;
  const bytes = codec.encode(sampleRawEvent());
  assert.equal(decodeError(() => codec.decode(bytes.subarray(0, 9))).reason, 'truncated');
  assert.equal(decodeError(() => codec.decode(bytes.subarray(0, bytes.length - 3))).reason, 'truncated');
  const badMagic = Buffer.from(bytes);
  badMagic[0] = 0x4f;
  assert.equal(decodeError(() => codec.decode(badMagic)).reason, 'bad-magic');
  const unknown = Buffer.from(bytes);
  unknown[5] = (unknown[5] as number) ^ 0xff;
  const error = decodeError(() => codec.decode(unknown));
  assert.equal(error.reason, 'unknown-fingerprint');
  assert.equal(error.fingerprint, readFingerprint(unknown));
  assert.equal(decodeError(() => codec.decode(Buffer.concat([bytes, Buffer.from([0])]))).reason, 'invalid-body');
  const badUnion = Buffer.from(bytes);
  badUnion[bytes.length - 1] = 0x7e; // action union index 63: no such branch
  assert.equal(decodeError(() => codec.decode(badUnion)).reason, 'invalid-body');
  const ack = codecs.ControlAck.encode({ command_id: 'c', node: 'n', agent_id: 'a', status: 'killed', detail: null, acked_at_ns: 1n });
  assert.equal(decodeError(() => codec.decode(ack)).reason, 'wrong-schema');
});

test('encode names the offending fields', () => {
  const bad = { ...sampleRawEvent(), seq: 42 as unknown as bigint, process: { ...sampleRawEvent().process, pid: 'x' as unknown as number } };
  assert.throws(() => codecs.RawEvent.encode(bad), (error: unknown) => {
    assert.ok(error instanceof EncodeError);
    assert.equal(error.reason, 'invalid-value');
    assert.deepEqual([...error.paths].sort(), ['process.pid', 'seq']);
    return true;
  });
  assert.deepEqual(codecs.RawEvent.validate(sampleRawEvent()), []);
});

test('encoding into the shared buffer grows it for records larger than 64 KiB', () => {
  const big = { ...sampleRawEvent(), process: { ...sampleRawEvent().process, args: Array.from({ length: 2000 }, (_, i) => `argument-${i}-${'x'.repeat(40)}`) } };
  const decoded = codecs.RawEvent.decode(codecs.RawEvent.encode(big));
  assert.equal(decoded.process.args.length, 2000);
  assert.equal(codecs.RawEvent.decode(codecs.RawEvent.encode(sampleRawEvent())).process.args.length, 1);
});

test('decodeAny finds the schema by fingerprint', () => {
  const bytes = encode('RawEvent', sampleRawEvent());
  const record = decodeAny(bytes);
  assert.equal(record.name, 'RawEvent');
  assert.equal(schemaVersionOf(bytes)?.name, 'RawEvent');
  if (record.name === 'RawEvent') assert.equal(record.value.seq, 42n);
  assert.equal(decodeError(() => decodeAny(Buffer.from('c30100000000000000000000', 'hex'))).reason, 'unknown-fingerprint');
  assert.equal(decodeError(() => decodeAny(Buffer.from('not avro at all'))).reason, 'bad-magic');
});

test('Avro JSON round trip keeps 64-bit longs exact', () => {
  const value = { ...sampleRawEvent(), seq: 9007199254740993n };
  const json = codecs.RawEvent.toJson(value);
  assert.match(json, /"seq":9007199254740993/);
  assert.equal(codecs.RawEvent.fromJson(json).seq, 9007199254740993n);
  assert.throws(() => codecs.RawEvent.fromJson('{"id": 1}'), EncodeError);
});

test('Event carries every RawEvent field with the same type, then pod and enrichment', () => {
  const fieldsOf = (schema: unknown) => (schema as { fields: { name: string; type: unknown }[] }).fields;
  const raw = fieldsOf(codecs.RawEvent.current.schema);
  const event = fieldsOf(codecs.Event.current.schema);
  assert.deepEqual(event.map((f) => f.name), [...raw.map((f) => f.name), 'pod', 'enrichment']);
  // Same Avro type: compare the canonical form of each field's type in a schema where its named types are defined.
  const rawType = codecs.RawEvent.current.type as unknown as { fields: { name: string; type: { schema(): unknown } }[] };
  const eventType = codecs.Event.current.type as unknown as { fields: { name: string; type: { schema(): unknown } }[] };
  for (const field of rawType.fields) {
    const other = eventType.fields.find((f) => f.name === field.name);
    assert.deepEqual(other?.type.schema(), field.type.schema(), field.name);
  }
});

test('an unknown schema name is a SchemaError', () => {
  assert.throws(() => createCodec('Nope' as 'RawEvent'), SchemaError);
});

test('a record cut short anywhere is reported as truncated, never as another error', () => {
  const bytes = codecs.RawEvent.encode({ ...sampleRawEvent(), action: { kind: 'deny', policy: 'p', rule: 'r' } });
  for (let length = 0; length < bytes.length; length++) {
    assert.equal(decodeError(() => codecs.RawEvent.decode(bytes.subarray(0, length))).reason, 'truncated', `length ${length}`);
  }
});
