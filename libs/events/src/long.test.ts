import { test } from 'node:test';
import assert from 'node:assert/strict';
import avro from 'avsc';
import { bigintLongType, longFromJson } from './long.ts';

const EDGES = [0n, 1n, -1n, 63n, -64n, 64n, 2n ** 31n - 1n, -(2n ** 31n), 2n ** 32n, 2n ** 53n - 1n, 2n ** 53n + 1n, 1732900000123456789n, 2n ** 63n - 1n, -(2n ** 63n)];

test('bigint longs round-trip exactly, including values beyond 2^53 and the int64 limits', () => {
  for (const value of EDGES) {
    const bytes = bigintLongType.toBuffer(value);
    assert.equal(bigintLongType.fromBuffer(bytes), value, String(value));
  }
});

test('wire bytes equal avsc’s own long encoding (zig-zag varint) wherever a JS number is exact', () => {
  const numberLong = avro.Type.forSchema('long');
  for (const value of EDGES.filter((v) => v < 2n ** 53n - 1n && v > -(2n ** 53n - 1n))) {
    assert.deepEqual(bigintLongType.toBuffer(value), numberLong.toBuffer(Number(value)), String(value));
  }
  // 2^63 - 1 zig-zags to 2^64 - 2: nine 0xff-ish groups and a final 0x01.
  assert.equal(bigintLongType.toBuffer(2n ** 63n - 1n).toString('hex'), 'feffffffffffffffff01');
});

test('numbers and out-of-range bigints are rejected, so a rounded long cannot slip through', () => {
  assert.equal(bigintLongType.isValid(5), false);
  assert.equal(bigintLongType.isValid(2n ** 63n), false);
  assert.throws(() => bigintLongType.toBuffer(5));
});

test('JSON: longs are written with every digit and read back from numbers, strings and bigints', () => {
  assert.equal(bigintLongType.toString(1732900000123456789n), '1732900000123456789');
  assert.equal(longFromJson('9007199254740993'), 9007199254740993n);
  assert.equal(longFromJson(12), 12n);
  assert.throws(() => longFromJson(1.5), TypeError);
  assert.throws(() => longFromJson(2 ** 60), TypeError);
});
