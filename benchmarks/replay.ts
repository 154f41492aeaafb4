/**
 * Forensic replay throughput (`stinger replay`): decode + evaluate with the default rule pack, beside a plain consume of
 * the same topic in the same run.
 *
 *   npx node --disable-warning=TimeoutNegativeWarning benchmarks/replay.ts [--records N] [--runs K]
 *
 * Method (docs/BENCHMARKS.md has the reading):
 * - Broker: KAFKA_BROKERS if set, else one local broker (@stinger/local-broker) on a free port in a temporary data dir,
 *   stopped and removed at the end. One fresh stinger.events (6 partitions, like `stinger up`) is filled once with N
 *   synthetic enriched Events (benchmarks/synthetic-events.ts, the detector benchmark's mix: 12 nodes, 60 % in pods,
 *   ≈3 % matching the pack), keyed by node, uncompressed.
 * - Each run measures, in this one process (one JavaScript thread), alternating the order of the Kafka measurements:
 *   (a) plain consume: the replay's own reader (planTopicRange + readTopicRange from the first to the last record,
 *       read_committed, nothing committed) with a handler that only counts records — the reference;
 *   (b) replay: the same read, each record decoded (decodeEventSummary) and evaluated by a ReplayDetector holding the
 *       default pack (k8s/policies, as `stinger replay --defaults`), alerts counted — what `stinger replay` does;
 *   (c) decode + evaluate from memory: the same encoded records, already in memory, decoded and evaluated in a loop —
 *       the CPU cost without Kafka; and its parts alone: decodeEventSummary, decodeEvent (the complete decode, for
 *       comparison), and evaluation over events decoded beforehand (their memory is cold by then: an upper bound).
 *   Rates are records / wall time from the call to its end (the range planned, the group joined and left included for
 *   a and b), and records / CPU time of the main thread over the same interval (process.threadCpuUsage: the one core
 *   the work runs on; the broker, kafkajs's socket reads and the garbage collector's helper threads are not in it).
 * - One unreported warm-up of every measurement first. Medians (min–max) over runs; ratios are medians of per-run ratios.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '@stinger/config';
import { ReplayDetector } from '@stinger/detection';
import { decodeEvent, decodeEventSummary, encodeEvent, type Event } from '@stinger/events';
import { bootstrapTopics, createKafkaClient, createProducer, planTopicRange, readTopicRange, topicName, type KafkaClient } from '@stinger/kafka';
import { KAFKA_VERSION, type LocalBroker } from '@stinger/local-broker';
import { createLogger } from '@stinger/log';
import { uniqueTopicName } from '@stinger/testing';
import { benchmarkBroker } from './broker.ts';
import { fmt, load, median, spread } from './report.ts';
import { loadPack, NODES, rulesOf, syntheticEventStream } from './synthetic-events.ts';

const PARTITIONS = 6;
const WARM_UP_RECORDS = 50_000;

function parseOptions(): { readonly records: number; readonly runs: number } {
  const { values } = parseArgs({ options: { records: { type: 'string', default: '1000000' }, runs: { type: 'string', default: '3' } } });
  const positive = (name: string, raw: string): number => {
    const value = Number(raw);
    if (!Number.isInteger(value) || value <= 0) throw new RangeError(`--${name} must be a positive integer, got "${raw}"`);
    return value;
  };
  return { records: positive('records', values.records), runs: positive('runs', values.runs) };
}

/** CPU seconds of the main thread so far (user + system). */
function cpuSeconds(): number {
  const { user, system } = process.threadCpuUsage();
  return (user + system) / 1e6;
}

interface Rate {
  readonly wall: number;
  readonly cpu: number;
}

/** Runs `work` (which handles `count` records) and gives its records per wall second and per CPU second. */
async function timed(count: number, work: () => Promise<void> | void): Promise<Rate> {
  const wallStart = performance.now();
  const cpuStart = cpuSeconds();
  await work();
  return { wall: count / ((performance.now() - wallStart) / 1000), cpu: count / (cpuSeconds() - cpuStart) };
}

/**
 * The partition of the index-th synthetic event: one per node (event i is on node i % NODES), as the producer's key
 * partitioning gives one; which one does not change the alerts.
 */
const partitionOf = (index: number): number => (index % NODES) % PARTITIONS;

async function fillTopic(client: KafkaClient, topic: string, records: number): Promise<Buffer[]> {
  const producer = createProducer({ client, compression: 'none', lingerMs: 5 });
  await producer.connect();
  const values: Buffer[] = [];
  try {
    const acks: Promise<void>[] = [];
    for (const event of syntheticEventStream(records)) {
      const value = encodeEvent(event);
      values.push(value);
      await producer.whenWritable();
      acks.push(producer.enqueue(topic, { key: event.node, value }));
    }
    await Promise.all(acks);
  } finally {
    await producer.disconnect();
  }
  return values;
}

interface Measured {
  readonly consume: Rate;
  readonly replay: Rate;
  readonly memory: Rate;
  readonly summaryOnly: Rate;
  readonly decodeOnly: Rate;
  readonly evaluateOnly: Rate;
  readonly alerts: number;
}

async function measureRun(options: { client: KafkaClient; topic: string; values: readonly Buffer[]; reverse: boolean }): Promise<Measured> {
  const { client, topic, values } = options;
  const rules = rulesOf(loadPack());
  const count = values.length;
  const range = await planTopicRange({ client, topic, fromMs: null, toMs: null });
  if (range.offsets !== BigInt(count)) throw new Error(`${topic} holds ${range.offsets} offsets, expected ${count}`);
  let alerts = 0;
  const consume = (): Promise<Rate> => {
    let read = 0;
    return timed(count, async () => {
      await readTopicRange({ client, range: await planTopicRange({ client, topic, fromMs: null, toMs: null }), onBatch: (records) => void (read += records.length) });
      if (read !== count) throw new Error(`plain consume read ${read} of ${count}`);
    });
  };
  const replay = (): Promise<Rate> => {
    const detector = new ReplayDetector({ rules });
    return timed(count, async () => {
      const plan = await planTopicRange({ client, topic, fromMs: null, toMs: null });
      await readTopicRange({
        client,
        range: plan,
        onBatch: (records) => {
          for (const record of records) alerts += detector.observe(record.partition, decodeEventSummary(record.value ?? Buffer.alloc(0))).length;
        },
      });
      alerts += detector.finish().length;
      if (detector.stats.events !== count) throw new Error(`replay read ${detector.stats.events} of ${count}`);
    });
  };
  const [first, second] = options.reverse ? [replay, consume] : [consume, replay];
  const firstRate = await first();
  const secondRate = await second();
  const [consumeRate, replayRate] = options.reverse ? [secondRate, firstRate] : [firstRate, secondRate];

  const memory = await timed(count, () => {
    const detector = new ReplayDetector({ rules });
    for (let index = 0; index < values.length; index++) detector.observe(partitionOf(index), decodeEventSummary(values[index] as Buffer));
    detector.finish();
  });
  let sink = 0;
  const summaryOnly = await timed(count, () => {
    for (const value of values) sink += decodeEventSummary(value).process.pid;
  });
  const decodeOnly = await timed(count, () => {
    for (const value of values) sink += decodeEvent(value).process.pid;
  });
  if (sink < 0) throw new Error('unreachable'); // keeps the decoded values used
  let decoded: Event[] = values.map((value) => decodeEventSummary(value));
  const evaluateOnly = await timed(count, () => {
    const detector = new ReplayDetector({ rules });
    for (let index = 0; index < decoded.length; index++) detector.observe(partitionOf(index), decoded[index] as Event);
    detector.finish();
  });
  decoded = [];
  return { consume: consumeRate, replay: replayRate, memory, summaryOnly, decodeOnly, evaluateOnly, alerts };
}

async function main(): Promise<void> {
  const options = parseOptions();
  const config = loadConfig();
  const logger = createLogger({ name: 'benchmark', level: config.logLevel === 'info' ? 'warn' : config.logLevel });
  const workDir = await mkdtemp(join(tmpdir(), 'stinger-bench-replay-'));
  let broker: LocalBroker | null = null;
  try {
    const kafka = await benchmarkBroker({ config, logger, workDir });
    broker = kafka.local;
    const { brokers } = kafka;
    const client = createKafkaClient({ brokers, connection: config.kafka, role: 'benchmark', logger });
    const prefix = `${uniqueTopicName('bench-replay')}.`;
    const warmPrefix = `${uniqueTopicName('bench-replay-warm')}.`;
    await bootstrapTopics({ client, prefix, topics: ['events'] });
    await bootstrapTopics({ client, prefix: warmPrefix, topics: ['events'] });
    const topic = topicName('events', prefix);
    const warmTopic = topicName('events', warmPrefix);

    console.log(`# Stinger replay: ${fmt(options.records)} records × ${options.runs} runs`);
    console.log('');
    console.log(`- CPUs (nproc): ${availableParallelism()}, model: ${cpus()[0]?.model ?? 'unknown'}`);
    console.log(`- Node ${process.version}; Kafka ${broker ? `${KAFKA_VERSION} (local single-node KRaft broker)` : `broker from KAFKA_BROKERS ${brokers.join(',')}`}; ${NODES} nodes, ${PARTITIONS} partitions`);
    console.log(`- load average at start: ${load()}`);
    const fillStart = performance.now();
    const warmValues = await fillTopic(client, warmTopic, WARM_UP_RECORDS);
    const values = await fillTopic(client, topic, options.records);
    const meanBytes = values.reduce((sum, v) => sum + v.length, 0) / values.length;
    console.log(`- records: ${fmt(meanBytes)} bytes encoded on average; produced in ${Math.round((performance.now() - fillStart) / 1000)} s; load average then: ${load()}`);
    console.log('');

    await measureRun({ client, topic: warmTopic, values: warmValues, reverse: false });
    const runs: Measured[] = [];
    for (let index = 0; index < options.runs; index++) {
      runs.push(await measureRun({ client, topic, values, reverse: index % 2 === 1 }));
      console.error(`run ${index + 1}/${options.runs} done; load ${load()}`);
    }

    const row = (label: string, pick: (m: Measured) => Rate, withRatio: boolean): string => {
      const ratio = (key: 'wall' | 'cpu'): string => (withRatio ? fmt(median(runs.map((m) => pick(m)[key] / m.consume[key])), 2) : '–');
      return `| ${label} | ${spread(runs.map((m) => pick(m).wall))} | ${ratio('wall')} | ${spread(runs.map((m) => pick(m).cpu))} | ${ratio('cpu')} |`;
    };
    console.log('| measurement | records/s (wall), median (min–max) | ratio to plain consume | records per main-thread CPU second, median (min–max) | ratio to plain consume |');
    console.log('|---|---:|---:|---:|---:|');
    console.log(row('(a) plain consume (reference)', (m) => m.consume, true));
    console.log(row('(b) replay: consume + decode + evaluate, default pack', (m) => m.replay, true));
    console.log(row('(c) decode + evaluate from memory', (m) => m.memory, false));
    console.log(row('(c1) decodeEventSummary alone', (m) => m.summaryOnly, false));
    console.log(row('(c1\') decodeEvent alone (complete events, for comparison)', (m) => m.decodeOnly, false));
    console.log(row('(c2) evaluate alone (ReplayDetector.observe over decoded summaries)', (m) => m.evaluateOnly, false));
    const inReplay = runs.map((m) => 1 / (1 / m.replay.cpu - 1 / m.consume.cpu));
    console.log('');
    console.log(`- decode + evaluate inside the replay, per CPU second (CPU of b minus CPU of a, per record): ${spread(inReplay)}`);
    console.log('');
    console.log(`- alerts raised per replay: ${runs.map((m) => fmt(m.alerts)).join(', ')}`);
    console.log(`- load average at end: ${load()}`);
  } finally {
    if (broker) await broker.stop();
    await rm(workDir, { recursive: true, force: true });
  }
}

await main();
