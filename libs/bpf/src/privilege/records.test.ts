import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EVENT_HEADER_LAYOUT } from '../core/record-header.ts';
import { CLONE_NEW, NS_EVENT_LAYOUT, NS_OP, PRIV_EVENT_KIND, decodePrivilegeRecord, type NamespaceOp } from './records.ts';

const CLONE_FS = 0x200n;

function namespaceRecord(op: NamespaceOp, flags: bigint): ReturnType<typeof decodePrivilegeRecord> {
  const buffer = Buffer.alloc(NS_EVENT_LAYOUT.size);
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  view.setUint16(EVENT_HEADER_LAYOUT.offsets.kind, PRIV_EVENT_KIND.namespace, true);
  view.setUint32(EVENT_HEADER_LAYOUT.offsets.size, NS_EVENT_LAYOUT.size, true);
  view.setBigUint64(NS_EVENT_LAYOUT.offsets.flags, flags, true);
  view.setUint32(NS_EVENT_LAYOUT.offsets.op, NS_OP[op], true);
  return decodePrivilegeRecord({ buffer, view, offset: 0, length: buffer.length });
}

test('namespace types decode to their /proc/<pid>/ns names; clone flags that are no namespace are left out', () => {
  const record = namespaceRecord('unshare', BigInt(CLONE_NEW.mnt | CLONE_NEW.net) | CLONE_FS);
  assert.ok(record?.kind === 'namespace');
  assert.deepEqual(record.namespaces, ['mnt', 'net']);
  assert.equal(record.unknownNamespaceBits, 0n);
});

test('a setns nstype bit that is no known CLONE_NEW* is reported as unknown, not taken for a namespace', () => {
  const record = namespaceRecord('setns', 0x1n);
  assert.ok(record?.kind === 'namespace');
  assert.deepEqual(record.namespaces, []);
  assert.equal(record.unknownNamespaceBits, 0x1n);
});
