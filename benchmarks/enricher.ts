/**
 * Enricher throughput and added latency: the enricher service (services/enricher, outside a cluster) beside a plain
 * consume→produce of the same records through the same broker in the same run.
 *
 *   npx node --disable-warning=TimeoutNegativeWarning benchmarks/enricher.ts [--records N] [--runs K] [--rate R]
 *
 * Method (docs/BENCHMARKS.md has the reading):
 * - Broker: KAFKA_BROKERS if set, else one local broker (@stinger/local-broker) on a free port in a temporary data dir,
 *   stopped and removed at the end. Every measurement has its own topic prefix: fresh stinger.events.raw,
 *   stinger.events and stinger.dlq (bootstrapTopics, 6 partitions for the first two).
 * - Workers, each one child process consuming all partitions: `enricher` is services/enricher/src/main.ts itself (no
 *   KUBECONFIG: container identity only); `tx passthrough` is this script with `--role tx`, createTransactionalTransform
 *   with an identity transform (one transaction per fetched batch, as the enricher); `plain passthrough` is `--role
 *   plain`, createConsumer (auto-commit) + createProducer (idempotent, acks=all, no compression) sending each fetched
 *   batch. All read stinger.events.raw and write stinger.events.
 * - Throughput: N RawEvents (sampleRawEvent, 12 node keys, 190–200 bytes) are produced before the worker starts; a
 *   read_committed consumer in this process times the first output record to the N-th (group join and start-up
 *   excluded) and reads the worker's utime+stime from /proc at both points (CPU per record).
 * - Latency: then, with the worker caught up, R records/s for 4 s; per record, the time from the produce call
 *   (enqueue, linger 1 ms) to its output reaching this read_committed consumer; p50/p99 per run.
 * - Runs alternate the order of the three workers; one unreported warm-up of each first. Tables give medians
 *   (min–max) over runs and the median of per-run ratios to the tx passthrough.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfig, processEnvironment, requireBrokers } from '@stinger/config';
import { decodeEvent, decodeRawEvent, encodeRawEvent } from '@stinger/events';
import {
  bootstrapTopics,
  createConsumer,
  createDeadLetterBuilder,
  createKafkaClient,
  createProducer,
  createTransactionalTransform,
  installShutdown,
  topicName,
  type KafkaClient,
} from '@stinger/kafka';
import { KAFKA_VERSION, startLocalBroker, type LocalBroker } from '@stinger/local-broker';
import { createLogger, type Logger } from '@stinger/log';
import { sampleRawEvent, uniqueTopicName } from '@stinger/testing';

const ENRICHER_MAIN = fileURLToPath(new URL('../services/enricher/src/main.ts', import.meta.url));
const SELF = fileURLToPath(import.meta.url);
const NODE_KEYS = 12;
const LATENCY_SECONDS = 4;
const CLOCK_TICKS_PER_SECOND = 100;
/** kafkajs's message for the broker's CONCURRENT_TRANSACTIONS error, which it retries after a backoff. */
const CONCURRENT_TRANSACTIONS = 'another concurrent operation on the same transaction was ongoing';

const WORKERS = ['enricher', 'tx passthrough', 'plain passthrough'] as const;
type Worker = (typeof WORKERS)[number];

interface Options {
  readonly records: number;
  readonly runs: number;
  readonly rate: number;
  readonly role: string | undefined;
  readonly prefix: string | undefined;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      records: { type: 'string', default: '50000' },
      runs: { type: 'string', default: '3' },
      rate: { type: 'string', default: '1000' },
      role: { type: 'string' },
      prefix: { type: 'string' },
    },
  });
  const positive = (name: string, raw: string): number => {
    const value = Number(raw);
    if (!Number.isInteger(value) || value <= 0) throw new RangeError(`--${name} must be a positive integer, got "${raw}"`);
    return value;
  };
  return { records: positive('records', values.records), runs: positive('runs', values.runs), rate: positive('rate', values.rate), role: values.role, prefix: values.prefix };
}

// ---------------------------------------------------------------------------------------------------------------------
// Reference workers (child processes of this script: --role tx | plain --prefix P)

async function runPassthrough(role: string, prefix: string): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ name: `bench-${role}`, level: 'warn' });
  const client = createKafkaClient({ brokers: requireBrokers(config), connection: config.kafka, role: `bench-${role}`, logger });
  const source = topicName('eventsRaw', prefix);
  const target = topicName('events', prefix);
  const groupId = `${prefix}bench.passthrough`;
  const shutdown = installShutdown({ logger });
  if (role === 'tx') {
    const worker = createTransactionalTransform({
      client,
      groupId,
      transactionalId: `${groupId}.tx`,
      inputTopics: [source],
      transform: (record) => [{ topic: target, key: record.key, value: record.value }],
      deadLetter: createDeadLetterBuilder({ consumer: groupId, dlqTopic: topicName('dlq', prefix) }),
    });
    shutdown.register('worker', () => worker.stop());
    await worker.start();
  } else if (role === 'plain') {
    const producer = createProducer({ client, compression: 'none' });
    await producer.connect();
    const consumer = createConsumer({
      client,
      groupId,
      topics: [source],
      fromBeginning: true,
      handleBatch: (records) => producer.send(target, records.map((r) => ({ key: r.key, value: r.value }))),
    });
    shutdown.register('consumer', () => consumer.stop());
    shutdown.register('producer', () => producer.disconnect());
    await consumer.start();
  } else {
    throw new RangeError(`--role must be tx or plain, got "${role}"`);
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// Measurement

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** utime + stime of a process, seconds. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

async function startWorker(worker: Worker, brokers: string, prefix: string): Promise<ChildProcess> {
  const env: Record<string, string | undefined> = {
    ...processEnvironment(),
    KAFKA_BROKERS: brokers,
    STINGER_TOPIC_PREFIX: prefix,
    STINGER_NODE_NAME: 'bench-enricher',
    STINGER_LOG_LEVEL: 'warn',
    // Its own metrics port: a running `stinger up` holds the default one.
    STINGER_ENRICHER_METRICS_ADDRESS: `127.0.0.1:${await freePort()}`,
  };
  delete env['KUBECONFIG'];
  delete env['KUBERNETES_SERVICE_HOST'];
  const args =
    worker === 'enricher'
      ? [ENRICHER_MAIN]
      : [SELF, '--role', worker === 'tx passthrough' ? 'tx' : 'plain', '--prefix', prefix];
  return spawn(process.execPath, ['--disable-warning=TimeoutNegativeWarning', ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
}

interface Measurement {
  readonly recordsPerSec: number;
  readonly cpuMicrosPerRecord: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** kafkajs retries of CONCURRENT_TRANSACTIONS the worker logged (a transaction begun while the last one completes). */
  readonly concurrentTransactionRetries: number;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function measure(client: KafkaClient, spec: { readonly worker: Worker; readonly brokers: string; readonly records: number; readonly rate: number }): Promise<Measurement> {
  const prefix = `${uniqueTopicName('bench-enricher')}.`;
  await bootstrapTopics({ client, prefix, topics: ['eventsRaw', 'events', 'dlq'] });
  const source = topicName('eventsRaw', prefix);
  const producer = createProducer({ client, compression: 'none', lingerMs: 1 });
  await producer.connect();
  const event = (seq: number): Buffer => encodeRawEvent(sampleRawEvent({ node: `bench-node-${seq % NODE_KEYS}`, seq: BigInt(seq) }));
  const acks: Promise<void>[] = [];
  for (let seq = 0; seq < spec.records; seq++) {
    await producer.whenWritable();
    acks.push(producer.enqueue(source, { key: `bench-node-${seq % NODE_KEYS}`, value: event(seq) }));
  }
  await Promise.all(acks);

  const decode = spec.worker === 'enricher' ? (value: Buffer) => decodeEvent(value).seq : (value: Buffer) => decodeRawEvent(value).seq;
  const sentAt = new Map<number, number>();
  const latencies: number[] = [];
  const total = spec.records + spec.rate * LATENCY_SECONDS;
  let seen = 0;
  let concurrentTransactionRetries = 0;
  let first: { time: bigint; cpu: number } | null = null;
  let backlogDone: { time: bigint; cpu: number } | null = null;
  let signal: () => void = () => undefined;
  let child: ChildProcess | null = null;
  const collector = createConsumer({
    client,
    groupId: uniqueTopicName('bench-collector'),
    topics: [topicName('events', prefix)],
    fromBeginning: true,
    readCommitted: true,
    handleBatch: async (batch) => {
      const now = Date.now();
      for (const record of batch) {
        if (!record.value) throw new Error(`null value at ${record.partition}/${record.offset}`);
        const seq = Number(decode(record.value));
        const sent = sentAt.get(seq);
        if (sent !== undefined) latencies.push(now - sent);
      }
      const pid = child?.pid ?? 0;
      if (first === null) first = { time: process.hrtime.bigint(), cpu: cpuSeconds(pid) };
      seen += batch.length;
      if (backlogDone === null && seen >= spec.records) backlogDone = { time: process.hrtime.bigint(), cpu: cpuSeconds(pid) };
      signal();
    },
  });
  const until = async (predicate: () => boolean, timeoutMs: number, what: string): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`${spec.worker}: timed out waiting for ${what} (${seen} of ${total} records seen)`);
      await new Promise<void>((resolve) => {
        signal = resolve;
        setTimeout(resolve, 200);
      });
    }
  };
  await collector.start();
  try {
    child = await startWorker(spec.worker, spec.brokers, prefix);
    let pending = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (line.includes(CONCURRENT_TRANSACTIONS)) concurrentTransactionRetries += 1;
        else if (line.includes('"level":50') || line.includes('"level":60')) console.error(`${spec.worker}: ${line}`);
      }
    });
    const exited = new Promise<never>((_, reject) => child?.once('exit', (code, sig) => reject(new Error(`${spec.worker} exited (${code ?? sig})`))));
    exited.catch(() => undefined);
    await Promise.race([until(() => backlogDone !== null, 300_000, 'the backlog'), exited]);

    // Latency: a steady stream below capacity, enqueued in 10 ms ticks.
    const perTick = Math.max(1, Math.round(spec.rate / 100));
    let seq = spec.records;
    const start = Date.now();
    const streamed: Promise<void>[] = [];
    for (let tick = 0; seq < total; tick++) {
      const due = start + tick * 10;
      if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
      for (let i = 0; i < perTick && seq < total; i++, seq++) {
        sentAt.set(seq, Date.now());
        streamed.push(producer.enqueue(source, { key: `bench-node-${seq % NODE_KEYS}`, value: event(seq) }));
      }
    }
    await Promise.all(streamed);
    await Promise.race([until(() => seen >= total, 60_000, 'the latency stream'), exited]);
    if (seen !== total) throw new Error(`${spec.worker}: ${seen} records out for ${total} in`);
  } finally {
    await producer.disconnect();
    await collector.stop();
    if (child && child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((resolve) => child?.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child?.kill('SIGKILL'), 15_000);
      await gone;
      clearTimeout(timer);
    }
  }
  const a = first as { time: bigint; cpu: number } | null;
  const b = backlogDone as { time: bigint; cpu: number } | null;
  if (!a || !b) throw new Error('no measurement');
  const sorted = latencies.sort((x, y) => x - y);
  return {
    recordsPerSec: spec.records / (Number(b.time - a.time) / 1e9),
    cpuMicrosPerRecord: ((b.cpu - a.cpu) / spec.records) * 1e6,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    concurrentTransactionRetries,
  };
}

// ---------------------------------------------------------------------------------------------------------------------
// Report

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

const fmt = (value: number, digits = 0): string => value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const spread = (values: readonly number[], digits = 0): string => `${fmt(median(values), digits)} (${fmt(Math.min(...values), digits)}–${fmt(Math.max(...values), digits)})`;

function table(results: ReadonlyMap<Worker, Measurement[]>): string {
  const reference = results.get('tx passthrough') ?? [];
  const lines = [
    '| worker | records/s, median (min–max) | ratio to tx passthrough, median of runs (per run) | worker CPU µs/record, median | latency p50 ms, median (min–max) | latency p99 ms, median (min–max) | added p50 / p99 vs tx passthrough, ms, median of runs | CONCURRENT_TRANSACTIONS retries logged, per run |',
    '|---|---:|---|---:|---:|---:|---:|---|',
  ];
  for (const [worker, runs] of results) {
    const ratios = runs.map((m, i) => m.recordsPerSec / (reference[i]?.recordsPerSec ?? Number.NaN));
    const addedP50 = runs.map((m, i) => m.p50Ms - (reference[i]?.p50Ms ?? Number.NaN));
    const addedP99 = runs.map((m, i) => m.p99Ms - (reference[i]?.p99Ms ?? Number.NaN));
    lines.push(
      `| ${worker} | ${spread(runs.map((m) => m.recordsPerSec))} | ${median(ratios).toFixed(2)} (${ratios.map((r) => r.toFixed(2)).join(', ')}) | ${fmt(median(runs.map((m) => m.cpuMicrosPerRecord)), 1)} | ${spread(runs.map((m) => m.p50Ms))} | ${spread(runs.map((m) => m.p99Ms))} | ${fmt(median(addedP50))} / ${fmt(median(addedP99))} | ${runs.map((m) => m.concurrentTransactionRetries).join(', ')} |`,
    );
  }
  return lines.join('\n');
}

async function main(options: Options): Promise<void> {
  const config = loadConfig();
  const logger: Logger = createLogger({ name: 'benchmark', level: config.logLevel === 'info' ? 'warn' : config.logLevel });
  const workDir = await mkdtemp(join(tmpdir(), 'stinger-bench-enricher-'));
  let broker: LocalBroker | null = null;
  try {
    let brokers: readonly string[];
    if (config.kafka.brokers) {
      brokers = config.kafka.brokers;
    } else {
      broker = await startLocalBroker({ cacheDir: config.cacheDir, dataDir: join(workDir, 'broker'), logger, port: await freePort() });
      brokers = [broker.brokers];
    }
    const client = createKafkaClient({ brokers, connection: config.kafka, role: 'benchmark', logger });
    const spec = { brokers: brokers.join(','), records: options.records, rate: options.rate };

    console.log(`# Stinger enricher: ${options.records} records × ${options.runs} runs, latency stream ${options.rate} records/s for ${LATENCY_SECONDS} s`);
    console.log('');
    console.log(`- CPUs (nproc): ${availableParallelism()}, model: ${cpus()[0]?.model ?? 'unknown'}`);
    console.log(`- Node ${process.version}; Kafka ${broker ? `${KAFKA_VERSION} (local single-node KRaft broker)` : `broker from KAFKA_BROKERS ${brokers.join(',')}`}`);
    console.log(`- load average at start: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    console.log('');

    // Warm-up, not reported: the broker's coordinators and this process's JIT.
    for (const worker of WORKERS) await measure(client, { ...spec, worker, records: Math.min(options.records, 5000), rate: Math.min(options.rate, 250) });

    const results = new Map<Worker, Measurement[]>(WORKERS.map((w) => [w, []]));
    const started = Date.now();
    for (let runIndex = 0; runIndex < options.runs; runIndex++) {
      const order = runIndex % 2 === 0 ? WORKERS : [...WORKERS].reverse();
      for (const worker of order) results.get(worker)?.push(await measure(client, { ...spec, worker }));
      console.error(`run ${runIndex + 1}/${options.runs} done (${order.join(' → ')}); load ${loadavg()[0]?.toFixed(2)}`);
    }

    console.log(table(results));
    console.log('');
    for (const [worker, runs] of results) {
      console.log(`- ${worker}, per run: ${runs.map((m) => `${fmt(m.recordsPerSec)} rec/s, p50 ${m.p50Ms} / p99 ${m.p99Ms} ms`).join('; ')}`);
    }
    console.log(`- load average at end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}; measured runs took ${Math.round((Date.now() - started) / 1000)} s`);
  } finally {
    if (broker) await broker.stop();
    await rm(workDir, { recursive: true, force: true });
  }
}

const options = parseOptions();
if (options.role !== undefined) {
  if (options.prefix === undefined) throw new RangeError('--role needs --prefix');
  await runPassthrough(options.role, options.prefix);
} else {
  await main(options);
}
