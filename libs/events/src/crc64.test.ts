import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CRC64_AVRO_EMPTY, fingerprint64, fingerprint64Halves, fingerprintToBytes } from './crc64.ts';
import { AVRO_SPEC_CASES } from './avro-spec-test-data.ts';

test('fingerprint of zero bytes is the spec constant EMPTY', () => {
  assert.equal(fingerprint64(''), CRC64_AVRO_EMPTY);
  assert.equal(fingerprint64(new Uint8Array(0)), 0xc15d213aa4d7a795n);
});

test('fingerprints match Apache Avro schema-tests.txt for every entry that gives one', () => {
  const withFingerprint = AVRO_SPEC_CASES.filter((c) => c.fingerprint !== undefined);
  assert.ok(withFingerprint.length >= 20);
  for (const c of withFingerprint) {
    assert.equal(BigInt.asIntN(64, fingerprint64(c.canonical)), c.fingerprint, `entry ${c.entry}: ${c.canonical}`);
  }
});

test('"int" fingerprint bytes are little-endian 8f 5c 39 3f 1a d5 75 72; "null" is 0x63dd24e7cc258f8a', () => {
  // schema-tests.txt entry 004: 8247732601305521295 = 0x7275d51a3f395c8f.
  assert.equal(fingerprintToBytes(fingerprint64('"int"')).toString('hex'), '8f5c393f1ad57572');
  assert.equal(fingerprint64('"null"'), 0x63dd24e7cc258f8an);
});

test('halves and bigint forms agree, and Uint8Array input equals its UTF-8 string', () => {
  const text = '{"name":"x.y.foo","type":"record","fields":[]}';
  const { lo, hi } = fingerprint64Halves(text);
  assert.equal((BigInt(hi) << 32n) | BigInt(lo), fingerprint64(new TextEncoder().encode(text)));
  assert.notEqual(fingerprint64('"int"'), fingerprint64('"long"'));
});
