// The kind -> decoder dispatcher: routes each record to its sensor's decoder, leaves unknown kinds undecoded and
// refuses a kind registered twice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EVENT_HEADER_LAYOUT } from './record-header.ts';
import { EVENT_KIND, FORK_EVENT_LAYOUT, PROCESS_RECORD_DECODERS } from '../process/records.ts';
import { FILE_EVENT_KIND, FILE_EVENT_LAYOUT, FILE_FLAG, FILE_OP, ACTION_TAKEN, FILE_RECORD_DECODERS } from '../file/records.ts';
import { createRecordDispatcher } from './record-dispatch.ts';

function slice(bytes: Uint8Array): { buffer: Buffer; view: DataView; offset: number; length: number } {
  const buffer = Buffer.from(bytes);
  return { buffer, view: new DataView(buffer.buffer, buffer.byteOffset, buffer.length), offset: 0, length: buffer.length };
}

function forkRecord(childPid: number): Uint8Array {
  const bytes = new Uint8Array(FORK_EVENT_LAYOUT.size);
  const view = new DataView(bytes.buffer);
  view.setUint16(EVENT_HEADER_LAYOUT.offsets.kind, EVENT_KIND.fork, true);
  view.setUint32(EVENT_HEADER_LAYOUT.offsets.pid, 10, true);
  view.setUint32(FORK_EVENT_LAYOUT.offsets.child_pid, childPid, true);
  return bytes;
}

function openRecord(path: string, fd: number): Uint8Array {
  const o = FILE_EVENT_LAYOUT.offsets;
  const bytes = new Uint8Array(o.path2);
  const view = new DataView(bytes.buffer);
  view.setUint16(EVENT_HEADER_LAYOUT.offsets.kind, FILE_EVENT_KIND.file, true);
  view.setUint32(o.op, FILE_OP.open, true);
  view.setUint32(o.file_flags, FILE_FLAG.resultKnown | FILE_FLAG.matchExact, true);
  view.setUint32(o.rule_id, 77, true);
  view.setUint32(o.action, ACTION_TAKEN.audit, true);
  view.setBigInt64(o.result, BigInt(fd), true);
  view.setUint16(o.path_len, Buffer.byteLength(path), true);
  bytes.set(Buffer.from(path), o.path);
  return bytes;
}

test('process and file records go to their own decoders through one dispatcher', () => {
  const dispatcher = createRecordDispatcher<unknown>([PROCESS_RECORD_DECODERS, FILE_RECORD_DECODERS]);
  assert.deepEqual(dispatcher.kinds, [1, 2, 3, 10, 11, 12]);
  const fork = dispatcher.decode(slice(forkRecord(4242))) as { kind: string; childPid: number };
  assert.equal(fork.kind, 'fork');
  assert.equal(fork.childPid, 4242);
  const open = dispatcher.decode(slice(openRecord('/etc/shadow', 5))) as { kind: string; op: string; path: string; result: number; ruleId: number; match: string };
  assert.deepEqual({ kind: open.kind, op: open.op, path: open.path, result: open.result, ruleId: open.ruleId, match: open.match }, {
    kind: 'file',
    op: 'open',
    path: '/etc/shadow',
    result: 5,
    ruleId: 77,
    match: 'exact',
  });
});

test('a kind no table registers is not decoded; a truncated file record is rejected', () => {
  const dispatcher = createRecordDispatcher<unknown>([PROCESS_RECORD_DECODERS, FILE_RECORD_DECODERS]);
  const unknown = forkRecord(1);
  new DataView(unknown.buffer).setUint16(0, 99, true);
  assert.equal(dispatcher.decode(slice(unknown)), undefined);
  assert.equal(dispatcher.decode(slice(openRecord('/x', 3).subarray(0, 200))), undefined);
});

test('registering one kind twice throws', () => {
  assert.throws(() => createRecordDispatcher<unknown>([PROCESS_RECORD_DECODERS, PROCESS_RECORD_DECODERS]), /kind 1 has two decoders/);
});
