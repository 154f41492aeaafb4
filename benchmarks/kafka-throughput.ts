/**
 * Kafka throughput of Stinger's client (libs/kafka on kafkajs) against Apache Kafka's own Java perf tools, measured in
 * the same run on the same broker and machine.
 *
 *   npx node --disable-warning=TimeoutNegativeWarning benchmarks/kafka-throughput.ts [--records N] [--runs K] [--port P]
 *
 * Method (docs/BENCHMARKS.md has the reading):
 * - Broker: KAFKA_BROKERS if set, else one local broker (@stinger/local-broker) in a temporary data dir for the whole
 *   benchmark, stopped and removed at the end. Every measurement writes to or reads from its own fresh 6-partition topic.
 * - Records: single-object Avro RawEvents (`encodeRawEvent` of `sampleRawEvent`), a pool of 1024 distinct events of
 *   one encoded size, null key (the Java tool cannot send keys).
 * - Produce: Stinger `createProducer` (idempotent, acks=all, linger batching) encodes and enqueues N records, awaiting
 *   `whenWritable()` for back-pressure, timed from the first enqueue to the last acknowledgement. Reference:
 *   `ProducerPerformance --throughput -1` with acks=all, enable.idempotence=true, the same compression and N, its own
 *   reported records/s. Its payloads are the same encoded records with the high bit of every byte cleared (the tool
 *   reads payloads as UTF-8 text): same size, nearly the same compressibility.
 * - Consume: Stinger `createConsumer` (fresh group, from the beginning, read_committed) decoding every record with
 *   `decodeRawEvent`, versus `ConsumerPerformance` (fresh group, isolation.level=read_committed) on the same topic,
 *   which Stinger's producer wrote. "fetch" rates exclude the group join, as ConsumerPerformance's fetch.nMsg.sec does.
 * - Runs alternate which side goes first; the table gives medians over runs and the median of per-run ratios.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { loadConfig } from '@stinger/config';
import { decodeRawEvent, encodeRawEvent, type RawEvent } from '@stinger/events';
import { createConsumer, createKafkaClient, createProducer, createTopics, type Compression, type KafkaClient } from '@stinger/kafka';
import { KAFKA_VERSION, resolveKafkaDistribution, startLocalBroker, type LocalBroker } from '@stinger/local-broker';
import { createLogger, type Logger } from '@stinger/log';
import { sampleRawEvent, uniqueTopicName } from '@stinger/testing';

const run = promisify(execFile);
const PARTITIONS = 6;
const POOL_SIZE = 1024;
const DEFAULT_PORT = 39092;
/** Heap the Apache Kafka perf-test scripts give their JVM (KAFKA_HEAP_OPTS in kafka-*-perf-test.sh). */
const TOOL_JVM_OPTIONS = ['-Xmx512M', '-XX:+UseG1GC'];

interface Options {
  readonly records: number;
  readonly runs: number;
  readonly port: number;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      records: { type: 'string', default: '200000' },
      runs: { type: 'string', default: '3' },
      port: { type: 'string', default: String(DEFAULT_PORT) },
    },
  });
  const positive = (name: string, raw: string): number => {
    const value = Number(raw);
    if (!Number.isInteger(value) || value <= 0) throw new RangeError(`--${name} must be a positive integer, got "${raw}"`);
    return value;
  };
  return { records: positive('records', values.records), runs: positive('runs', values.runs), port: positive('port', values.port) };
}

// ---------------------------------------------------------------------------------------------------------------------
// Records

/** 1024 distinct RawEvents of one encoded size (fixed-width seq, so ids and varints keep their length). */
function eventPool(): RawEvent[] {
  const binaries = ['/usr/bin/curl', '/usr/bin/bash', '/usr/bin/wget', '/usr/bin/sudo'];
  return Array.from({ length: POOL_SIZE }, (_, i) =>
    sampleRawEvent({
      node: 'bench-node-01',
      seq: 1_000_000n + BigInt(i),
      binary: binaries[i % binaries.length] ?? '/usr/bin/true',
      args: ['-c', `job-${1000 + (i % 9000)}`, '--verbose'],
      pid: 10_000 + i,
    }),
  );
}

/**
 * The Java tool's payload file: the encoded records with bit 7 cleared (ASCII, so they survive its UTF-8 reading),
 * joined by a delimiter none of them contains. Its delimiter is a Java regex; these candidates are literal there.
 */
function javaPayloads(encoded: readonly Buffer[]): { readonly text: string; readonly delimiter: string } {
  const masked = encoded.map((bytes) => Buffer.from(bytes.map((b) => b & 0x7f)).toString('latin1'));
  const delimiter = ['~', '#', '@', '%', '`', '#@#', '~#~@~'].find((d) => masked.every((m) => !m.includes(d)));
  if (delimiter === undefined) throw new Error('no payload delimiter absent from every record');
  return { text: masked.join(delimiter), delimiter };
}

// ---------------------------------------------------------------------------------------------------------------------
// Measurements

interface CodecRates {
  readonly encodePerSec: number;
  readonly decodePerSec: number;
}

function measureCodec(pool: readonly RawEvent[], records: number): CodecRates {
  const encoded: Buffer[] = pool.map(encodeRawEvent);
  let bytes = 0;
  const encodeStart = process.hrtime.bigint();
  for (let i = 0; i < records; i++) bytes += encodeRawEvent(pool[i % POOL_SIZE] as RawEvent).length;
  const encodeSeconds = Number(process.hrtime.bigint() - encodeStart) / 1e9;
  let fields = 0;
  const decodeStart = process.hrtime.bigint();
  for (let i = 0; i < records; i++) fields += decodeRawEvent(encoded[i % POOL_SIZE] as Buffer).id.length;
  const decodeSeconds = Number(process.hrtime.bigint() - decodeStart) / 1e9;
  if (bytes === 0 || fields === 0) throw new Error('codec produced nothing');
  return { encodePerSec: records / encodeSeconds, decodePerSec: records / decodeSeconds };
}

interface ProduceSpec {
  readonly client: KafkaClient;
  readonly topic: string;
  readonly compression: Compression;
}

/** Stinger's producer: encode + enqueue N records, timed from the first enqueue to the last acknowledgement. */
async function stingerProduce(spec: ProduceSpec, pool: readonly RawEvent[], records: number): Promise<number> {
  const producer = createProducer({ client: spec.client, compression: spec.compression });
  await producer.connect();
  try {
    const acks: Promise<void>[] = new Array<Promise<void>>(records);
    const start = process.hrtime.bigint();
    for (let i = 0; i < records; i++) {
      await producer.whenWritable();
      acks[i] = producer.enqueue(spec.topic, { key: null, value: encodeRawEvent(pool[i % POOL_SIZE] as RawEvent) });
    }
    await Promise.all(acks);
    return records / (Number(process.hrtime.bigint() - start) / 1e9);
  } finally {
    await producer.disconnect();
  }
}

interface ConsumeResult {
  /** Records/s from `start()` (connect, join, fetch, decode) to the N-th decoded record. */
  readonly totalPerSec: number;
  /** Records/s from the group join to the N-th decoded record. */
  readonly fetchPerSec: number;
}

/** Stinger's consumer: a fresh group reads the topic from the beginning and decodes every record. */
async function stingerConsume(client: KafkaClient, topic: string, records: number): Promise<ConsumeResult> {
  let consumed = 0;
  let finished: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (finished = resolve));
  let end = 0n;
  const consumer = createConsumer({
    client,
    groupId: uniqueTopicName('bench-stinger-group'),
    topics: [topic],
    fromBeginning: true,
    handleBatch: async (batch) => {
      for (const record of batch) {
        if (record.value === null) throw new Error(`null value at ${record.partition}/${record.offset}`);
        decodeRawEvent(record.value);
      }
      consumed += batch.length;
      if (consumed >= records && end === 0n) {
        end = process.hrtime.bigint();
        finished();
      }
    },
  });
  let joined = 0n;
  consumer.consumer.on(consumer.consumer.events.GROUP_JOIN, () => {
    joined = process.hrtime.bigint();
  });
  const start = process.hrtime.bigint();
  try {
    await consumer.start();
    await done;
  } finally {
    await consumer.stop();
  }
  if (consumed !== records) throw new Error(`expected ${records} records on ${topic}, consumed ${consumed}`);
  return {
    totalPerSec: records / (Number(end - start) / 1e9),
    fetchPerSec: records / (Number(end - (joined === 0n ? start : joined)) / 1e9),
  };
}

interface JavaTools {
  readonly libsDir: string;
  readonly brokers: string;
  readonly workDir: string;
}

async function runJava(tools: JavaTools, mainClass: string, args: readonly string[]): Promise<string> {
  try {
    const { stdout } = await run('java', [...TOOL_JVM_OPTIONS, '-cp', `${tools.libsDir}/*`, mainClass, ...args], {
      maxBuffer: 16 * 1024 * 1024,
      timeout: 10 * 60_000,
    });
    return stdout;
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`${mainClass} failed: ${(error as Error).message}\n${stdout.slice(-2000)}\n${stderr.slice(-2000)}`, { cause: error });
  }
}

/** `ProducerPerformance`; returns the records/s of its final summary line. */
async function javaProduce(tools: JavaTools, spec: { readonly topic: string; readonly compression: Compression; readonly records: number; readonly payloadFile: string; readonly delimiter: string }): Promise<number> {
  const stdout = await runJava(tools, 'org.apache.kafka.tools.ProducerPerformance', [
    '--topic', spec.topic,
    '--num-records', String(spec.records),
    '--throughput', '-1',
    '--payload-file', spec.payloadFile,
    '--payload-delimiter', spec.delimiter,
    '--producer-props', `bootstrap.servers=${tools.brokers}`, 'acks=all', 'enable.idempotence=true', `compression.type=${spec.compression}`,
  ]);
  const summary = new RegExp(`^${spec.records} records sent, ([\\d.]+) records/sec`, 'm').exec(stdout);
  if (!summary?.[1]) throw new Error(`ProducerPerformance printed no summary:\n${stdout.slice(-2000)}`);
  return Number(summary[1]);
}

/** `ConsumerPerformance`; returns nMsg.sec (whole run) and fetch.nMsg.sec (without the group join). */
async function javaConsume(tools: JavaTools, topic: string, records: number): Promise<ConsumeResult> {
  const configFile = join(tools.workDir, 'consumer.properties');
  await writeFile(configFile, 'isolation.level=read_committed\n');
  const stdout = await runJava(tools, 'org.apache.kafka.tools.ConsumerPerformance', [
    '--bootstrap-server', tools.brokers,
    '--topic', topic,
    '--messages', String(records),
    '--group', uniqueTopicName('bench-java-group'),
    '--consumer.config', configFile,
    '--timeout', '60000',
    '--hide-header',
  ]);
  // start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms,
  // fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
  const line = stdout.trim().split('\n').at(-1) ?? '';
  const columns = line.split(',').map((c) => c.trim());
  const count = Number(columns[4]);
  if (columns.length < 10 || count < records) throw new Error(`ConsumerPerformance read ${count} of ${records}:\n${stdout.slice(-2000)}`);
  return { totalPerSec: Number(columns[5]), fetchPerSec: Number(columns[9]) };
}

// ---------------------------------------------------------------------------------------------------------------------
// Report

type Series = Map<string, { stinger: number[]; kafka: number[] }>;

function record(series: Series, row: string, value: { stinger: number; kafka: number }): void {
  const entry = series.get(row) ?? { stinger: [], kafka: [] };
  entry.stinger.push(value.stinger);
  entry.kafka.push(value.kafka);
  series.set(row, entry);
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

const rate = (value: number): string => Math.round(value).toLocaleString('en-US');
const spread = (values: readonly number[]): string => `${rate(median(values))} (${rate(Math.min(...values))}–${rate(Math.max(...values))})`;

function table(series: Series, codec: readonly CodecRates[]): string {
  const lines = [
    '| measure | Stinger rec/s, median (min–max) | Kafka Java tool rec/s, median (min–max) | ratio Stinger/Kafka, median of runs | per-run ratios |',
    '|---|---:|---:|---:|---|',
  ];
  for (const [row, { stinger, kafka }] of series) {
    const ratios = stinger.map((s, i) => s / (kafka[i] as number));
    lines.push(`| ${row} | ${spread(stinger)} | ${spread(kafka)} | ${median(ratios).toFixed(2)} | ${ratios.map((r) => r.toFixed(2)).join(', ')} |`);
  }
  lines.push(`| encodeRawEvent alone (CPU only) | ${spread(codec.map((c) => c.encodePerSec))} | – | – | – |`);
  lines.push(`| decodeRawEvent alone (CPU only) | ${spread(codec.map((c) => c.decodePerSec))} | – | – | – |`);
  return lines.join('\n');
}

async function javaVersion(): Promise<string> {
  const { stderr } = await run('java', ['-version']);
  return stderr.split('\n')[0]?.trim() ?? 'unknown';
}

// ---------------------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const options = parseOptions();
  const config = loadConfig();
  const logger: Logger = createLogger({ name: 'benchmark', level: config.logLevel === 'info' ? 'warn' : config.logLevel });
  const workDir = await mkdtemp(join(tmpdir(), 'stinger-bench-'));
  let broker: LocalBroker | null = null;
  try {
    const pool = eventPool();
    const encoded = pool.map(encodeRawEvent);
    const recordSize = encoded[0]?.length ?? 0;
    if (encoded.some((e) => e.length !== recordSize)) throw new Error('event pool records differ in encoded size');
    const payloads = javaPayloads(encoded);
    const payloadFile = join(workDir, 'payloads.txt');
    await writeFile(payloadFile, payloads.text, 'latin1');

    const distribution = await resolveKafkaDistribution({ cacheDir: config.cacheDir, logger });
    let brokers: readonly string[];
    if (config.kafka.brokers) {
      brokers = config.kafka.brokers;
    } else {
      broker = await startLocalBroker({ cacheDir: config.cacheDir, dataDir: join(workDir, 'broker'), logger, port: options.port });
      brokers = [broker.brokers];
    }
    const client = createKafkaClient({ brokers, connection: config.kafka, role: 'benchmark', logger });
    const tools: JavaTools = { libsDir: distribution.libsDir, brokers: brokers.join(','), workDir };

    const load = loadavg().map((l) => l.toFixed(2)).join(' ');
    console.log(`# Stinger Kafka throughput: ${options.records} records × ${options.runs} runs, ${recordSize}-byte records, ${PARTITIONS} partitions`);
    console.log('');
    console.log(`- CPUs (nproc): ${availableParallelism()}, model: ${cpus()[0]?.model ?? 'unknown'}`);
    console.log(`- Node ${process.version}; ${await javaVersion()}`);
    console.log(`- Kafka ${KAFKA_VERSION} (tools${broker ? ' and local single-node KRaft broker' : `; broker from KAFKA_BROKERS ${brokers.join(',')}`})`);
    console.log(`- load average at start: ${load}`);
    console.log('');

    const series: Series = new Map();
    const codec: CodecRates[] = [];
    const newTopic = async (label: string): Promise<string> => {
      const topic = `${config.kafka.topicPrefix}${uniqueTopicName(`bench-${label}`)}`;
      await createTopics(client, [{ topic, partitions: PARTITIONS }]);
      return topic;
    };

    // Warm-up, not reported: the broker's group coordinator and JIT, and this process's JIT.
    const warmupRecords = Math.min(options.records, 20_000);
    const warmupTopic = await newTopic('warmup');
    await stingerProduce({ client, topic: warmupTopic, compression: 'zstd' }, pool, warmupRecords);
    await stingerConsume(client, warmupTopic, warmupRecords);
    await javaProduce(tools, { topic: warmupTopic, compression: 'zstd', records: warmupRecords, payloadFile, delimiter: payloads.delimiter });
    measureCodec(pool, warmupRecords);

    const started = Date.now();
    for (let runIndex = 0; runIndex < options.runs; runIndex++) {
      const stingerFirst = runIndex % 2 === 0;
      const pair = async <T>(stinger: () => Promise<T>, kafka: () => Promise<T>): Promise<{ stinger: T; kafka: T }> => {
        if (stingerFirst) {
          const s = await stinger();
          return { stinger: s, kafka: await kafka() };
        }
        const k = await kafka();
        return { stinger: await stinger(), kafka: k };
      };
      codec.push(measureCodec(pool, options.records));
      for (const compression of ['zstd', 'gzip', 'none'] as const) {
        const stingerTopic = await newTopic(`stinger-${compression}`);
        const javaTopic = await newTopic(`java-${compression}`);
        const produced = await pair(
          () => stingerProduce({ client, topic: stingerTopic, compression }, pool, options.records),
          () => javaProduce(tools, { topic: javaTopic, compression, records: options.records, payloadFile, delimiter: payloads.delimiter }),
        );
        record(series, `produce, ${compression}`, produced);
        // Both consumers read the topic Stinger's producer wrote (real Avro records).
        const consumed = await pair(
          () => stingerConsume(client, stingerTopic, options.records),
          () => javaConsume(tools, stingerTopic, options.records),
        );
        record(series, `consume + decode, ${compression} topic, fetch (after group join)`, {
          stinger: consumed.stinger.fetchPerSec,
          kafka: consumed.kafka.fetchPerSec,
        });
        record(series, `consume + decode, ${compression} topic, total (incl. join)`, {
          stinger: consumed.stinger.totalPerSec,
          kafka: consumed.kafka.totalPerSec,
        });
      }
      console.error(`run ${runIndex + 1}/${options.runs} done (${stingerFirst ? 'Stinger' : 'Kafka'} first)`);
    }

    console.log(table(series, codec));
    console.log('');
    console.log(`- load average at end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}; measured runs took ${Math.round((Date.now() - started) / 1000)} s`);
    console.log('- Java consumer rows are ConsumerPerformance without decoding (it does not know Avro); Stinger rows decode every record.');
  } finally {
    if (broker) await broker.stop();
    await rm(workDir, { recursive: true, force: true });
  }
}

await main();
