/**
 * The node agent's throughput and overhead on the real kernel (root), each figure beside a reference measured in the
 * same run on the same machine.
 *
 *   npm run -s -w @stinger/bpf build:bpf
 *   npx node --disable-warning=TimeoutNegativeWarning benchmarks/agent-pipeline.ts [--runs K] [--opens N]
 *     [--workload-opens M] [--forks F] [--port P] [--only pipeline|workload] [--agent-profile DIR] [--stage-profile DIR]
 *
 * `--only` runs parts 1–2 (`pipeline`) or part 3 (`workload`) alone. `--agent-profile DIR` starts the agent of
 * part 3 with its inspector on a free local port and CPU-profiles it during each workload
 * (benchmarks/inspector-profiler.ts), writes each profile into DIR (`<workload>-run<N>.cpuprofile`, for DevTools or
 * `node benchmarks/cpu-profile-top.ts FILE --callers NAME`), then prints each profile's top functions by self time
 * after the report, as docs/BENCHMARKS.md quotes them. The inspector's sampling costs the agent CPU: figures of a
 * profiled run are not comparable with an unprofiled one. `--stage-profile DIR` writes profiles of this process
 * during each measured pre-filled drain of the `events` and `kafka` stages (over node:inspector, started once the
 * sensors are loaded: a profiler's SIGPROF during a BPF program load makes the verifier give up with EAGAIN, so
 * `node --cpu-prof` cannot be used here).
 *
 * Method (docs/BENCHMARKS.md has the reading):
 * 1. Ring buffer → decoded records → RawEvents. The process sensor with the file sensor joined to it (one ring
 *    buffer, as in the agent), an audit rule on one watched file (`filePolicy.addExact`), and a batched reader
 *    (`createRingBufferReader`, started: worker-thread wait + main-thread drain) per measurement. A small C program
 *    opens and closes the watched file N times (one 384-byte record per open); the live rate is the records drained
 *    from the ring / the time from the program's start until the ring is empty.
 *    Stages: `raw` (drain and count, no decoding), `decode` (forEachRecord + createRecordDispatcher with the four
 *    decoder tables), `events` (decode + AgentPipeline: EventBuilder, sequence, encodeRawEvent, EventPublisher with a
 *    sink that discards). Reference: the same program with nothing attached (sensors not loaded).
 *    Each stage is also measured on a pre-filled ring: with no reader draining, the program fills the ring with
 *    16,000 records (well below its 8 MiB), then the stage drains it on the main thread with nothing else running,
 *    5 rounds: the consumer's own capacity, while the live rate is bounded by whichever side is slower.
 * 2. To Kafka: the `kafka` stage is `events` with the agent's own EventPublisher → createProducer (zstd level 1, the default codec; idempotent,
 *    acks=all) → a fresh one-partition topic on a local broker, keyed by node name; its rate counts acknowledged
 *    records, timed until every published record is acknowledged. Reference: ProducerPerformance with N records
 *    of the same encoded events (bit 7 cleared, the tool reads text), zstd (Kafka's default level 3), acks=all, idempotence, null key (the tool
 *    cannot send keys), into a fresh one-partition topic.
 *    Every stage reports what it lost: kernel (`sensor.lostRecords()`, ring full), user space
 *    (`reader.stats().droppedInUserSpace`) and the publisher (`publisher.stats().lost`, spool full).
 * 3. Slowdown: the real agent (services/agent/src/main.ts, a child process, default watches, plus the local policy
 *    deny-shadow-read.yaml in its policy directory) running versus not running, while a C program does M open+close
 *    of an unwatched file, and another F fork+exec of /bin/true + wait; then two workloads of real work
 *    (benchmarks/workload-programs.ts prepareRealisticWorkloads): compiling bpf/ from scratch, and `npm ci` of this
 *    repository offline from the npm cache. Wall time of each; agent CPU time from /proc/<pid>/stat during each; its
 *    loss counters from its /metrics.
 * Runs alternate the order of the stages (and agent on/off) between runs; tables give medians with min–max and the
 * median of per-run ratios. One unreported warm-up precedes the measured runs of parts 1–2.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { Session } from 'node:inspector/promises';
import { availableParallelism, cpus, loadavg, release, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { AgentPipeline, EventBuilder, EventPublisher, EventSpool, type PublisherStats, type RecordSink, type SensorRecord } from '@stinger/agent';
import {
  FILE_RECORD_DECODERS,
  NETWORK_RECORD_DECODERS,
  PRIVILEGE_RECORD_DECODERS,
  PROCESS_RECORD_DECODERS,
  bootToWallOffsetNs,
  createRecordDispatcher,
  createRingBufferReader,
  forEachRecord,
  loadFileSensor,
  loadProcessSensor,
  type FileSensor,
  type RecordBatch,
  type RingBufferReader,
  type Sensor,
} from '@stinger/bpf';
import { loadConfig, processEnvironment } from '@stinger/config';
import { bootstrapTopics, createKafkaClient, createProducer, createTopics, type KafkaClient, type StingerProducer } from '@stinger/kafka';
import { KAFKA_VERSION, resolveKafkaDistribution, startLocalBroker, type LocalBroker } from '@stinger/local-broker';
import { createLogger, silentLogger, type Logger } from '@stinger/log';
import { ProcessCache, createProcReader } from '@stinger/process-cache';
import { uniqueTopicName } from '@stinger/testing';
import { profileTop, renderProfileTop, type CpuProfile } from './cpu-profile-top.ts';
import { connectProfiler } from './inspector-profiler.ts';
import { buildPrograms, prepareRealisticWorkloads, timeProgram } from './workload-programs.ts';

const run = promisify(execFile);
const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));
const AGENT_MAIN = join(REPO_ROOT, 'services/agent/src/main.ts');
const SHADOW_POLICY = join(REPO_ROOT, 'libs/policy/testdata/deny-shadow-read.yaml');
const NODE_NAME = 'bench-node-01';
const TOOL_JVM_OPTIONS = ['-Xmx512M', '-XX:+UseG1GC'];
const PAYLOAD_POOL = 1024;
/**
 * Opens per pre-filled round: 12,000 file records of 384 bytes (+8 framing) fill 4.5 of the ring's 8 MiB, below the
 * 6 MiB above which the kernel sheds audit records (bpf/README.md, "Loss and shedding"): the drain must find them all.
 */
const PREFILL_OPENS = 12_000;
const PREFILL_ROUNDS = 5;
/** Clock ticks per second of /proc/<pid>/stat utime/stime (USER_HZ, 100 on Linux). */
const USER_HZ = 100;

interface Options {
  readonly runs: number;
  readonly opens: number;
  readonly workloadOpens: number;
  readonly forks: number;
  readonly port: number | null;
  readonly parts: ReadonlySet<'pipeline' | 'workload'>;
  /** Where the agent's CPU profiles go; null: not profiled. */
  readonly agentProfileDir: string | null;
  /** Where this process's CPU profiles of the events and kafka stages go; null: not profiled. */
  readonly stageProfileDir: string | null;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '3' },
      opens: { type: 'string', default: '1000000' },
      'workload-opens': { type: 'string', default: '1000000' },
      forks: { type: 'string', default: '2000' },
      port: { type: 'string' },
      only: { type: 'string' },
      'agent-profile': { type: 'string' },
      'stage-profile': { type: 'string' },
    },
  });
  if (values.only !== undefined && values.only !== 'pipeline' && values.only !== 'workload') {
    throw new RangeError(`--only must be pipeline or workload, got "${values.only}"`);
  }
  const positive = (name: string, raw: string): number => {
    const value = Number(raw);
    if (!Number.isInteger(value) || value <= 0) throw new RangeError(`--${name} must be a positive integer, got "${raw}"`);
    return value;
  };
  return {
    runs: positive('runs', values.runs),
    opens: positive('opens', values.opens),
    workloadOpens: positive('workload-opens', values['workload-opens']),
    forks: positive('forks', values.forks),
    port: values.port === undefined ? null : positive('port', values.port),
    parts: new Set(values.only === undefined ? ['pipeline', 'workload'] : [values.only]),
    agentProfileDir: values['agent-profile'] ?? null,
    stageProfileDir: values['stage-profile'] ?? null,
  };
}

// ---------------------------------------------------------------------------------------------------------------------
// Workload programs


// ---------------------------------------------------------------------------------------------------------------------
// Parts 1–2: ring buffer → decode → RawEvent → Kafka

type StageName = 'raw' | 'decode' | 'events' | 'kafka';
const STAGES: readonly StageName[] = ['raw', 'decode', 'events', 'kafka'];

interface StageResult {
  /** Records the stage completed (drained; for kafka: acknowledged) per second, program start → last one done. */
  readonly perSec: number;
  readonly completed: number;
  /** The open-loop program's own rate while the stage ran. */
  readonly producerPerSec: number;
  readonly lostInKernel: number;
  readonly droppedInUserSpace: number;
  readonly lostInPublisher: number;
  readonly spooled: number;
}

interface PipelineRig {
  readonly processSensor: Sensor;
  readonly fileSensor: FileSensor;
  readonly discardPublisher: EventPublisher;
  readonly kafkaPublisher: EventPublisher;
  readonly discardPipeline: AgentPipeline;
  readonly kafkaPipeline: AgentPipeline;
  /** The reader of the measurement in progress (one at a time on the shared ring). */
  reader: RingBufferReader | null;
  /** The handler the reader's batches go to now. */
  handle: (batch: RecordBatch) => void;
  /** Where the kafka stage's sink produces to. */
  topic: string;
  /** The most recent encoded events the discarding sink saw (payloads for the Java reference). */
  readonly captured: Buffer[];
  counted: number;
  close(): Promise<void>;
}

interface RigOptions {
  readonly producer: StingerProducer;
  readonly workDir: string;
  readonly watchedPath: string;
  readonly logger: Logger;
}

async function openRig(options: RigOptions): Promise<PipelineRig> {
  const processSensor = loadProcessSensor({ logger: options.logger });
  const closers: (() => Promise<void> | void)[] = [() => processSensor.close()];
  const closeAll = async (): Promise<void> => {
    for (const close of closers.splice(0).reverse()) {
      try {
        await close();
      } catch (error) {
        console.error(`cleanup: ${(error as Error).message}`);
      }
    }
  };
  try {
    const fileSensor = loadFileSensor({ join: processSensor, logger: options.logger });
    closers.push(() => fileSensor.close());
    fileSensor.filePolicy.addExact(options.watchedPath, { ruleId: 1, action: 'audit', ops: ['open'] });

    const cache = new ProcessCache({ nodeName: NODE_NAME, procReader: createProcReader() });
    cache.scan();
    const builder = new EventBuilder({
      nodeName: NODE_NAME,
      agentId: 'bench-agent',
      bootId: readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(),
      bootToWallNs: bootToWallOffsetNs(),
      cache,
    });
    const captured: Buffer[] = [];
    const discardSink: RecordSink = {
      queuedRecords: 0,
      enqueue: (record) => {
        if (captured.length >= PAYLOAD_POOL) captured.shift();
        captured.push(record.value);
        return Promise.resolve();
      },
      sendBatch: () => Promise.resolve(),
    };
    const discardPublisher = new EventPublisher({
      sink: discardSink,
      spool: new EventSpool({ dir: join(options.workDir, 'spool-discard'), maxBytes: 256 * 1024 * 1024 }),
      logger: options.logger,
    });
    closers.push(() => discardPublisher.stop());
    await discardPublisher.start();
    let topic = '';
    // The agent's publisher settings (spool of 256 MiB, default queue bound and retry interval) on the real producer.
    const kafkaPublisher = new EventPublisher({
      sink: {
        enqueue: (record) => options.producer.enqueue(topic, record),
        sendBatch: (records) => options.producer.send(topic, records),
        get queuedRecords() {
          return options.producer.queuedRecords;
        },
      },
      spool: new EventSpool({ dir: join(options.workDir, 'spool-kafka'), maxBytes: 256 * 1024 * 1024 }),
      logger: options.logger,
    });
    closers.push(() => kafkaPublisher.stop());
    await kafkaPublisher.start();
    const rig: PipelineRig = {
      processSensor,
      fileSensor,
      discardPublisher,
      kafkaPublisher,
      discardPipeline: new AgentPipeline({ nodeName: NODE_NAME, builder, publisher: discardPublisher }),
      kafkaPipeline: new AgentPipeline({ nodeName: NODE_NAME, builder, publisher: kafkaPublisher }),
      reader: null,
      handle: () => undefined,
      get topic() {
        return topic;
      },
      set topic(value: string) {
        topic = value;
      },
      captured,
      counted: 0,
      close: closeAll,
    };
    closers.push(async () => {
      await rig.reader?.stop();
      rig.reader = null;
    });
    return rig;
  } catch (error) {
    await closeAll();
    throw error;
  }
}

function stageHandler(rig: PipelineRig, stage: StageName): (batch: RecordBatch) => void {
  const dispatcher = createRecordDispatcher<SensorRecord>([PROCESS_RECORD_DECODERS, FILE_RECORD_DECODERS, NETWORK_RECORD_DECODERS, PRIVILEGE_RECORD_DECODERS]);
  switch (stage) {
    case 'raw':
      return (batch) => void (rig.counted += batch.count);
    case 'decode':
      return (batch) =>
        forEachRecord(batch, (offset, length) => {
          if (dispatcher.decode({ buffer: batch.buffer, view: batch.view, offset, length }) !== undefined) rig.counted += 1;
        });
    case 'events':
    case 'kafka': {
      const pipeline = stage === 'events' ? rig.discardPipeline : rig.kafkaPipeline;
      return (batch) =>
        forEachRecord(batch, (offset, length) => {
          const record = dispatcher.decode({ buffer: batch.buffer, view: batch.view, offset, length });
          if (record !== undefined && pipeline.handle(record) !== null) rig.counted += 1;
        });
    }
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A new reader on the shared ring, its batches going to rig.handle; emptied of what other processes left. */
function newReader(rig: PipelineRig, logger: Logger): RingBufferReader {
  rig.handle = () => undefined;
  const reader = createRingBufferReader({ map: rig.processSensor.events, logger, onBatch: (batch) => rig.handle(batch) });
  rig.reader = reader;
  reader.drainNow();
  return reader;
}

async function closeReader(rig: PipelineRig): Promise<void> {
  rig.handle = () => undefined;
  await rig.reader?.stop();
  rig.reader = null;
}

/** Waits until every record published since `before` is acknowledged or counted lost. */
async function allAcknowledged(publisher: EventPublisher, before: PublisherStats): Promise<void> {
  const deadline = Date.now() + 180_000;
  for (;;) {
    const now = publisher.stats();
    if (now.acknowledged - before.acknowledged + (now.lost - before.lost) >= now.published - before.published) return;
    if (Date.now() > deadline) throw new Error(`kafka stage: ${now.published - now.acknowledged} records unacknowledged after 180 s`);
    await sleep(2);
  }
}

interface StageSpec {
  readonly stage: StageName;
  readonly program: string;
  readonly path: string;
  readonly opens: number;
  readonly logger: Logger;
}

/** Records the kernel did not write, of both sensors: lost to a full ring, or shed (audit records, ring 3/4 full). */
function kernelLoss(rig: PipelineRig): bigint {
  return [rig.processSensor, rig.fileSensor].reduce((sum, sensor) => sum + sensor.lostRecords() + sensor.shedRecords(), 0n);
}

/**
 * Live: the reader runs (worker-thread wait, main-thread drain) while the open-loop program runs; timed from the
 * program's start until the ring is empty (kafka: until every published record is acknowledged).
 */
async function runLiveStage(rig: PipelineRig, spec: StageSpec): Promise<StageResult> {
  const reader = newReader(rig, spec.logger);
  try {
    const publisher = spec.stage === 'kafka' ? rig.kafkaPublisher : rig.discardPublisher;
    const before = { lost: kernelLoss(rig), published: publisher.stats() };
    rig.counted = 0;
    rig.handle = stageHandler(rig, spec.stage);
    reader.start();
    const start = process.hrtime.bigint();
    const producerSeconds = await timeProgram(spec.program, [spec.path, String(spec.opens)]);
    reader.drainNow();
    if (spec.stage === 'kafka') await allAcknowledged(publisher, before.published);
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    rig.handle = () => undefined;
    const after = publisher.stats();
    const completed = spec.stage === 'kafka' ? after.acknowledged - before.published.acknowledged : reader.stats().records;
    return {
      perSec: completed / seconds,
      completed,
      producerPerSec: spec.opens / producerSeconds,
      lostInKernel: Number(kernelLoss(rig) - before.lost),
      droppedInUserSpace: reader.stats().droppedInUserSpace,
      lostInPublisher: after.lost - before.published.lost,
      spooled: after.spooled - before.published.spooled,
    };
  } finally {
    await closeReader(rig);
  }
}

/**
 * Pre-filled: with no reader draining, the program fills the ring with `opens` records (less than it holds); then
 * the stage drains it on this thread with nothing else running, `rounds` times. Measures the consumer alone.
 */
async function runPrefilledStage(rig: PipelineRig, spec: StageSpec & { readonly rounds: number }): Promise<{ readonly perSec: number; readonly lostInKernel: number }> {
  const reader = newReader(rig, spec.logger);
  try {
    const publisher = spec.stage === 'kafka' ? rig.kafkaPublisher : rig.discardPublisher;
    const lost0 = kernelLoss(rig);
    let nanoseconds = 0n;
    let completed = 0;
    for (let round = 0; round < spec.rounds; round++) {
      rig.handle = () => undefined;
      reader.drainNow();
      await timeProgram(spec.program, [spec.path, String(spec.opens)]);
      const before = publisher.stats();
      const drained0 = reader.stats().records;
      rig.handle = stageHandler(rig, spec.stage);
      const start = process.hrtime.bigint();
      reader.drainNow();
      if (spec.stage === 'kafka') await allAcknowledged(publisher, before);
      nanoseconds += process.hrtime.bigint() - start;
      rig.handle = () => undefined;
      completed += spec.stage === 'kafka' ? publisher.stats().acknowledged - before.acknowledged : reader.stats().records - drained0;
    }
    return { perSec: completed / (Number(nanoseconds) / 1e9), lostInKernel: Number(kernelLoss(rig) - lost0) };
  } finally {
    await closeReader(rig);
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// Kafka reference

interface JavaTools {
  readonly libsDir: string;
  readonly brokers: string;
}

/** The encoded events with bit 7 cleared (the tool reads its payload file as UTF-8), joined by an absent delimiter. */
function javaPayloads(encoded: readonly Buffer[]): { readonly text: string; readonly delimiter: string; readonly meanBytes: number } {
  const masked = encoded.map((bytes) => Buffer.from(bytes.map((b) => b & 0x7f)).toString('latin1'));
  const delimiter = ['~', '#', '@', '%', '`', '#@#', '~#~@~'].find((d) => masked.every((m) => !m.includes(d)));
  if (delimiter === undefined) throw new Error('no payload delimiter absent from every record');
  return { text: masked.join(delimiter), delimiter, meanBytes: encoded.reduce((sum, b) => sum + b.length, 0) / Math.max(1, encoded.length) };
}

async function javaProduce(tools: JavaTools, spec: { readonly topic: string; readonly records: number; readonly payloadFile: string; readonly delimiter: string }): Promise<number> {
  const args = [
    ...TOOL_JVM_OPTIONS, '-cp', `${tools.libsDir}/*`, 'org.apache.kafka.tools.ProducerPerformance',
    '--topic', spec.topic,
    '--num-records', String(spec.records),
    '--throughput', '-1',
    '--payload-file', spec.payloadFile,
    '--payload-delimiter', spec.delimiter,
    '--producer-props', `bootstrap.servers=${tools.brokers}`, 'acks=all', 'enable.idempotence=true', 'compression.type=zstd',
  ];
  let stdout: string;
  try {
    ({ stdout } = await run('java', args, { maxBuffer: 16 * 1024 * 1024, timeout: 10 * 60_000 }));
  } catch (error) {
    const { stderr = '' } = error as { stderr?: string };
    throw new Error(`ProducerPerformance failed: ${(error as Error).message}\n${stderr.slice(-2000)}`, { cause: error });
  }
  const summary = new RegExp(`^${spec.records} records sent, ([\\d.]+) records/sec`, 'm').exec(stdout);
  if (!summary?.[1]) throw new Error(`ProducerPerformance printed no summary:\n${stdout.slice(-2000)}`);
  return Number(summary[1]);
}

// ---------------------------------------------------------------------------------------------------------------------
// Part 3: the real agent

/** Runs `work` under this process's CPU profiler (node:inspector) and writes the profile to `file`. */
async function profileSelf<T>(file: string, work: () => Promise<T>): Promise<T> {
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 200 });
    await session.post('Profiler.start');
    const result = await work();
    const { profile } = await session.post('Profiler.stop');
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(profile));
    return result;
  } finally {
    session.disconnect();
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

interface RunningAgent {
  readonly child: ChildProcess;
  readonly metricsAddress: string;
  /** The agent's inspector port when started with `inspect`. */
  readonly inspectorPort: number | null;
  /** utime + stime of the agent process so far, in seconds. */
  cpuSeconds(): number;
  /** utime + stime so far per thread name (/proc/<pid>/task/<tid>/comm: main, libuv and V8 workers, worker threads), in seconds. */
  threadCpuSeconds(): Map<string, number>;
  stop(): Promise<void>;
}

interface AgentSpec {
  readonly brokers: string;
  readonly topicPrefix: string;
  readonly home: string;
  /** Starts the agent with its inspector on a free local port (`RunningAgent.inspectorPort`). */
  readonly inspect: boolean;
}

/** Starts services/agent like integration-tests/helpers/agent.ts and waits until it publishes directly to Kafka. */
async function startAgent(spec: AgentSpec): Promise<RunningAgent> {
  const policyDir = join(spec.home, 'policies.d');
  mkdirSync(policyDir, { recursive: true });
  copyFileSync(SHADOW_POLICY, join(policyDir, 'deny-shadow-read.yaml'));
  const metricsAddress = `127.0.0.1:${await freePort()}`;
  const env = {
    ...processEnvironment(),
    KAFKA_BROKERS: spec.brokers,
    STINGER_TOPIC_PREFIX: spec.topicPrefix,
    STINGER_HOME: spec.home,
    STINGER_NODE_NAME: NODE_NAME,
    STINGER_LOG_LEVEL: 'info',
    STINGER_AGENT_POLICY_DIR: policyDir,
    STINGER_AGENT_GRPC_ADDRESS: `127.0.0.1:${await freePort()}`,
    STINGER_AGENT_METRICS_ADDRESS: metricsAddress,
  };
  const inspectorPort = spec.inspect ? await freePort() : null;
  const inspect = inspectorPort === null ? [] : [`--inspect=127.0.0.1:${inspectorPort}`];
  const child = spawn(process.execPath, ['--disable-warning=TimeoutNegativeWarning', ...inspect, AGENT_MAIN], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const tail: string[] = [];
  let pending = '';
  let waiting: { readonly marker: string; readonly resolve: () => void } | null = null;
  const seen = new Set<string>();
  // Read stderr to the end (a full pipe would stall the agent); keep the last lines for errors.
  child.stderr?.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      tail.push(line);
      if (tail.length > 50) tail.shift();
      for (const marker of ['"agent running"', 'connect to Kafka: done', 'spool delivered']) if (line.includes(marker)) seen.add(marker);
      if (waiting && seen.has(waiting.marker)) waiting.resolve();
    }
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const waitFor = async (marker: string): Promise<void> => {
    if (seen.has(marker)) return;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        new Promise<void>((resolve) => (waiting = { marker, resolve })),
        exited.then(() => Promise.reject(new Error(`agent exited before ${marker}:\n${tail.join('\n')}`))),
        new Promise<void>((_, reject) => (timer = setTimeout(() => reject(new Error(`agent: no ${marker} within 60 s:\n${tail.join('\n')}`)), 60_000))),
      ]);
    } finally {
      clearTimeout(timer);
      waiting = null;
    }
  };
  const agent: RunningAgent = {
    child,
    metricsAddress,
    inspectorPort,
    cpuSeconds() {
      // Fields after the ")" of the command name: state is field 3, utime 14, stime 15.
      const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(fields[11]) + Number(fields[12])) / USER_HZ;
    },
    threadCpuSeconds() {
      const byName = new Map<string, number>();
      for (const tid of readdirSync(`/proc/${child.pid}/task`)) {
        try {
          const name = readFileSync(`/proc/${child.pid}/task/${tid}/comm`, 'utf8').trim();
          const stat = readFileSync(`/proc/${child.pid}/task/${tid}/stat`, 'utf8');
          const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
          byName.set(name, (byName.get(name) ?? 0) + (Number(fields[11]) + Number(fields[12])) / USER_HZ);
        } catch {
          // The thread ended between the listing and the read: its time is in no later sample either.
        }
      }
      return byName;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
  try {
    await waitFor('"agent running"');
    await waitFor('connect to Kafka: done');
    await waitFor('spool delivered');
    return agent;
  } catch (error) {
    await agent.stop();
    throw error;
  }
}

/** Sums the agent's Prometheus counters named `metric` (over labels). */
async function agentCounter(agent: RunningAgent, metric: string): Promise<number> {
  const response = await fetch(`http://${agent.metricsAddress}/metrics`);
  const text = await response.text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${metric}{`) || line.startsWith(`${metric} `)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/** The deny-shadow-read policy is in force: `cat /etc/shadow` is killed in the kernel before it prints. */
async function assertShadowKilled(): Promise<void> {
  const child = spawn('cat', ['/etc/shadow'], { stdio: 'ignore' });
  const [, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  if (signal !== 'SIGKILL') throw new Error(`cat /etc/shadow was not killed by the agent's policy (ended with ${signal ?? 'an exit code'})`);
}

interface WorkloadTimes {
  readonly opensSeconds: number;
  readonly forksSeconds: number;
  readonly compileSeconds: number;
  readonly npmCiSeconds: number;
  readonly agentCpuOpens?: number;
  readonly agentCpuForks?: number;
  readonly agentCpuCompile?: number;
  readonly agentCpuNpmCi?: number;
  /** The agent's CPU during the fork+exec workload per thread name, seconds. */
  readonly agentThreadCpuForks?: ReadonlyMap<string, number>;
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
const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);
const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');

const STAGE_LABEL: Readonly<Record<StageName, string>> = {
  raw: 'raw drain (no decode)',
  decode: 'decoded records (dispatcher)',
  events: 'RawEvents built + encoded (discarding sink)',
  kafka: 'acknowledged by Kafka (EventPublisher → producer, zstd)',
};

// ---------------------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const options = parseOptions();
  const config = loadConfig();
  const logger: Logger = config.logLevel === 'info' ? silentLogger() : createLogger({ name: 'benchmark', level: config.logLevel });
  const workDir = await mkdtemp(join(tmpdir(), 'stinger-bench-agent-'));
  let broker: LocalBroker | null = null;
  let client: KafkaClient | null = null;
  let producer: StingerProducer | null = null;
  let rig: PipelineRig | null = null;
  let agent: RunningAgent | null = null;
  let cleaning: Promise<void> | null = null;
  const cleanup = (): Promise<void> =>
    (cleaning ??= (async () => {
      const steps: [string, () => Promise<void>][] = [
        ['agent', async () => agent?.stop()],
        ['sensors', async () => rig?.close()],
        ['producer', async () => producer?.disconnect()],
        ['broker', async () => broker?.stop()],
        ['work dir', () => rm(workDir, { recursive: true, force: true })],
      ];
      for (const [what, step] of steps) {
        try {
          await step();
        } catch (error) {
          console.error(`cleanup of ${what} failed: ${(error as Error).message}`);
        }
      }
    })());
  // Interrupted: stop the agent and the broker, detach, remove the temp dir, then exit.
  const interrupted = (signal: NodeJS.Signals): void => {
    console.error(`${signal}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    await run('npm', ['run', '-s', '-w', '@stinger/bpf', 'build:bpf'], { cwd: REPO_ROOT });
    const programs = await buildPrograms(workDir);
    const realistic = await prepareRealisticWorkloads(REPO_ROOT, workDir);
    const watchedPath = join(workDir, `watched-${process.pid}`);
    const unwatchedPath = join(workDir, 'unwatched');
    writeFileSync(watchedPath, 'x');
    writeFileSync(unwatchedPath, 'x');

    const distribution = await resolveKafkaDistribution({ cacheDir: config.cacheDir, logger });
    let brokers: readonly string[];
    if (config.kafka.brokers) {
      brokers = config.kafka.brokers;
    } else {
      broker = await startLocalBroker({ cacheDir: config.cacheDir, dataDir: join(workDir, 'broker'), logger, port: options.port ?? (await freePort()) });
      brokers = [broker.brokers];
    }
    client = createKafkaClient({ brokers, connection: config.kafka, role: 'benchmark', logger });
    const kafkaClient = client;
    producer = createProducer({ client });
    await producer.connect();
    const tools: JavaTools = { libsDir: distribution.libsDir, brokers: brokers.join(',') };
    const newTopic = async (label: string): Promise<string> => {
      const topic = `${config.kafka.topicPrefix}${uniqueTopicName(`bench-${label}`)}`;
      await createTopics(kafkaClient, [{ topic, partitions: 1 }]);
      return topic;
    };
    const javaVersion = (await run('java', ['-version'])).stderr.split('\n')[0]?.trim() ?? 'unknown';

    console.log(`# Stinger agent pipeline: ${options.runs} runs; ${fmt(options.opens)} watched opens per stage; workload ${fmt(options.workloadOpens)} opens, ${fmt(options.forks)} fork+exec`);
    console.log('');
    console.log(`- CPUs (nproc): ${availableParallelism()}, model: ${cpus()[0]?.model ?? 'unknown'}; kernel ${release()}`);
    console.log(`- Node ${process.version}; ${javaVersion}`);
    console.log(`- Kafka ${KAFKA_VERSION} (${broker ? 'local single-node KRaft broker' : `broker from KAFKA_BROKERS ${brokers.join(',')}`})`);
    console.log(`- load average at start: ${load()}`);
    console.log('');

    // ----- Parts 1–2 -----
    const bare: number[] = [];
    const results = new Map<StageName, StageResult[]>(STAGES.map((s) => [s, []]));
    const prefilled = new Map<StageName, { perSec: number; lostInKernel: number }[]>(STAGES.map((s) => [s, []]));
    const fill = { program: programs.openLoop, path: watchedPath, opens: PREFILL_OPENS, rounds: PREFILL_ROUNDS, logger };
    const javaRates: number[] = [];
    let payloadBytes = 0;
    let capturedPayloads: Buffer[] = [];
    const started = Date.now();
    if (options.parts.has('pipeline')) {
      // Warm-up (not reported): JIT of the handlers, the broker, the process cache; and the Java tool's payloads.
      {
        rig = await openRig({ producer, workDir, watchedPath, logger });
        const warm = Math.min(options.opens, 50_000);
        for (const stage of STAGES) {
          if (stage === 'kafka') rig.topic = await newTopic('agent-warmup');
          await runLiveStage(rig, { stage, program: programs.openLoop, path: watchedPath, opens: warm, logger });
          await runPrefilledStage(rig, { ...fill, stage, rounds: 1 });
        }
        capturedPayloads = [...rig.captured];
        await rig.close();
        rig = null;
      }
      const payloads = javaPayloads(capturedPayloads);
      payloadBytes = payloads.meanBytes;
      const payloadFile = join(workDir, 'payloads.txt');
      writeFileSync(payloadFile, payloads.text, 'latin1');
      await javaProduce(tools, { topic: await newTopic('java-warmup'), records: Math.min(options.opens, 50_000), payloadFile, delimiter: payloads.delimiter });

      for (let runIndex = 0; runIndex < options.runs; runIndex++) {
        const forward = runIndex % 2 === 0;
        bare.push(options.opens / (await timeProgram(programs.openLoop, [watchedPath, String(options.opens)])));
        rig = await openRig({ producer, workDir, watchedPath, logger });
        const steps: (StageName | 'java')[] = [...STAGES, 'java'];
        for (const step of forward ? steps : steps.reverse()) {
          if (step === 'java') {
            javaRates.push(await javaProduce(tools, { topic: await newTopic('java'), records: options.opens, payloadFile, delimiter: payloads.delimiter }));
            continue;
          }
          if (step === 'kafka') rig.topic = await newTopic('agent');
          const drain = (): Promise<{ perSec: number; lostInKernel: number }> => runPrefilledStage(rig as PipelineRig, { ...fill, stage: step });
          const profiled = options.stageProfileDir !== null && (step === 'events' || step === 'kafka');
          prefilled.get(step)?.push(await (profiled ? profileSelf(join(options.stageProfileDir as string, `${step}-prefilled-run${runIndex + 1}.cpuprofile`), drain) : drain()));
          results.get(step)?.push(await runLiveStage(rig, { stage: step, program: programs.openLoop, path: watchedPath, opens: options.opens, logger }));
        }
        await rig.close();
        rig = null;
        console.error(`pipeline run ${runIndex + 1}/${options.runs} done (${forward ? 'raw → kafka → java' : 'java → kafka → raw'}), load ${load()}`);
      }
    }
    const pipelineSeconds = Math.round((Date.now() - started) / 1000);

    // ----- Part 3 -----
    const prefix = `${uniqueTopicName('bench')}.`;
    await bootstrapTopics({ client: kafkaClient, prefix });
    const off: WorkloadTimes[] = [];
    const on: WorkloadTimes[] = [];
    const agentLoss: number[] = [];
    const agentEvents: number[] = [];
    const profiles: { readonly workload: string; readonly run: number; readonly profile: CpuProfile }[] = [];
    /** Times one workload; with a profiled agent, also profiles the agent meanwhile. */
    const timeProfiled = async (running: RunningAgent | null, workload: string, time: () => Promise<number>): Promise<number> => {
      if (running?.inspectorPort == null) return time();
      const profiler = await connectProfiler(running.inspectorPort);
      try {
        await profiler.start();
        const seconds = await time();
        const profile = await profiler.stop();
        profiles.push({ workload, run: on.length + 1, profile });
        if (options.agentProfileDir !== null) {
          mkdirSync(options.agentProfileDir, { recursive: true });
          writeFileSync(join(options.agentProfileDir, `${workload.replace(/\W/g, '-')}-run${on.length + 1}.cpuprofile`), JSON.stringify(profile));
        }
        return seconds;
      } finally {
        profiler.close();
      }
    };
    const timeWorkloads = async (running: RunningAgent | null): Promise<WorkloadTimes> => {
      const cpu0 = running?.cpuSeconds() ?? 0;
      const opensSeconds = await timeProfiled(running, 'open+close', () => timeProgram(programs.openLoop, [unwatchedPath, String(options.workloadOpens)]));
      const cpu1 = running?.cpuSeconds() ?? 0;
      const threads1 = running?.threadCpuSeconds() ?? new Map<string, number>();
      const forksSeconds = await timeProfiled(running, 'fork+exec', () => timeProgram(programs.forkExec, [String(options.forks), '/bin/true']));
      const cpu2 = running?.cpuSeconds() ?? 0;
      const threads2 = running?.threadCpuSeconds() ?? new Map<string, number>();
      const agentThreadCpuForks = new Map([...threads2].map(([name, seconds]) => [name, seconds - (threads1.get(name) ?? 0)]));
      const { compile, npmCi } = realistic;
      const compileSeconds = await timeProfiled(running, 'compile', () => timeProgram(compile.file, compile.args));
      const cpu3 = running?.cpuSeconds() ?? 0;
      const npmCiSeconds = await timeProfiled(running, 'npm ci', () => timeProgram(npmCi.file, npmCi.args, { cwd: npmCi.cwd }));
      const cpu4 = running?.cpuSeconds() ?? 0;
      const times = { opensSeconds, forksSeconds, compileSeconds, npmCiSeconds };
      return running ? { ...times, agentCpuOpens: cpu1 - cpu0, agentCpuForks: cpu2 - cpu1, agentCpuCompile: cpu3 - cpu2, agentCpuNpmCi: cpu4 - cpu3, agentThreadCpuForks } : times;
    };
    const agentStarted = Date.now();
    if (options.parts.has('workload')) {
      for (let runIndex = 0; runIndex < options.runs; runIndex++) {
        const agentFirst = runIndex % 2 === 1;
        for (const withAgent of agentFirst ? [true, false] : [false, true]) {
          if (!withAgent) {
            off.push(await timeWorkloads(null));
            continue;
          }
          const home = join(workDir, `agent-home-${runIndex}`);
          agent = await startAgent({ brokers: brokers.join(','), topicPrefix: prefix, home, inspect: options.agentProfileDir !== null });
          await assertShadowKilled();
          await sleep(1000); // let the start-up work (proc scan, JIT, policy tail) settle
          const lost0 = await agentCounter(agent, 'stinger_lost_records_total');
          const events0 = await agentCounter(agent, 'stinger_events_total');
          on.push(await timeWorkloads(agent));
          await sleep(500);
          agentLoss.push((await agentCounter(agent, 'stinger_lost_records_total')) - lost0);
          agentEvents.push((await agentCounter(agent, 'stinger_events_total')) - events0);
          await agent.stop();
          agent = null;
          await rm(home, { recursive: true, force: true });
        }
        console.error(`agent run ${runIndex + 1}/${options.runs} done (${agentFirst ? 'agent first' : 'agent second'}), load ${load()}`);
      }
    }
    const agentSeconds = Math.round((Date.now() - agentStarted) / 1000);

    // ----- Report -----
    if (options.parts.has('pipeline')) {
      console.log(`## 1–2. Ring buffer → decoded → RawEvent → Kafka (${fmt(options.opens)} opens of a watched file per stage, ${fmt(payloadBytes)}-byte encoded events)`);
      console.log('');
      console.log(
        `| stage | pre-filled ring (${fmt(PREFILL_OPENS)} records × ${PREFILL_ROUNDS}), consumer alone: records/s, median (min–max) | its ratio to raw drain, median of runs | live: records/s done, median (min–max) | live: open-loop rate meanwhile, opens/s | live: records done / lost or shed in kernel / dropped in user space / lost in publisher (sum of runs) | live: spooled (sum) |`,
      );
      console.log('|---|---:|---:|---:|---:|---|---:|');
      console.log(`| open-loop alone, nothing attached (kernel producer's own rate) | – | – | ${spread(bare)} | ${spread(bare)} | – | – |`);
      const rawFilled = prefilled.get('raw') ?? [];
      for (const stage of STAGES) {
        const rows = results.get(stage) ?? [];
        const filled = prefilled.get(stage) ?? [];
        const ratios = filled.map((r, i) => r.perSec / (rawFilled[i]?.perSec ?? Number.NaN));
        console.log(
          `| ${STAGE_LABEL[stage]} | ${spread(filled.map((r) => r.perSec))} | ${fmt(median(ratios), 3)} | ${spread(rows.map((r) => r.perSec))} | ${spread(rows.map((r) => r.producerPerSec))} | ` +
            `${fmt(sum(rows.map((r) => r.completed)))} / ${fmt(sum(rows.map((r) => r.lostInKernel)))} / ${fmt(sum(rows.map((r) => r.droppedInUserSpace)))} / ${fmt(sum(rows.map((r) => r.lostInPublisher)))} | ${fmt(sum(rows.map((r) => r.spooled)))} |`,
        );
      }
      const kafkaRows = results.get('kafka') ?? [];
      const kafkaFilled = prefilled.get('kafka') ?? [];
      const kafkaRatios = kafkaRows.map((r, i) => r.perSec / (javaRates[i] ?? Number.NaN));
      const kafkaFilledRatios = kafkaFilled.map((r, i) => r.perSec / (javaRates[i] ?? Number.NaN));
      console.log(`| Kafka ProducerPerformance, ${fmt(options.opens)} records, zstd, acks=all (reference for the kafka row) | – | – | ${spread(javaRates)} | – | – | – |`);
      console.log('');
      console.log(
        `- kafka stage / ProducerPerformance, median of per-run ratios: live ${fmt(median(kafkaRatios), 2)} (${kafkaRatios.map((r) => r.toFixed(2)).join(', ')}); ` +
          `pre-filled ${fmt(median(kafkaFilledRatios), 2)} (${kafkaFilledRatios.map((r) => r.toFixed(2)).join(', ')})`,
      );
      console.log(`- records lost or shed in the kernel during the pre-filled drains (should be 0): ${fmt(sum(STAGES.flatMap((s) => (prefilled.get(s) ?? []).map((r) => r.lostInKernel))))}`);
      console.log(`- per run (records/s): ${STAGES.map((s) => `${s} ${(results.get(s) ?? []).map((r) => fmt(r.perSec)).join(', ')}`).join('; ')}; java ${javaRates.map((r) => fmt(r)).join(', ')}`);
      console.log(`- parts 1–2 took ${pipelineSeconds} s; load average then: ${load()}`);
      console.log('');
    }
    if (options.parts.has('workload')) {
      console.log(`## 3. Workload slowdown with the agent running (default watches + deny-shadow-read, kill-in-kernel)`);
      console.log('');
      console.log('| workload | without agent, s, median (min–max) | with agent, s, median (min–max) | ratio with/without, median of runs | per-run ratios | agent CPU s during it, median |');
      console.log('|---|---:|---:|---:|---|---:|');
      const workloadRow = (label: string, pick: (t: WorkloadTimes) => number, cpu: (t: WorkloadTimes) => number): void => {
        const ratios = on.map((t, i) => pick(t) / pick(off[i] as WorkloadTimes));
        console.log(
          `| ${label} | ${spread(off.map(pick), 3)} | ${spread(on.map(pick), 3)} | ${fmt(median(ratios), 3)} | ${ratios.map((r) => r.toFixed(3)).join(', ')} | ${fmt(median(on.map(cpu)), 2)} |`,
        );
      };
      workloadRow(`${fmt(options.workloadOpens)} open+close, unwatched file`, (t) => t.opensSeconds, (t) => t.agentCpuOpens ?? 0);
      workloadRow(`${fmt(options.forks)} fork+exec /bin/true + wait`, (t) => t.forksSeconds, (t) => t.agentCpuForks ?? 0);
      workloadRow('realistic: compile bpf/ (every eBPF object, clang, make -j2)', (t) => t.compileSeconds, (t) => t.agentCpuCompile ?? 0);
      workloadRow('realistic: npm ci of this repository, offline from the npm cache', (t) => t.npmCiSeconds, (t) => t.agentCpuNpmCi ?? 0);
      console.log('');
      const forkCost = on.map((t, i) => ((t.forksSeconds - (off[i] as WorkloadTimes).forksSeconds) / options.forks) * 1e6);
      const openCost = on.map((t, i) => ((t.opensSeconds - (off[i] as WorkloadTimes).opensSeconds) / options.workloadOpens) * 1e9);
      console.log(`- added per open+close: ${fmt(median(openCost))} ns (median of runs); per fork+exec: ${fmt(median(forkCost), 1)} µs; agent CPU per fork+exec: ${fmt((median(on.map((t) => t.agentCpuForks ?? 0)) / options.forks) * 1e6, 1)} µs`);
      const threadNames = [...new Set(on.flatMap((t) => [...(t.agentThreadCpuForks ?? new Map<string, number>()).keys()]))];
      const perThread = threadNames
        .map((name) => ({ name, micros: (median(on.map((t) => t.agentThreadCpuForks?.get(name) ?? 0)) / options.forks) * 1e6 }))
        .filter(({ micros }) => micros > 0)
        .sort((a, b) => b.micros - a.micros);
      console.log(`- agent CPU per fork+exec by thread (median of runs, /proc/<pid>/task/*/comm): ${perThread.map(({ name, micros }) => `${name} ${fmt(micros, 1)} µs`).join(', ')}`);
      console.log(`- agent events published during the workloads, per run: ${agentEvents.join(', ')}; records lost (ring full + user space + spool full), per run: ${agentLoss.join(', ')}`);
      console.log(`- part 3 took ${agentSeconds} s; load average at end: ${load()}`);
    }
    for (const { workload, run: runNumber, profile } of profiles) {
      console.log('');
      console.log(`## The agent's CPU profile during the ${workload} workload, run ${runNumber} (inspector sampling every 200 µs)`);
      console.log('');
      console.log(renderProfileTop(profileTop(profile, 25)));
    }
  } finally {
    await cleanup();
    process.removeListener('SIGINT', interrupted);
    process.removeListener('SIGTERM', interrupted);
  }
}

await main();
