/**
 * CPU per event of the batch compression codecs a Kafka producer could use, on encoded events (benchmarks/synthetic-events.ts: the detector benchmark's enriched events, Avro single-object): gzip
 * (the producer's codec today, kafkajs's built-in, node:zlib) at its default level and level 1, and zstd (node:zlib's
 * zstd, Node ≥ 23.8) at its default level 3 and level 1, for batches of 3, 30 and 300 events (a trickle, a 50 ms
 * linger of a busy node, a burst). Each cell: CPU time (process.cpuUsage, user + system) of compressing the same
 * batch repeatedly, divided by batches × events; median of 5 runs; compressed/raw size ratio beside it.
 *
 *   node benchmarks/codec-cost.ts
 */
import { constants, gzipSync, zstdCompressSync } from 'node:zlib';
import { encodeEvent } from '@stinger/events';
import { syntheticEvents } from './synthetic-events.ts';

const CODECS: readonly (readonly [string, (batch: Buffer) => Buffer])[] = [
  ['gzip (level 6, the producer today)', (batch) => gzipSync(batch)],
  ['gzip level 1', (batch) => gzipSync(batch, { level: 1 })],
  ['zstd (level 3)', (batch) => zstdCompressSync(batch)],
  ['zstd level 1', (batch) => zstdCompressSync(batch, { params: { [constants.ZSTD_c_compressionLevel]: 1 } })],
];
const BATCHES = [3, 30, 300] as const;
const EVENTS_PER_CELL = 60_000;
const RUNS = 5;

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
};

const events = syntheticEvents(300).map((event) => encodeEvent(event));
console.log(`# Compression codecs: CPU µs per event, median of ${RUNS} runs (compressed/raw size)`);
console.log('');
console.log(`| codec | ${BATCHES.map((n) => `batch of ${n}`).join(' | ')} |`);
console.log(`|---|${BATCHES.map(() => '---:').join('|')}|`);
for (const [name, compress] of CODECS) {
  const cells = BATCHES.map((size) => {
    const batch = Buffer.concat(events.slice(0, size));
    const repeats = Math.ceil(EVENTS_PER_CELL / size);
    let ratio = 0;
    const perEvent = median(
      Array.from({ length: RUNS }, () => {
        const before = process.cpuUsage();
        for (let i = 0; i < repeats; i++) ratio = compress(batch).length / batch.length;
        const used = process.cpuUsage(before);
        return (used.user + used.system) / (repeats * size);
      }),
    );
    return `${perEvent.toFixed(2)} (${ratio.toFixed(3)})`;
  });
  console.log(`| ${name} | ${cells.join(' | ')} |`);
}
