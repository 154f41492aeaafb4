/**
 * Detector throughput with the default rule pack loaded (k8s/policies), without and with the pack's Rego rules, beside
 * a transactional identity passthrough of the same records through the same broker in the same run; and the per-event
 * cost of PartitionDetector.observe with the pack loaded versus no rules.
 *
 *   npx node --disable-warning=TimeoutNegativeWarning benchmarks/detector.ts [--records N] [--runs K] [--micro-events M]
 *
 * Method (docs/BENCHMARKS.md has the reading):
 * - Broker: KAFKA_BROKERS if set, else one local broker (@stinger/local-broker) on a free port in a temporary data dir,
 *   stopped and removed at the end. Every measurement has its own topic prefix: fresh stinger.events (6 partitions),
 *   stinger.alerts, stinger.policies and stinger.dlq (bootstrapTopics).
 * - Rule pack: every k8s/policies/*.yaml, validated as `stinger policy apply --defaults` does (defaultPolicies),
 *   compiled and published signed (a temp keys dir the detector trusts) to the measurement's stinger.policies before
 *   the worker starts, so the detector starts with all of it in force (22 rules, 3 of them sequences).
 * - Records: N synthetic enriched Events (sampleEvent shapes, 12 node keys, 60 % in 48 pods, 40 % host; each
 *   container's parent processes its own, withPodParents): exec 35 %,
 *   file 40 %, connect 15 %, privilege 10 %; about 3 % match a rule of the pack (shell and package manager in a pod,
 *   shadow read, write below /etc, private-network and metadata connects, setuid to root, scratch writes and execs
 *   for the sequence rules), the rest are near misses (reads below /etc, pod/service CIDR connects, shells started by
 *   shells, setuid by root). Event times 100 µs apart. Encoded once, produced before the worker starts.
 * - Workers, each a child process consuming all 6 partitions: `detector` is services/detector/src/main.ts itself with
 *   the pack's native rules; `detector + Rego` the same with the pack's Rego policy (process-tree.yaml, compiled by opa)
 *   published too, so its two rules are evaluated on every exec event in the worker thread;
 *   `tx passthrough` is this script with `--role tx`: createTransactionalTransform with an identity transform (one
 *   transaction per fetched batch, as the detector) writing every record to stinger.alerts — the reference; the
 *   passthrough thus writes every record, the detector only its few alerts. `tx decode only` (`--role decode`) is the
 *   same transform decoding every record (decodeEvent) and writing nothing: the detector minus its matching.
 * - Throughput: the consumer group's committed offsets (fetchConsumerLag) polled every 100 ms; records/s from the first
 *   poll that sees a commit (start-up, policy load and group join excluded) to the poll that sees the group at the
 *   topic's end; worker utime+stime from /proc over the same interval (CPU µs per record).
 * - Micro: the same events (M of them, objects already decoded) fed to one PartitionDetector in a loop, with the pack
 *   loaded and with no rules; ns per observe call. decodeEvent per record is timed beside it (the transform's other
 *   per-record cost).
 * - Runs alternate the order of the workers; one unreported warm-up of each first. Tables give medians (min–max) over
 *   runs and the median of per-run ratios to the tx passthrough.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfig, processEnvironment, requireBrokers } from '@stinger/config';
import { DetectionRules, PartitionDetector } from '@stinger/detection';
import { decodeEvent, encodeEvent, type CompiledPolicy, type Event } from '@stinger/events';
import {
  bootstrapTopics,
  createDeadLetterBuilder,
  createKafkaClient,
  createProducer,
  createTransactionalTransform,
  fetchConsumerLag,
  installShutdown,
  topicName,
  type KafkaClient,
} from '@stinger/kafka';
import { KAFKA_VERSION, type LocalBroker } from '@stinger/local-broker';
import { createLogger, type Logger } from '@stinger/log';
import { uniqueTopicName } from '@stinger/testing';
import { signedPolicyRecord } from '@stinger/trust';
import { testKeysDir, testSigningKey } from '../integration-tests/helpers/keys.ts';
import { benchmarkBroker } from './broker.ts';
import { fmt, load, median, spread } from './report.ts';
import { compiledRegoPolicy, loadPack, matchStats, rulesOf, syntheticEvents, withPodParents } from './synthetic-events.ts';

const DETECTOR_MAIN = fileURLToPath(new URL('../services/detector/src/main.ts', import.meta.url));
const SELF = fileURLToPath(import.meta.url);
const CLOCK_TICKS_PER_SECOND = 100;
const POLL_MS = 100;

const WORKERS = ['detector', 'detector + Rego', 'tx passthrough', 'tx decode only'] as const;
type Worker = (typeof WORKERS)[number];

interface Options {
  readonly records: number;
  readonly runs: number;
  readonly microEvents: number;
  readonly role: string | undefined;
  readonly prefix: string | undefined;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      records: { type: 'string', default: '200000' },
      runs: { type: 'string', default: '3' },
      'micro-events': { type: 'string', default: '200000' },
      role: { type: 'string' },
      prefix: { type: 'string' },
    },
  });
  const positive = (name: string, raw: string): number => {
    const value = Number(raw);
    if (!Number.isInteger(value) || value <= 0) throw new RangeError(`--${name} must be a positive integer, got "${raw}"`);
    return value;
  };
  return {
    records: positive('records', values.records),
    runs: positive('runs', values.runs),
    microEvents: positive('micro-events', values['micro-events']),
    role: values.role,
    prefix: values.prefix,
  };
}

// ---------------------------------------------------------------------------------------------------------------------
// Reference worker (a child process of this script: --role tx --prefix P)

async function runPassthrough(role: string, prefix: string): Promise<void> {
  if (role !== 'tx' && role !== 'decode') throw new RangeError(`--role must be tx or decode, got "${role}"`);
  const config = loadConfig();
  const logger = createLogger({ name: 'bench-tx', level: 'warn' });
  const client = createKafkaClient({ brokers: requireBrokers(config), connection: config.kafka, role: 'bench-tx', logger });
  const target = topicName('alerts', prefix);
  const groupId = passthroughGroup(prefix);
  const shutdown = installShutdown({ logger });
  const worker = createTransactionalTransform({
    client,
    groupId,
    transactionalId: `${groupId}.tx`,
    inputTopics: [topicName('events', prefix)],
    sessionTimeoutMs: 10_000,
    // decode: every record decoded (as the detector does), nothing written; tx: every record written back unchanged.
    transform: (record) => (role === 'decode' ? (decodeEvent(record.value ?? Buffer.alloc(0)), []) : [{ topic: target, key: record.key, value: record.value }]),
    deadLetter: createDeadLetterBuilder({ consumer: groupId, dlqTopic: topicName('dlq', prefix) }),
  });
  shutdown.register('worker', () => worker.stop());
  await worker.start();
}

const passthroughGroup = (prefix: string): string => `${prefix}bench.passthrough`;
const isDetector = (worker: Worker): boolean => worker === 'detector' || worker === 'detector + Rego';
const groupOf = (worker: Worker, prefix: string): string => (isDetector(worker) ? `${prefix}stinger.detector` : passthroughGroup(prefix));
const roleOf = (worker: Worker): string => (worker === 'tx decode only' ? 'decode' : 'tx');

// ---------------------------------------------------------------------------------------------------------------------
// Measurement

/** utime + stime of a process, seconds. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Measurement {
  readonly recordsPerSec: number;
  readonly cpuMicrosPerRecord: number;
  /** ms from the worker's spawn to its first committed offset (start-up, policies, group join, first batch). */
  readonly startMs: number;
  /**
   * What the worker logged: CONCURRENT_TRANSACTIONS answers to AddPartitionsToTxn (the producer retries them) and to
   * AddOffsetsToTxn (not retried: the batch is aborted and fetched again), and consumer crashes (restarts).
   */
  readonly trouble: { partitions: number; offsets: number; restarts: number };
}

interface MeasureSpec {
  readonly worker: Worker;
  readonly brokers: string;
  readonly encoded: readonly { readonly key: string; readonly value: Buffer }[];
  readonly pack: ReadonlyMap<string, CompiledPolicy>;
  /** The pack with its Rego policy compiled (the `detector + Rego` worker's). */
  readonly packWithRego: ReadonlyMap<string, CompiledPolicy>;
}

async function startWorker(worker: Worker, brokers: string, prefix: string): Promise<ChildProcess> {
  const env: Record<string, string | undefined> = {
    ...processEnvironment(),
    KAFKA_BROKERS: brokers,
    STINGER_TOPIC_PREFIX: prefix,
    STINGER_NODE_NAME: 'bench-detector',
    STINGER_LOG_LEVEL: 'warn',
    STINGER_KEYS_DIR: testKeysDir(),
    STINGER_DETECTOR_METRICS_ADDRESS: '127.0.0.1:0',
  };
  const args = isDetector(worker) ? [DETECTOR_MAIN] : [SELF, '--role', roleOf(worker), '--prefix', prefix];
  return spawn(process.execPath, ['--disable-warning=TimeoutNegativeWarning', ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
}

async function measure(client: KafkaClient, spec: MeasureSpec): Promise<Measurement> {
  const prefix = `${uniqueTopicName('bench-detector')}.`;
  await bootstrapTopics({ client, prefix, topics: ['events', 'alerts', 'policies', 'dlq'] });
  const producer = createProducer({ client, compression: 'none', lingerMs: 1 });
  await producer.connect();
  const eventsTopic = topicName('events', prefix);
  try {
    const signer = { key: testSigningKey(), signedAtNs: BigInt(Date.now()) * 1_000_000n };
    const pack = spec.worker === 'detector + Rego' ? spec.packWithRego : spec.pack;
    await producer.send(topicName('policies', prefix), [...pack].map(([key, compiled]) => signedPolicyRecord(key, compiled, signer)));
    const acks: Promise<void>[] = [];
    for (const record of spec.encoded) {
      await producer.whenWritable();
      acks.push(producer.enqueue(eventsTopic, record));
    }
    await Promise.all(acks);
  } finally {
    await producer.disconnect();
  }

  const total = BigInt(spec.encoded.length);
  const groupId = groupOf(spec.worker, prefix);
  const spawned = performance.now();
  const child = await startWorker(spec.worker, spec.brokers, prefix);
  const errors: string[] = [];
  const trouble = { partitions: 0, offsets: 0, restarts: 0 };
  let pending = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (line.includes('"msg":"Response AddPartitionsToTxn') && line.includes('another concurrent operation')) trouble.partitions += 1;
      if (line.includes('"msg":"Response AddOffsetsToTxn') && line.includes('another concurrent operation')) trouble.offsets += 1;
      if (line.includes('Restarting the consumer')) trouble.restarts += 1;
      if (line.includes('"level":50') || line.includes('"level":60')) errors.push(line);
    }
  });
  let exitedEarly: string | null = null;
  child.once('exit', (code, signal) => (exitedEarly = `${spec.worker} exited (${code ?? signal}): ${errors.slice(-3).join(' | ')}`));
  try {
    let first: { time: number; consumed: bigint; cpu: number } | null = null;
    const deadline = Date.now() + 300_000;
    for (;;) {
      if (exitedEarly !== null) throw new Error(exitedEarly);
      if (Date.now() > deadline) throw new Error(`${spec.worker}: the group did not reach the end within 300 s`);
      const before = performance.now();
      const lag = await fetchConsumerLag(client, groupId, eventsTopic);
      const time = (before + performance.now()) / 2;
      if (lag.committed) {
        const consumed = total - lag.lag;
        const cpu = cpuSeconds(child.pid ?? 0);
        if (first === null) first = { time, consumed, cpu };
        else if (lag.lag === 0n) {
          if (consumed === first.consumed) throw new Error(`${spec.worker}: done before a second poll; use more --records`);
          return {
            recordsPerSec: Number(consumed - first.consumed) / ((time - first.time) / 1000),
            cpuMicrosPerRecord: ((cpu - first.cpu) / Number(consumed - first.consumed)) * 1e6,
            startMs: first.time - spawned,
            trouble: { ...trouble },
          };
        }
      }
      await sleep(POLL_MS);
    }
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await gone;
      clearTimeout(timer);
    }
  }
}

/** ns per observe() of `events` on a fresh PartitionDetector over `rules`. */
function timeObserve(events: readonly Event[], rules: DetectionRules): number {
  const detector = new PartitionDetector({ rules });
  let alerts = 0;
  const start = process.hrtime.bigint();
  for (const event of events) alerts += detector.observe(event, { emit: true }).length;
  const ns = Number(process.hrtime.bigint() - start);
  if (alerts < 0) throw new Error('unreachable'); // keeps the result used
  return ns / events.length;
}

function timeDecode(values: readonly Buffer[]): number {
  let sink = 0;
  const start = process.hrtime.bigint();
  for (const value of values) sink += decodeEvent(value).process.pid;
  const ns = Number(process.hrtime.bigint() - start);
  if (sink < 0) throw new Error('unreachable');
  return ns / values.length;
}

// ---------------------------------------------------------------------------------------------------------------------
// Report

async function main(options: Options): Promise<void> {
  const config = loadConfig();
  const logger: Logger = createLogger({ name: 'benchmark', level: config.logLevel === 'info' ? 'warn' : config.logLevel });
  const workDir = await mkdtemp(join(tmpdir(), 'stinger-bench-detector-'));
  let broker: LocalBroker | null = null;
  try {
    const pack = loadPack();
    const packRules = rulesOf(pack);
    const ruleCount = [...pack.values()].reduce((sum, compiled) => sum + compiled.rules.length, 0);
    const sequenceCount = [...pack.values()].reduce((sum, compiled) => sum + compiled.rules.filter((rule) => rule.sequence !== null).length, 0);
    const packWithRego = new Map([...pack, await compiledRegoPolicy(logger)]);
    const events = withPodParents(syntheticEvents(Math.max(options.records, options.microEvents)));
    const streamEvents = events.slice(0, options.records);
    const encoded = streamEvents.map((event) => ({ key: event.node, value: encodeEvent(event) }));
    const meanBytes = encoded.reduce((sum, record) => sum + record.value.length, 0) / encoded.length;
    const { matchingShare, alerts } = matchStats(streamEvents, packRules);

    const kafka = await benchmarkBroker({ config, logger, workDir });
    broker = kafka.local;
    const { brokers } = kafka;
    const client = createKafkaClient({ brokers, connection: config.kafka, role: 'benchmark', logger });
    const spec = { brokers: brokers.join(','), pack, packWithRego };

    console.log(`# Stinger detector: ${fmt(options.records)} records × ${options.runs} runs; micro-benchmark ${fmt(options.microEvents)} events`);
    console.log('');
    console.log(`- CPUs (nproc): ${availableParallelism()}, model: ${cpus()[0]?.model ?? 'unknown'}`);
    console.log(`- Node ${process.version}; Kafka ${broker ? `${KAFKA_VERSION} (local single-node KRaft broker)` : `broker from KAFKA_BROKERS ${brokers.join(',')}`}`);
    console.log(`- rule pack: ${pack.size} policies from k8s/policies, ${ruleCount} native rules (${sequenceCount} sequences); \`detector + Rego\` adds its Rego policy (2 rules in one module, on exec events)`);
    console.log(`- records: ${fmt(meanBytes)} bytes encoded on average; ${(matchingShare * 100).toFixed(1)} % match a single-event rule or start a sequence; the pack raises ${fmt(alerts)} alerts on them (one detector per node)`);
    console.log(`- load average at start: ${load()}`);
    console.log('');

    // Warm-up, not reported: the broker's coordinators and this process's JIT.
    const warm = encoded.slice(0, Math.min(encoded.length, 20_000));
    for (const worker of WORKERS) await measure(client, { ...spec, worker, encoded: warm });

    const results = new Map<Worker, Measurement[]>(WORKERS.map((w) => [w, []]));
    const started = Date.now();
    for (let runIndex = 0; runIndex < options.runs; runIndex++) {
      const order = runIndex % 2 === 0 ? WORKERS : [...WORKERS].reverse();
      for (const worker of order) results.get(worker)?.push(await measure(client, { ...spec, worker, encoded }));
      console.error(`run ${runIndex + 1}/${options.runs} done (${order.join(' → ')}); load ${load()}`);
    }
    const kafkaSeconds = Math.round((Date.now() - started) / 1000);
    const loadAfterKafka = load();

    // Micro-benchmark: observe() per event, pack vs no rules; decodeEvent beside it.
    const microEvents = events.slice(0, options.microEvents);
    const microValues = microEvents.map((event) => encodeEvent(event));
    const none = new DetectionRules();
    const singles = rulesOf(new Map([...pack].filter(([, compiled]) => compiled.rules.every((rule) => rule.sequence === null))));
    timeObserve(microEvents, packRules);
    timeObserve(microEvents, singles);
    timeObserve(microEvents, none);
    timeDecode(microValues);
    const micro = { pack: [] as number[], singles: [] as number[], none: [] as number[], decode: [] as number[] };
    for (let runIndex = 0; runIndex < Math.max(options.runs, 5); runIndex++) {
      const first = runIndex % 2 === 0;
      if (first) micro.pack.push(timeObserve(microEvents, packRules));
      micro.none.push(timeObserve(microEvents, none));
      micro.singles.push(timeObserve(microEvents, singles));
      if (!first) micro.pack.push(timeObserve(microEvents, packRules));
      micro.decode.push(timeDecode(microValues));
    }

    const reference = results.get('tx passthrough') ?? [];
    console.log(`## Throughput: ${fmt(options.records)} pre-filled Events, 6 partitions, one worker`);
    console.log('');
    console.log('| worker | records/s, median (min–max) | ratio to tx passthrough, median of runs (per run) | worker CPU µs/record, median | spawn → first commit, ms, median |');
    console.log('|---|---:|---|---:|---:|');
    for (const [worker, runs] of results) {
      const ratios = runs.map((m, i) => m.recordsPerSec / (reference[i]?.recordsPerSec ?? Number.NaN));
      console.log(
        `| ${worker} | ${spread(runs.map((m) => m.recordsPerSec))} | ${fmt(median(ratios), 2)} (${ratios.map((r) => r.toFixed(2)).join(', ')}) | ${fmt(median(runs.map((m) => m.cpuMicrosPerRecord)), 1)} | ${fmt(median(runs.map((m) => m.startMs)))} |`,
      );
    }
    const plain = results.get('detector') ?? [];
    const regoRatios = (results.get('detector + Rego') ?? []).map((m, i) => m.recordsPerSec / (plain[i]?.recordsPerSec ?? Number.NaN));
    console.log('');
    console.log(`- detector + Rego / detector, same run: median ${fmt(median(regoRatios), 2)} (per run ${regoRatios.map((r) => r.toFixed(2)).join(', ')})`);
    for (const [worker, runs] of results) {
      const perRun = runs.map((m) => `${fmt(m.recordsPerSec)} rec/s, ${fmt(m.cpuMicrosPerRecord, 1)} µs CPU/record, CONCURRENT_TRANSACTIONS on AddPartitionsToTxn ${m.trouble.partitions} / on AddOffsetsToTxn (batch aborted) ${m.trouble.offsets}, consumer restarts ${m.trouble.restarts}`);
      console.log(`- ${worker}, per run: ${perRun.join('; ')}`);
    }
    console.log(`- measured runs took ${kafkaSeconds} s; load average then: ${loadAfterKafka}`);
    console.log('');
    console.log(`## PartitionDetector.observe per event (${fmt(options.microEvents)} events, one detector, ${micro.pack.length} runs)`);
    console.log('');
    console.log('| rules loaded | ns/event, median (min–max) | ratio to no rules |');
    console.log('|---|---:|---:|');
    const ratio = median(micro.pack.map((ns, i) => ns / (micro.none[i] ?? Number.NaN)));
    console.log(`| default pack (${ruleCount} rules) | ${spread(micro.pack)} | ${fmt(ratio, 1)} |`);
    const singlesRatio = median(micro.singles.map((ns, i) => ns / (micro.none[i] ?? Number.NaN)));
    console.log(`| the pack without its sequence policy (${ruleCount - sequenceCount} single-event rules) | ${spread(micro.singles)} | ${fmt(singlesRatio, 1)} |`);
    console.log(`| none | ${spread(micro.none)} | 1.0 |`);
    console.log(`| (decodeEvent alone, per record) | ${spread(micro.decode)} | – |`);
    console.log('');
    console.log(`- load average at end: ${load()}`);
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
