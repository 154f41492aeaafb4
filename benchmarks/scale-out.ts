/**
 * Scale-out: two instances of the enricher (and of the detector) in one consumer group against one instance, same
 * run, same broker, same records. The goal is ≥ 1.8× one instance's throughput; the report says what limits it here.
 *
 *   npx node --disable-warning=TimeoutNegativeWarning benchmarks/scale-out.ts [--records N] [--runs K] [--services enricher,detector]
 *
 * Method (docs/BENCHMARKS.md has the reading, docs/scaling.md builds on it):
 * - Broker: KAFKA_BROKERS if set, else one local broker (benchmarkBroker) in a temporary data dir. Every measurement
 *   has its own topic prefix: fresh topics from bootstrapTopics (6 partitions for the events topics).
 * - Records, produced before any instance starts: the enricher reads N RawEvents (sampleRawEvent, 60 node keys, so
 *   the partitions carry about the same load); the detector N synthetic enriched Events (synthetic-events.ts, the
 *   detector benchmark's shapes) with the default rule pack (k8s/policies, native rules) published signed first.
 * - Instances: services/<service>/src/main.ts as child processes, one consumer group, each its own node name (so its
 *   own transactional id) and metrics port.
 * - Window: the consumer group's committed offsets (fetchConsumerLag) and its membership (describeGroups) are polled
 *   every 100 ms. The window opens at the first poll that sees the group Stable with all instances as members and a
 *   commit made (start-up, policy load and the joins' rebalances are excluded), and closes at the poll that sees the
 *   group at the topic's end. Records/s = records committed in the window / its length. CPU over the window: the
 *   instances' utime+stime (/proc/<pid>/stat, µs per record, all instances together) and the machine's busy share
 *   of all its cores (/proc/stat).
 * - Runs alternate which instance count goes first; one unreported warm-up of each first. Ratios are medians of
 *   per-run ratios (two instances / one, same run).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfig, processEnvironment } from '@stinger/config';
import { encodeEvent, encodeRawEvent, type CompiledPolicy } from '@stinger/events';
import { bootstrapTopics, createKafkaClient, createProducer, fetchConsumerLag, topicName, type KafkaClient, type ProducerRecord } from '@stinger/kafka';
import { KAFKA_VERSION, type LocalBroker } from '@stinger/local-broker';
import { createLogger, type Logger } from '@stinger/log';
import { sampleRawEvent, uniqueTopicName } from '@stinger/testing';
import { signedPolicyRecord } from '@stinger/trust';
import { testKeysDir, testSigningKey } from '../integration-tests/helpers/keys.ts';
import { benchmarkBroker } from './broker.ts';
import { fmt, load, median, positiveInteger, spread } from './report.ts';
import { loadPack, syntheticEvents, withPodParents } from './synthetic-events.ts';

const SERVICES = ['enricher', 'detector'] as const;
type Service = (typeof SERVICES)[number];
const INSTANCE_COUNTS = [1, 2] as const;
const RAW_NODE_KEYS = 60;
const POLL_MS = 100;
const CLOCK_TICKS_PER_SECOND = 100;

interface Options {
  readonly records: number;
  readonly runs: number;
  readonly services: readonly Service[];
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      records: { type: 'string', default: '300000' },
      runs: { type: 'string', default: '3' },
      services: { type: 'string', default: SERVICES.join(',') },
    },
  });
  const services = values.services.split(',').map((name) => {
    if (!(SERVICES as readonly string[]).includes(name)) throw new RangeError(`--services: "${name}" is not one of ${SERVICES.join(', ')}`);
    return name as Service;
  });
  return { records: positiveInteger('records', values.records), runs: positiveInteger('runs', values.runs), services };
}

/** What one service reads, and the records it reads (encoded once, produced again for every measurement). */
interface Workload {
  readonly service: Service;
  readonly input: 'eventsRaw' | 'events';
  readonly records: readonly ProducerRecord[];
  /** Published signed to stinger.policies before the instances start (the detector's rule pack). */
  readonly policies: ReadonlyMap<string, CompiledPolicy>;
}

function workloadOf(service: Service, count: number): Workload {
  switch (service) {
    case 'enricher': {
      const records = Array.from({ length: count }, (_, seq) => {
        const node = `bench-node-${seq % RAW_NODE_KEYS}`;
        return { key: node, value: encodeRawEvent(sampleRawEvent({ node, seq: BigInt(seq) })) };
      });
      return { service, input: 'eventsRaw', records, policies: new Map() };
    }
    case 'detector': {
      const records = withPodParents(syntheticEvents(count)).map((event) => ({ key: event.node, value: encodeEvent(event) }));
      return { service, input: 'events', records, policies: loadPack() };
    }
  }
}

/** utime + stime of a process, seconds. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

/** The machine's busy and total CPU time so far, in clock ticks (the first line of /proc/stat). */
function machineTicks(): { busy: number; total: number } {
  const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  const total = fields.slice(0, 8).reduce((sum, value) => sum + value, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0); // idle + iowait
  return { busy: total - idle, total };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function startInstance(service: Service, spec: { readonly brokers: string; readonly prefix: string; readonly index: number }): ChildProcess {
  const env: Record<string, string | undefined> = {
    ...processEnvironment(),
    KAFKA_BROKERS: spec.brokers,
    STINGER_TOPIC_PREFIX: spec.prefix,
    // The node name makes the transactional id (`<group>.<node>`): each instance its own.
    STINGER_NODE_NAME: `bench-${service}-${spec.index}`,
    STINGER_LOG_LEVEL: 'warn',
    STINGER_KEYS_DIR: testKeysDir(),
    STINGER_ENRICHER_METRICS_ADDRESS: '127.0.0.1:0',
    STINGER_DETECTOR_METRICS_ADDRESS: '127.0.0.1:0',
  };
  delete env['KUBECONFIG'];
  delete env['KUBERNETES_SERVICE_HOST'];
  const main = fileURLToPath(new URL(`../services/${service}/src/main.ts`, import.meta.url));
  return spawn(process.execPath, ['--disable-warning=TimeoutNegativeWarning', main], { env, stdio: ['ignore', 'ignore', 'pipe'] });
}

interface Measurement {
  readonly recordsPerSec: number;
  /** utime+stime of all instances over the window, per record. */
  readonly cpuMicrosPerRecord: number;
  /** Share of all the machine's cores busy over the window (anything running: instances, broker, this process, others). */
  readonly machineBusy: number;
  /** Share of the records consumed inside the window (the rest went before the group was stable). */
  readonly windowShare: number;
}

async function stop(children: readonly ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await gone;
      clearTimeout(timer);
    }),
  );
}

async function measure(client: KafkaClient, spec: { readonly workload: Workload; readonly instances: number; readonly brokers: string }): Promise<Measurement> {
  const { workload, instances } = spec;
  const prefix = `${uniqueTopicName(`bench-scale-${workload.service}`)}.`;
  await bootstrapTopics({ client, prefix, topics: [workload.input, workload.service === 'enricher' ? 'events' : 'alerts', 'policies', 'dlq'] });
  const inputTopic = topicName(workload.input, prefix);
  const producer = createProducer({ client, compression: 'none', lingerMs: 1 });
  await producer.connect();
  try {
    if (workload.policies.size > 0) {
      const signer = { key: testSigningKey(), signedAtNs: BigInt(Date.now()) * 1_000_000n };
      await producer.send(topicName('policies', prefix), [...workload.policies].map(([key, compiled]) => signedPolicyRecord(key, compiled, signer)));
    }
    const acks: Promise<void>[] = [];
    for (const record of workload.records) {
      await producer.whenWritable();
      acks.push(producer.enqueue(inputTopic, record));
    }
    await Promise.all(acks);
  } finally {
    await producer.disconnect();
  }

  const total = BigInt(workload.records.length);
  const groupId = `${prefix}stinger.${workload.service}`;
  const children = Array.from({ length: instances }, (_, index) => startInstance(workload.service, { brokers: spec.brokers, prefix, index }));
  const errors: string[] = [];
  let exitedEarly: string | null = null;
  for (const child of children) {
    let pending = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (line.includes('"level":50') || line.includes('"level":60')) errors.push(line);
    });
    child.once('exit', (code, signal) => (exitedEarly = `${workload.service} exited (${code ?? signal}): ${errors.slice(-3).join(' | ')}`));
  }
  const admin = client.kafka.admin();
  await admin.connect();
  try {
    let first: { time: number; consumed: bigint; cpu: number; machine: { busy: number; total: number } } | null = null;
    const cpuOfInstances = () => children.reduce((sum, child) => sum + cpuSeconds(child.pid ?? 0), 0);
    const deadline = Date.now() + 300_000;
    for (;;) {
      if (exitedEarly !== null) throw new Error(exitedEarly);
      if (Date.now() > deadline) throw new Error(`${workload.service} × ${instances}: the group did not reach the end within 300 s`);
      const before = performance.now();
      const [lag, described] = await Promise.all([fetchConsumerLag(client, groupId, inputTopic), admin.describeGroups([groupId])]);
      const time = (before + performance.now()) / 2;
      const group = described.groups[0];
      const stable = group?.state === 'Stable' && group.members.length === instances;
      if (lag.committed && (stable || first !== null)) {
        const consumed = total - lag.lag;
        if (first === null) {
          if (lag.lag === 0n) throw new Error(`${workload.service} × ${instances}: done before the group was stable; use more --records`);
          first = { time, consumed, cpu: cpuOfInstances(), machine: machineTicks() };
        } else if (lag.lag === 0n) {
          if (consumed === first.consumed) throw new Error(`${workload.service} × ${instances}: done before a second poll; use more --records`);
          const machine = machineTicks();
          const records = Number(consumed - first.consumed);
          return {
            recordsPerSec: records / ((time - first.time) / 1000),
            cpuMicrosPerRecord: ((cpuOfInstances() - first.cpu) / records) * 1e6,
            machineBusy: (machine.busy - first.machine.busy) / (machine.total - first.machine.total),
            windowShare: records / Number(total),
          };
        }
      }
      await sleep(POLL_MS);
    }
  } finally {
    await admin.disconnect();
    await stop(children);
  }
}

async function main(options: Options): Promise<void> {
  const config = loadConfig();
  const logger: Logger = createLogger({ name: 'benchmark', level: config.logLevel === 'info' ? 'warn' : config.logLevel });
  const workDir = await mkdtemp(join(tmpdir(), 'stinger-bench-scale-'));
  let broker: LocalBroker | null = null;
  try {
    const workloads = options.services.map((service) => workloadOf(service, options.records));
    const kafka = await benchmarkBroker({ config, logger, workDir });
    broker = kafka.local;
    const brokers = kafka.brokers.join(',');
    const client = createKafkaClient({ brokers: kafka.brokers, connection: config.kafka, role: 'benchmark', logger });

    console.log(`# Stinger scale-out: ${options.services.join(' and ')}, 1 vs 2 instances in one group, ${fmt(options.records)} records × ${options.runs} runs`);
    console.log('');
    console.log(`- CPUs (nproc): ${availableParallelism()}, model: ${cpus()[0]?.model ?? 'unknown'}`);
    console.log(`- Node ${process.version}; Kafka ${broker ? `${KAFKA_VERSION} (local single-node KRaft broker, on the same cores)` : `broker from KAFKA_BROKERS ${brokers}`}`);
    console.log('- 6 partitions per events topic; the instances, the broker and this measuring process share the machine');
    console.log(`- load average at start: ${load()}`);
    console.log('');

    // Warm-up, not reported: the broker's coordinators and the JIT of this process.
    for (const workload of workloads) {
      const warm = { ...workload, records: workload.records.slice(0, Math.min(workload.records.length, 30_000)) };
      for (const instances of INSTANCE_COUNTS) await measure(client, { workload: warm, instances, brokers });
    }

    const results = new Map<Service, Map<number, Measurement[]>>(workloads.map((w) => [w.service, new Map(INSTANCE_COUNTS.map((n) => [n, []]))]));
    const started = Date.now();
    for (let runIndex = 0; runIndex < options.runs; runIndex++) {
      for (const workload of workloads) {
        const order = runIndex % 2 === 0 ? INSTANCE_COUNTS : [...INSTANCE_COUNTS].reverse();
        for (const instances of order) results.get(workload.service)?.get(instances)?.push(await measure(client, { workload, instances, brokers }));
      }
      console.error(`run ${runIndex + 1}/${options.runs} done; load ${load()}`);
    }

    console.log('| service | instances | records/s, median (min–max) | 2 / 1 instances, median of runs (per run) | instances\' CPU µs/record, median | machine busy over the window, median | records inside the window, median |');
    console.log('|---|---:|---:|---|---:|---:|---:|');
    for (const [service, byCount] of results) {
      const one = byCount.get(1) ?? [];
      for (const [instances, runs] of byCount) {
        const ratios = runs.map((m, i) => m.recordsPerSec / (one[i]?.recordsPerSec ?? Number.NaN));
        const ratioCell = instances === 1 ? '1.00' : `**${fmt(median(ratios), 2)}** (${ratios.map((r) => r.toFixed(2)).join(', ')})`;
        console.log(
          `| ${service} | ${instances} | ${spread(runs.map((m) => m.recordsPerSec))} | ${ratioCell} | ${fmt(median(runs.map((m) => m.cpuMicrosPerRecord)), 1)} | ${fmt(median(runs.map((m) => m.machineBusy)) * 100)} % | ${fmt(median(runs.map((m) => m.windowShare)) * 100)} % |`,
        );
      }
    }
    console.log('');
    for (const [service, byCount] of results) {
      for (const [instances, runs] of byCount) {
        console.log(`- ${service} × ${instances}, per run: ${runs.map((m) => `${fmt(m.recordsPerSec)} rec/s, ${fmt(m.cpuMicrosPerRecord, 1)} µs CPU/record, machine ${fmt(m.machineBusy * 100)} % busy`).join('; ')}`);
      }
    }
    console.log(`- measured runs took ${Math.round((Date.now() - started) / 1000)} s; load average at end: ${load()}`);
  } finally {
    if (broker) await broker.stop();
    await rm(workDir, { recursive: true, force: true });
  }
}

await main(parseOptions());
