/**
 * zstd for kafkajs, which ships no codec for it (its table throws "ZSTD compression not implemented"): node:zlib's
 * zstd (Node ≥ 23.8), asynchronous, so compressing a batch runs on libuv's thread pool beside the event loop.
 *
 * Contract: `registerZstdCodec()` is idempotent and is called by createKafkaClient, so every Stinger producer can
 * write zstd batches and every Stinger consumer (services, CLI, console) reads them, whatever KAFKA_COMPRESSION says.
 * Level 1: per event it costs a fifth of gzip's default level at a similar ratio on our records (docs/BENCHMARKS.md,
 * compression codecs); the broker stores the batch as produced (topics carry `compression.type=producer`).
 */
import { promisify } from 'node:util';
import { constants, zstdCompress, zstdDecompress } from 'node:zlib';
import kafkajs from 'kafkajs';

// kafkajs is CommonJS and its codec table is not among the names Node's ESM loader detects as exports.
const { CompressionCodecs, CompressionTypes } = kafkajs;
const compress = promisify(zstdCompress);
const decompress = promisify(zstdDecompress);
const LEVEL_1 = { params: { [constants.ZSTD_c_compressionLevel]: 1 } } as const;

/** The codec object kafkajs calls: `compress` gets its encoder (the batch's records as `buffer`). */
export const zstdCodec = {
  async compress(encoder: { readonly buffer: Buffer }): Promise<Buffer> {
    return compress(encoder.buffer, LEVEL_1);
  },
  async decompress(buffer: Buffer): Promise<Buffer> {
    return decompress(buffer);
  },
};

export function registerZstdCodec(): void {
  (CompressionCodecs as Record<number, () => typeof zstdCodec>)[CompressionTypes.ZSTD] = () => zstdCodec;
}
