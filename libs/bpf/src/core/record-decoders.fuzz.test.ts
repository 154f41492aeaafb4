// Every record layout the agent decodes, fed random bytes of every length (issue: a ring buffer record is the kernel's
// word, but a defect there or in the layout tables must not crash the agent): each decoder either returns a record
// or undefined, never throws, whatever the bytes and however short the record — the buffer ends where the record
// does, so a read past its length would throw here. Seeded random bytes, every length up to past the largest struct.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { FILE_RECORD_DECODERS } from '../file/records.ts';
import { EGRESS_RECORD_DECODERS } from '../network/egress-records.ts';
import { NETWORK_RECORD_DECODERS } from '../network/records.ts';
import { PRIVILEGE_RECORD_DECODERS } from '../privilege/records.ts';
import { PROCESS_RECORD_DECODERS } from '../process/records.ts';
import { createRecordDispatcher, type RecordDecoderTable } from './record-dispatch.ts';
import { EVENT_HEADER_LAYOUT, type RecordSlice } from './record-header.ts';

const TABLES: Record<string, RecordDecoderTable<unknown>> = {
  process: PROCESS_RECORD_DECODERS,
  file: FILE_RECORD_DECODERS,
  network: NETWORK_RECORD_DECODERS,
  egress: EGRESS_RECORD_DECODERS,
  privilege: PRIVILEGE_RECORD_DECODERS,
};
/** Past the largest record struct (file_event: 640 bytes). */
const MAX_LENGTH = 1024;

function sliceOf(bytes: Uint8Array, kind: number): RecordSlice {
  const buffer = Buffer.from(bytes);
  if (buffer.length >= EVENT_HEADER_LAYOUT.offsets.kind + 2) buffer.writeUInt16LE(kind, EVENT_HEADER_LAYOUT.offsets.kind);
  return { buffer, view: new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength), offset: 0, length: buffer.length };
}

for (const [sensor, table] of Object.entries(TABLES)) {
  test(`${sensor} records: every kind, every length 0..${MAX_LENGTH}, random bytes: decoded or undefined, never a throw`, () => {
    assert.ok(table.size > 0);
    for (const [kind, decode] of table) {
      fc.assert(
        fc.property(fc.uint8Array({ minLength: 0, maxLength: MAX_LENGTH }), (bytes) => {
          decode(sliceOf(bytes, kind));
          return true;
        }),
        { seed: 20261202 + kind, numRuns: 200 },
      );
      // Every length, not only those the generator happens to pick.
      for (let length = 0; length <= MAX_LENGTH; length++) decode(sliceOf(new Uint8Array(length).fill(0xff), kind));
    }
  });
}

test('the dispatcher takes records too short to hold a kind', () => {
  const dispatcher = createRecordDispatcher(Object.values(TABLES));
  for (let length = 0; length < 8; length++) assert.equal(dispatcher.decode(sliceOf(new Uint8Array(length), 1)), undefined);
});
