import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import kafkajs from 'kafkajs';
import { registerZstdCodec, zstdCodec } from './zstd-codec.ts';

const { CompressionCodecs, CompressionTypes } = kafkajs;

test('zstd codec: what it compresses decompresses to the same bytes, smaller when the bytes repeat', async () => {
  const repetitive = Buffer.from('{"binary":"/usr/bin/cat","path":"/etc/passwd"}'.repeat(200));
  const packed = await zstdCodec.compress({ buffer: repetitive });
  assert.ok(packed.length < repetitive.length / 10, `${packed.length} bytes from ${repetitive.length}`);
  assert.deepEqual(await zstdCodec.decompress(packed), repetitive);
  const noise = randomBytes(4096);
  assert.deepEqual(await zstdCodec.decompress(await zstdCodec.compress({ buffer: noise })), noise);
});

test('zstd codec: registered in kafkajs table, where it threw "not implemented" before', () => {
  registerZstdCodec();
  const factory = (CompressionCodecs as Record<number, () => unknown>)[CompressionTypes.ZSTD];
  assert.equal(factory?.(), zstdCodec);
});

test('zstd codec: a corrupt frame is an error, not garbage', async () => {
  await assert.rejects(zstdCodec.decompress(Buffer.from('not a zstd frame')));
});
