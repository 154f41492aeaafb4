// The schema registry wire format (00 + 4-byte big-endian id + body) read beside single-object encoding: ids taught
// by learnRegistrySchema name committed versions (read as single-object records of the same version are) or a newer
// producer's schema (read by resolution, its added fields dropped).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  codecs,
  createAvroType,
  decodeAny,
  learnRegistrySchema,
  parseAvroJson,
  readRegistrySchemaId,
  REGISTRY_HEADER_LENGTH,
  schemaVersionOf,
  toRegistryFraming,
} from './codec.ts';
import { decodeEventSummary } from './event-summary.ts';
import { DecodeError, EncodeError, SchemaError } from './errors.ts';
import { parseHex } from '../scripts/golden.ts';

const golden = (name: string, version: number): Buffer => parseHex(readFileSync(new URL(`../../../schemas/golden/${name}.v${version}.hex`, import.meta.url), 'utf8'));
const eventValue = codecs.Event.decode(golden('Event', codecs.Event.current.version));

// Ids are process-wide (one registry per process); each test takes its own range.
test('a committed version under a registry id: framed bytes are 00, the id big-endian, the same body, and decode alike', () => {
  const single = codecs.Event.encode(eventValue);
  learnRegistrySchema(1001, codecs.Event.current.schema);
  const framed = toRegistryFraming(single, 1001);
  assert.equal(framed.subarray(0, REGISTRY_HEADER_LENGTH).toString('hex'), '00000003e9');
  assert.deepEqual(framed.subarray(REGISTRY_HEADER_LENGTH), single.subarray(10));
  assert.equal(readRegistrySchemaId(framed), 1001);
  assert.equal(readRegistrySchemaId(single), undefined);
  assert.deepEqual(codecs.Event.decode(framed), eventValue);
  assert.equal(decodeEventSummary(framed).id, eventValue.id);
  assert.equal(decodeEventSummary(framed).process.binary, eventValue.process.binary);
  const any = decodeAny(framed);
  assert.equal(any.name, 'Event');
  assert.equal(any.version, codecs.Event.current.version);
  assert.equal(schemaVersionOf(framed), codecs.Event.current);
});

test('an id no one taught this process is a DecodeError naming the id and the variable', () => {
  const framed = toRegistryFraming(codecs.Event.encode(eventValue), 1099);
  assert.throws(() => codecs.Event.decode(framed), (e: unknown) => e instanceof DecodeError && e.reason === 'unknown-schema-id' && /id 1099 .*STINGER_SCHEMA_REGISTRY_URL/.test(e.message));
  assert.throws(() => decodeAny(framed), (e: unknown) => e instanceof DecodeError && e.reason === 'unknown-schema-id');
  assert.throws(() => codecs.Event.decode(Buffer.from([0, 0, 4])), (e: unknown) => e instanceof DecodeError && e.reason === 'truncated');
  assert.throws(() => codecs.Event.decode(Buffer.from([7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])), (e: unknown) => e instanceof DecodeError && e.reason === 'bad-magic');
});

test('an id of another schema is wrong-schema for this codec; an older version resolves as by fingerprint', () => {
  const alert = codecs.Alert;
  learnRegistrySchema(1002, alert.current.schema);
  const alertBytes = toRegistryFraming(Buffer.concat([alert.current.header, Buffer.alloc(0)]), 1002);
  assert.throws(() => codecs.Event.decode(alertBytes), (e: unknown) => e instanceof DecodeError && e.reason === 'wrong-schema');
  const older = codecs.Event.versions[0];
  if (older?.version !== 1) throw new Error('no Event v1');
  learnRegistrySchema(1003, older.schema);
  const olderSingle = golden('Event', 1);
  assert.deepEqual(codecs.Event.decode(toRegistryFraming(olderSingle, 1003)), codecs.Event.decode(olderSingle));
});

test("a newer producer's schema (a field added with a default) is read by resolution, the new field dropped", () => {
  const current = codecs.Event.current.schema as { fields: unknown[] };
  const newer = { ...current, fields: [...current.fields, { name: 'drill_note', type: ['null', 'string'], default: null }] };
  const writer = learnRegistrySchema(1004, newer);
  assert.equal(writer.version, 0);
  assert.equal(writer.name, 'Event');
  const body = createAvroType(newer).toBuffer({ ...eventValue, drill_note: 'added in the drill' });
  const framed = Buffer.concat([Buffer.from([0, 0, 0, 0x03, 0xec]), body]);
  assert.deepEqual(codecs.Event.decode(framed), eventValue);
  assert.equal(decodeEventSummary(framed).id, eventValue.id);
  assert.equal(decodeEventSummary(framed).process.binary, eventValue.process.binary);
  assert.equal(learnRegistrySchema(1004, newer), writer, 'learning an id again is a no-op');
});

test('learnRegistrySchema refuses what is no Stinger schema; toRegistryFraming refuses what is not single-object', () => {
  assert.throws(() => learnRegistrySchema(1005, { type: 'record', name: 'Other', namespace: 'com.example', fields: [] }), SchemaError);
  assert.throws(() => learnRegistrySchema(-1, codecs.Event.current.schema), SchemaError);
  assert.throws(() => toRegistryFraming(Buffer.from([0, 0, 0, 0, 1]), 1), EncodeError);
  assert.deepEqual(parseAvroJson(codecs.Event.current.type, codecs.Event.toJson(eventValue)), eventValue);
});
