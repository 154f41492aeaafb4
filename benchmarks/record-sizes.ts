/**
 * Record sizes for docs/scaling.md's disk and broker figures: the mean encoded size of the records the throughput
 * benchmarks measure with, and how much gzip (the agent's producer compression) takes off when they travel in batches
 * as the producer sends them. CPU only, no broker.
 *
 *   npx node benchmarks/record-sizes.ts [--records N]
 *
 * Records: RawEvents as benchmarks/enricher.ts and benchmarks/scale-out.ts produce them (sampleRawEvent exec events,
 * 60 node keys) and the synthetic enriched Events of benchmarks/synthetic-events.ts (the detector's input: exec, file,
 * connect and privilege events, 60 % of them in pods with pod metadata). Batches: consecutive runs of 2,000 records
 * (the producer's batch), values concatenated, gzip level 6 (zlib's default, as kafkajs uses).
 */
import { gzipSync } from 'node:zlib';
import { parseArgs } from 'node:util';
import { encodeEvent, encodeRawEvent } from '@stinger/events';
import { sampleRawEvent } from '@stinger/testing';
import { fmt } from './report.ts';
import { syntheticEvents, withPodParents } from './synthetic-events.ts';

const BATCH = 2000;

function sizes(name: string, values: readonly Buffer[]): string {
  const bytes = values.reduce((sum, value) => sum + value.length, 0);
  let gzipped = 0;
  for (let start = 0; start < values.length; start += BATCH) gzipped += gzipSync(Buffer.concat(values.slice(start, start + BATCH))).length;
  return `| ${name} | ${fmt(values.length)} | ${fmt(bytes / values.length)} | ${fmt(gzipped / values.length)} | ${fmt(bytes / gzipped, 1)} |`;
}

const { values } = parseArgs({ options: { records: { type: 'string', default: '100000' } } });
const count = Number(values.records);
if (!Number.isInteger(count) || count < BATCH) throw new RangeError(`--records must be an integer of at least ${BATCH}, got "${values.records}"`);

const raw = Array.from({ length: count }, (_, seq) => encodeRawEvent(sampleRawEvent({ node: `bench-node-${seq % 60}`, seq: BigInt(seq) })));
const events = withPodParents(syntheticEvents(count)).map((event) => encodeEvent(event));
console.log(`# Record sizes: ${fmt(count)} records each, gzip in batches of ${fmt(BATCH)}`);
console.log('');
console.log('| records | count | bytes/record, encoded | bytes/record, gzip in batches | gzip ratio |');
console.log('|---|---:|---:|---:|---:|');
console.log(sizes('RawEvent, sample exec (enricher input in the benchmarks)', raw));
console.log(sizes('Event, synthetic mix (detector input in the benchmarks)', events));
