/**
 * Pipeline kill latency on the real kernel and broker (root): a process in a simulated pod reads a file that a `kill`
 * rule watches but the kernel cannot decide (access: read), and is killed by the closed loop — agent → raw event →
 * enricher → detector → enforcer → signed command → agent → SIGKILL — while a background load of real kernel events
 * flows through the same agent and pipeline. Reference in the same run: a `kill-in-kernel` rule, measured the same way.
 *
 *   npm run -s -w @stinger/bpf build:bpf
 *   npx node --disable-warning=TimeoutNegativeWarning benchmarks/kill-latency.ts [--runs K] [--victims V] [--rates 0,1000,10000]
 *
 * Method (docs/BENCHMARKS.md has the reading):
 * - Broker: KAFKA_BROKERS if set, else one local broker on a free port in a temporary dir, stopped and removed at the
 *   end. One topic prefix for the whole benchmark (bootstrapTopics). The real services as child processes, the
 *   integration tests' way (integration-tests/helpers): the agent (services/agent), the enricher (outside a cluster),
 *   the detector and the enforcer, all trusting one temp signing key (helpers/keys.ts). The enforcer's kill rate limit
 *   is raised (STINGER_ENFORCER_MAX_KILLS_PER_MINUTE) so the benchmark's own victims are never rate-limited.
 * - Policies, published signed to the prefix's stinger.policies: `bench-kill-<tag>` (enforce, pods only) with
 *   `pipeline-read` (file, path equal <dir>/pipeline-secret, access [read], action kill: a pipeline rule) and
 *   `kernel-read` (file, path equal <dir>/kernel-secret, action kill-in-kernel); `bench-noise-<tag>` (monitor, every
 *   process) with an audit rule on <dir>/noise-target, so every open of it is a real kernel event through the whole pipeline.
 * - Background: a C program opens and closes <dir>/noise-target at R opens/s (paced every 1 ms, on the host), started 3 s
 *   before a load level's victims and stopped after them. The achieved rate is read from the raw topic (its end
 *   offset before and after the victims, over the same wall time) and from the program's own count.
 * - Victims: a C helper forks; the child writes its pid into the pod's cgroup.procs (a kubepods.slice /
 *   cri-containerd-<id>.scope directory, helpers/pod-cgroup.ts) and execs `/bin/sh -c 'read line < SECRET; exec
 *   sleep 20'`; the parent (SCHED_FIFO when allowed, children reset to normal) blocks in waitid() and reads
 *   CLOCK_REALTIME the moment it returns: the time of death. Latency = death − the raw event's `time` (the kernel's
 *   timestamp at the openat entry, converted to wall time by the agent). V pipeline victims and V kernel victims per
 *   load level, alternating which goes first, 300 ms apart.
 * - Per-hop times of each pipeline victim, all against the raw event's time: the raw record's Kafka timestamp (the
 *   agent's produce request), the enriched record's Kafka timestamp (the enricher's produce inside its transaction),
 *   Alert.time (the detector's match), ControlCommand.issued_at_ns (the enforcer), ControlAck.acked_at_ns (the agent,
 *   after the kill). Raw and enriched records are found after each level by scanning the topics from the level's start
 *   (filtered by the secret's path bytes), so the harness consumes nothing heavy while measuring. The kernel's own
 *   exit event of each victim gives the harness's observation lag (death seen − exit event time).
 * - Also reported: each process's CPU over the victims (/proc/<pid>/stat) and the machine's busy share (/proc/stat);
 *   the agent's lost-record counter; what the services logged (info and above) from 5 s before each of the slowest
 *   kills to their death; the transactions' CONCURRENT_TRANSACTIONS answers, aborted detector batches and consumer
 *   restarts per level; the latency of the victims whose kill overlapped no aborted detector batch; and what became of
 *   any victim not killed (alert, command, ack, enforcement).
 * - Runs: one unreported warm-up (5 victims of each kind at the first non-zero rate), then K runs, each going through
 *   the load levels (reversed in even runs). Medians and p99 are over all victims of a level across runs; per-run p99s
 *   are listed beside them.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { loadConfig } from '@stinger/config';
import {
  decodeAlert,
  decodeControlAck,
  decodeControlCommand,
  decodeEnforcement,
  decodeEvent,
  decodeRawEvent,
  type Alert,
  type ControlAck,
  type ControlCommand,
  type RawEvent,
} from '@stinger/events';
import { bootstrapTopics, createKafkaClient, createProducer, fetchTopicOffsets, tailTopic, topicName, type ConsumedRecord, type KafkaClient } from '@stinger/kafka';
import { KAFKA_VERSION, startLocalBroker, type LocalBroker } from '@stinger/local-broker';
import { createLogger, type Logger } from '@stinger/log';
import { compilePolicy, parsePolicies, policyKey } from '@stinger/policy';
import { signedPolicyRecord } from '@stinger/trust';
import { buildBpf, freePort, startAgent, type RunningAgent } from '../integration-tests/helpers/agent.ts';
import { policyStatusOf } from '../integration-tests/helpers/agent-events.ts';
import { collectTopic, type Collector } from '../integration-tests/helpers/kafka.ts';
import { testSigningKey } from '../integration-tests/helpers/keys.ts';
import { startPipeline, type Pipeline } from '../integration-tests/helpers/pipeline.ts';
import { podCgroups } from '../integration-tests/helpers/pod-cgroup.ts';

const run = promisify(execFile);
const NODE_NAME = 'bench-kill-node';
const SLEEP_SECONDS = 20;
const SETTLE_MS = 3000;
const PAUSE_MS = 300;
const WARMUP_VICTIMS = 5;

interface Options {
  readonly runs: number;
  readonly victims: number;
  readonly rates: readonly number[];
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '3' },
      victims: { type: 'string', default: '30' },
      rates: { type: 'string', default: '0,1000,10000' },
    },
  });
  const positive = (name: string, raw: string): number => {
    const value = Number(raw);
    if (!Number.isInteger(value) || value <= 0) throw new RangeError(`--${name} must be a positive integer, got "${raw}"`);
    return value;
  };
  const rates = values.rates.split(',').map((raw) => {
    const value = Number(raw.trim());
    if (!Number.isInteger(value) || value < 0) throw new RangeError(`--rates takes opens per second (integers ≥ 0), got "${raw}"`);
    return value;
  });
  return { runs: positive('runs', values.runs), victims: positive('victims', values.victims), rates };
}

// ---------------------------------------------------------------------------------------------------------------------
// C helpers

const NOISE_C = `#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
/* noise <path> <opens/s>: opens and closes path at that rate (paced every 1 ms, at most 100 ms of backlog made up)
 * until SIGTERM; then prints "<opens> <seconds>". */
static volatile sig_atomic_t stop = 0;
static void on_term(int sig) { (void)sig; stop = 1; }
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
int main(int argc, char **argv) {
  if (argc != 3) { fprintf(stderr, "usage: noise <path> <opens per second>\\n"); return 2; }
  double rate = atof(argv[2]);
  signal(SIGTERM, on_term);
  double start = now();
  long due_done = 0, opened = 0;
  while (!stop) {
    long due = (long)((now() - start) * rate);
    if (due - due_done > (long)(rate / 10)) due_done = due - (long)(rate / 10);
    while (due_done < due && !stop) {
      int fd = open(argv[1], O_RDONLY);
      if (fd >= 0) close(fd);
      due_done++;
      opened++;
    }
    struct timespec pause = { 0, 1000000 };
    nanosleep(&pause, NULL);
  }
  printf("%ld %.6f\\n", opened, now() - start);
  return 0;
}
`;

const VICTIM_C = `#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
/* victim <cgroup.procs> <script>: forks; the child moves itself into the cgroup and execs /bin/sh -c script; the
 * parent waits for it and prints "<pid> <si_code> <si_status> <CLOCK_REALTIME ns at death> <fifo 0|1>". */
static long long ns(clockid_t clock) { struct timespec t; clock_gettime(clock, &t); return t.tv_sec * 1000000000LL + t.tv_nsec; }
int main(int argc, char **argv) {
  if (argc != 3) { fprintf(stderr, "usage: victim <cgroup.procs> <script>\\n"); return 2; }
  struct sched_param param = { .sched_priority = 50 };
  int fifo = sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &param) == 0;
  pid_t pid = fork();
  if (pid < 0) { perror("fork"); return 1; }
  if (pid == 0) {
    int fd = open(argv[1], O_WRONLY);
    if (fd < 0) _exit(120);
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%d", getpid());
    if (write(fd, buf, n) != n) _exit(121);
    close(fd);
    execl("/bin/sh", "sh", "-c", argv[2], (char *)NULL);
    _exit(122);
  }
  siginfo_t info;
  memset(&info, 0, sizeof info);
  if (waitid(P_PID, pid, &info, WEXITED) != 0) { perror("waitid"); return 1; }
  long long death = ns(CLOCK_REALTIME);
  printf("%d %d %d %lld %d\\n", pid, info.si_code, info.si_status, death, fifo);
  return 0;
}
`;

async function buildPrograms(dir: string): Promise<{ noise: string; victim: string }> {
  const build = async (name: string, source: string): Promise<string> => {
    writeFileSync(join(dir, `${name}.c`), source);
    await run('cc', ['-O2', '-Wall', '-Werror', '-o', join(dir, name), join(dir, `${name}.c`)]);
    return join(dir, name);
  };
  return { noise: await build('noise', NOISE_C), victim: await build('victim', VICTIM_C) };
}

// ---------------------------------------------------------------------------------------------------------------------
// Victims and background

type VictimKind = 'pipeline' | 'kernel';

interface VictimResult {
  readonly kind: VictimKind;
  readonly pid: number;
  readonly killed: boolean;
  /** CLOCK_REALTIME at death as the harness saw it, ns since the epoch. */
  readonly deathNs: bigint;
  readonly spawnedNs: bigint;
  readonly fifo: boolean;
}

function runVictim(target: { readonly program: string; readonly procs: string }, kind: VictimKind, secret: string): Promise<VictimResult> {
  const { program, procs } = target;
  const spawnedNs = BigInt(Date.now()) * 1_000_000n;
  const child = spawn(program, [procs, `read line < ${secret}; exec sleep ${SLEEP_SECONDS}`], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      const [pid, siCode, status, death, fifo] = out.trim().split(' ');
      if (code !== 0 || death === undefined) return reject(new Error(`victim helper ended with ${code}: ${out}`));
      // CLD_KILLED = 2, SIGKILL = 9
      resolve({ kind, pid: Number(pid), killed: siCode === '2' && status === '9', deathNs: BigInt(death), spawnedNs, fifo: fifo === '1' });
    });
  });
}

interface Noise {
  stop(): Promise<{ opens: number; seconds: number }>;
}

function startNoise(program: string, path: string, rate: number): Noise {
  const child = spawn(program, [path, String(rate)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  return {
    async stop() {
      child.kill('SIGTERM');
      await closed;
      const [opens, seconds] = out.trim().split(' ');
      return { opens: Number(opens), seconds: Number(seconds) };
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------------
// Topics

async function highWatermark(client: KafkaClient, topic: string): Promise<bigint> {
  const offsets = await fetchTopicOffsets(client, topic);
  return offsets.partitions.reduce((sum, p) => sum + p.high, 0n);
}

/** Every record of `topic` from `sinceMs` to the current end, handed to `onRecord` (which filters); ends when idle. */
async function scanTopic(client: KafkaClient, range: { readonly topic: string; readonly sinceMs: number }, onRecord: (record: ConsumedRecord) => void): Promise<number> {
  const { topic, sinceMs } = range;
  const ends = await fetchTopicOffsets(client, topic);
  const remaining = new Map(ends.partitions.filter((p) => p.high > p.low).map((p) => [p.partition, p.high]));
  let seen = 0;
  const started = Date.now();
  let lastSeen = started;
  const tail = await tailTopic({
    client,
    topic,
    sinceMs,
    onRecord: (record) => {
      seen += 1;
      lastSeen = Date.now();
      onRecord(record);
      const end = remaining.get(record.partition);
      if (end !== undefined && record.offset + 1n >= end) remaining.delete(record.partition);
    },
  });
  // A transactional topic ends in a commit marker, never delivered: idle for 3 s ends the scan too.
  while (remaining.size > 0 && (Date.now() - lastSeen < 3000 || (seen === 0 && Date.now() - started < 20_000))) await sleep(100);
  await tail.stop();
  return seen;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------------------------------
// One load level

interface PipelineSample {
  readonly totalMs: number;
  /** ms after the raw event's time: raw produced, enriched produced, alert, command, ack. NaN when not found. */
  readonly rawMs: number;
  readonly enrichedMs: number;
  readonly alertMs: number;
  readonly commandMs: number;
  readonly ackMs: number;
  /** Harness death − the kernel's exit event, ms (the observation lag). */
  readonly observeLagMs: number;
  /** The raw event's time and the death, ms since the epoch (to read the services' logs in between). */
  readonly window: readonly [number, number];
}

interface LevelResult {
  readonly rate: number;
  readonly run: number;
  readonly pipeline: PipelineSample[];
  readonly kernel: { readonly totalMs: number; readonly observeLagMs: number }[];
  readonly missed: { pipeline: number; kernel: number; unmatched: number };
  /** What became of each victim that was not killed: alert, command, ack status, enforcement outcome. */
  readonly missedDetails: string[];
  readonly rawPerSec: number;
  readonly noisePerSec: number;
  readonly lostRecords: number;
  readonly fifo: boolean;
  readonly load: string;
  /** CPU time of each process over the victims, % of one core; `machine`: all CPUs busy, % of the machine. */
  readonly cpu: Readonly<Record<string, number>>;
  /** When the victims ran, ms since the epoch. */
  readonly span: readonly [number, number];
}

interface Rig {
  readonly client: KafkaClient;
  readonly prefix: string;
  readonly programs: { noise: string; victim: string };
  readonly procs: string;
  readonly paths: { readonly pipeline: string; readonly kernel: string; readonly noise: string };
  readonly collectors: Readonly<Record<'alerts' | 'control' | 'controlAcks' | 'enforcements', Collector>>;
  /** The services' log lines so far (pino JSON), read for what they logged around the slowest kills. */
  readonly logs: Readonly<Record<string, readonly string[]>>;
  readonly metricsAddress: string;
  /** Processes whose CPU time is read over each level: agent, enricher, detector, enforcer, broker, harness. */
  readonly pids: Readonly<Record<string, number>>;
}

const NS_PER_MS = 1_000_000;
const msBetween = (later: bigint, earlier: bigint): number => Number(later - earlier) / NS_PER_MS;

const USER_HZ = 100;

/** utime + stime of a process, seconds (0 when it is gone). */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / USER_HZ;
  } catch {
    return 0;
  }
}

/** Busy and total jiffies of all CPUs (/proc/stat; idle and iowait are not busy). */
function machineJiffies(): { busy: number; total: number } {
  const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1, 9).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  return { busy: total - (fields[3] ?? 0) - (fields[4] ?? 0), total };
}

function cpuSnapshot(pids: Readonly<Record<string, number>>): { time: number; byName: Record<string, number>; machine: { busy: number; total: number } } {
  return { time: performance.now(), byName: Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuSeconds(pid)])), machine: machineJiffies() };
}

async function agentCounter(address: string, metric: string): Promise<number> {
  const text = await (await fetch(`http://${address}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(`${metric}{`) || line.startsWith(`${metric} `)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

async function runLevel(rig: Rig, spec: { readonly rate: number; readonly victims: number; readonly run: number }): Promise<LevelResult> {
  const { client, prefix, programs, procs, paths } = rig;
  const rawTopic = topicName('eventsRaw', prefix);
  const levelStartMs = Date.now();
  const noise = spec.rate > 0 ? startNoise(programs.noise, paths.noise, spec.rate) : null;
  const victims: VictimResult[] = [];
  let rawPerSec = 0;
  let noiseResult = { opens: 0, seconds: 1 };
  let lostRecords = 0;
  let cpu: Record<string, number> = {};
  let span: [number, number] = [0, 0];
  try {
    await sleep(SETTLE_MS);
    const lost0 = await agentCounter(rig.metricsAddress, 'stinger_lost_records_total');
    const raw0 = await highWatermark(client, rawTopic);
    const t0 = performance.now();
    const cpu0 = cpuSnapshot(rig.pids);
    span = [Date.now(), 0];
    for (let i = 0; i < spec.victims; i++) {
      const order: VictimKind[] = i % 2 === 0 ? ['pipeline', 'kernel'] : ['kernel', 'pipeline'];
      for (const kind of order) {
        victims.push(await runVictim({ program: programs.victim, procs }, kind, kind === 'pipeline' ? paths.pipeline : paths.kernel));
        await sleep(PAUSE_MS);
      }
    }
    const cpu1 = cpuSnapshot(rig.pids);
    span = [span[0], Date.now()];
    const seconds = (cpu1.time - cpu0.time) / 1000;
    cpu = Object.fromEntries(Object.keys(rig.pids).map((name) => [name, (((cpu1.byName[name] ?? 0) - (cpu0.byName[name] ?? 0)) / seconds) * 100]));
    cpu['machine'] = ((cpu1.machine.busy - cpu0.machine.busy) / (cpu1.machine.total - cpu0.machine.total)) * 100;
    const raw1 = await highWatermark(client, rawTopic);
    rawPerSec = Number(raw1 - raw0) / ((performance.now() - t0) / 1000);
    lostRecords = (await agentCounter(rig.metricsAddress, 'stinger_lost_records_total')) - lost0;
  } finally {
    if (noise) noiseResult = await noise.stop();
  }
  const load = loadavg().map((l) => l.toFixed(2)).join(' ');
  await sleep(2000); // the last records reach the topics

  // The victims' raw events (file open of a secret; exit) and the enriched records, found after the fact.
  const byPid = new Map(victims.map((v) => [v.pid, v]));
  const noiseBytes = Buffer.from(paths.noise);
  const secretBytes = [Buffer.from(paths.pipeline), Buffer.from(paths.kernel)];
  const opens = new Map<number, { event: RawEvent; timestampMs: number }>();
  const exits = new Map<number, bigint>();
  await scanTopic(client, { topic: rawTopic, sinceMs: levelStartMs - 1000 }, (record) => {
    const value = record.value;
    if (value === null || value.includes(noiseBytes)) return;
    const event = decodeRawEvent(value);
    const victim = byPid.get(event.process.pid);
    if (victim === undefined || event.time < victim.spawnedNs - 1_000_000_000n) return;
    if (event.kind === 'exit') exits.set(event.process.pid, event.time);
    else if (event.kind === 'file' && event.payload.group === 'file' && secretBytes.some((s) => value.includes(s)) && !opens.has(event.process.pid)) opens.set(event.process.pid, { event, timestampMs: record.timestampMs });
  });
  const enrichedAt = new Map<string, number>();
  await scanTopic(client, { topic: topicName('events', prefix), sinceMs: levelStartMs - 1000 }, (record) => {
    const value = record.value;
    if (value === null || !value.includes(secretBytes[0] as Buffer)) return;
    enrichedAt.set(decodeEvent(value).id, record.timestampMs);
  });
  const alerts = new Map<string, Alert>();
  for (const record of rig.collectors.alerts.records) {
    const alert = decodeAlert(record.value ?? Buffer.alloc(0));
    if (alert.rule === 'pipeline-read' && !alerts.has(alert.event.id)) alerts.set(alert.event.id, alert);
  }
  const commands = new Map<string, ControlCommand>();
  for (const record of rig.collectors.control.records) {
    const command = decodeControlCommand(record.value ?? Buffer.alloc(0));
    if (command.alert_id !== null) commands.set(command.alert_id, command);
  }
  const acks = new Map<string, ControlAck>();
  for (const record of rig.collectors.controlAcks.records) {
    const ack = decodeControlAck(record.value ?? Buffer.alloc(0));
    acks.set(ack.command_id, ack);
  }
  const outcomes = new Map<string, string>();
  for (const record of rig.collectors.enforcements.records) {
    const enforcement = decodeEnforcement(record.value ?? Buffer.alloc(0));
    outcomes.set(enforcement.alert_id, `${enforcement.outcome}${enforcement.detail ? ` (${enforcement.detail})` : ''}`);
  }

  const result: LevelResult = {
    rate: spec.rate,
    run: spec.run,
    pipeline: [],
    kernel: [],
    missed: { pipeline: 0, kernel: 0, unmatched: 0 },
    missedDetails: [],
    rawPerSec,
    noisePerSec: noiseResult.opens / noiseResult.seconds,
    lostRecords,
    fifo: victims.every((v) => v.fifo),
    load,
    cpu,
    span,
  };
  for (const victim of victims) {
    const open = opens.get(victim.pid);
    if (!victim.killed) {
      result.missed[victim.kind] += 1;
      const alert = open ? alerts.get(open.event.id) : undefined;
      const command = alert ? commands.get(alert.id) : undefined;
      const ack = command ? acks.get(command.command_id) : undefined;
      result.missedDetails.push(
        `${victim.kind} pid ${victim.pid}: raw event ${open ? 'seen' : 'not seen'}, enriched ${open && enrichedAt.has(open.event.id) ? 'seen' : 'not seen'}, alert ${alert ? `after ${fmt(msBetween(alert.time, open?.event.time ?? 0n))} ms` : 'none'}, command ${command ? `after ${fmt(msBetween(command.issued_at_ns, open?.event.time ?? 0n))} ms` : 'none'}, ack ${ack ? `${ack.status} after ${fmt(msBetween(ack.acked_at_ns, open?.event.time ?? 0n))} ms` : 'none'}, enforcement ${alert ? (outcomes.get(alert.id) ?? 'none') : '–'}`,
      );
      continue;
    }
    if (open === undefined) {
      result.missed.unmatched += 1;
      continue;
    }
    const t = open.event.time;
    const exit = exits.get(victim.pid);
    const observeLagMs = exit === undefined ? Number.NaN : msBetween(victim.deathNs, exit);
    const totalMs = msBetween(victim.deathNs, t);
    if (victim.kind === 'kernel') {
      result.kernel.push({ totalMs, observeLagMs });
      continue;
    }
    const alert = alerts.get(open.event.id);
    const command = alert ? commands.get(alert.id) : undefined;
    const ack = command ? acks.get(command.command_id) : undefined;
    const enriched = enrichedAt.get(open.event.id);
    const sinceEvent = (ns: bigint | undefined): number => (ns === undefined ? Number.NaN : msBetween(ns, t));
    const sinceEventMs = (ms: number | undefined): number => (ms === undefined ? Number.NaN : ms - Number(t / 1_000_000n) - Number(t % 1_000_000n) / NS_PER_MS);
    result.pipeline.push({
      totalMs,
      rawMs: sinceEventMs(open.timestampMs),
      enrichedMs: sinceEventMs(enriched),
      alertMs: sinceEvent(alert?.time),
      commandMs: sinceEvent(command?.issued_at_ns),
      ackMs: sinceEvent(ack?.acked_at_ns),
      observeLagMs,
      window: [Number(t / 1_000_000n), Number(victim.deathNs / 1_000_000n)],
    });
  }
  return result;
}

// ---------------------------------------------------------------------------------------------------------------------
// Report

function percentile(values: readonly number[], p: number): number {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}
const fmt = (value: number, digits = 0): string => (Number.isNaN(value) ? '–' : value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }));
const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');
const levelName = (rate: number): string => (rate === 0 ? 'none' : `${fmt(rate)} opens/s`);

interface LogLine {
  readonly service: string;
  readonly time: number;
  readonly level: number;
  readonly what: string;
}

/** Lines each service logs for every kill or on a timer: not news around a slow kill. */
const ROUTINE = new Set(['enforcement', 'kill command sent', 'control command: process killed', 'detector stats']);

function parseLogs(logs: Readonly<Record<string, readonly string[]>>): LogLine[] {
  const parsed: LogLine[] = [];
  for (const [service, lines] of Object.entries(logs)) {
    for (const line of lines) {
      try {
        const entry = JSON.parse(line) as { time?: number; level?: number; msg?: string; error?: string; err?: { message?: string }; retryCount?: number; retryTime?: number };
        if (typeof entry.time !== 'number' || typeof entry.level !== 'number' || entry.level < 30 || ROUTINE.has(entry.msg ?? '')) continue;
        const detail = entry.error ?? entry.err?.message ?? '';
        const retry = entry.retryTime !== undefined ? ` [retry ${entry.retryCount ?? '?'} after ${entry.retryTime} ms]` : '';
        parsed.push({ service, time: entry.time, level: entry.level, what: `${(entry.msg ?? '').slice(0, 110)}${detail && !(entry.msg ?? '').includes(detail.slice(0, 40)) ? `: ${detail.slice(0, 90)}` : ''}${retry}` });
      } catch {
        // not JSON
      }
    }
  }
  return parsed.sort((a, b) => a.time - b.time);
}

/** Seconds before a slow kill's event whose log lines are shown with it (a back-off begun earlier delays it). */
const LOG_LOOKBACK_MS = 5000;

/** What the services logged (info and above, routine lines left out) from LOOKBACK before `event` to `to`, ms after `event`. */
function loggedAround(logs: readonly LogLine[], event: number, to: number): string {
  const lines = logs.filter((line) => line.time >= event - LOG_LOOKBACK_MS && line.time <= to);
  if (lines.length === 0) return 'nothing logged';
  const shown = lines.slice(-10).map((line) => `${line.time >= event ? '+' : '−'}${Math.abs(line.time - event)} ms ${line.service}: "${line.what}"`);
  return `${lines.length > shown.length ? `${lines.length - shown.length} earlier lines …; ` : ''}${shown.join('; ')}`;
}

function report(levels: readonly LevelResult[], rates: readonly number[], serviceLogs: Readonly<Record<string, readonly string[]>>): void {
  console.log('## Kill latency: kernel event → death, ms');
  console.log('');
  console.log(
    '| background (target) | achieved: raw topic records/s, median of runs (noise program opens/s) | path | victims killed / missed | p50 | p99 | max | per-run p99 | harness observation lag p50 / max, ms | agent records lost |',
  );
  console.log('|---|---|---|---:|---:|---:|---:|---|---|---:|');
  for (const rate of rates) {
    const runs = levels.filter((l) => l.rate === rate);
    const raw = percentile(runs.map((l) => l.rawPerSec), 50);
    const noise = percentile(runs.map((l) => l.noisePerSec), 50);
    const achieved = `${fmt(raw)} (${fmt(noise)})`;
    const lost = runs.reduce((sum, l) => sum + l.lostRecords, 0);
    for (const kind of ['pipeline', 'kernel'] as const) {
      const samples = runs.flatMap((l) => (kind === 'pipeline' ? l.pipeline : l.kernel));
      const totals = samples.map((s) => s.totalMs);
      const missed = runs.reduce((sum, l) => sum + l.missed[kind], 0);
      const perRun = runs.map((l) => fmt(percentile((kind === 'pipeline' ? l.pipeline : l.kernel).map((s) => s.totalMs), 99), kind === 'kernel' ? 2 : 0)).join(', ');
      const lags = samples.map((s) => s.observeLagMs);
      const digits = kind === 'kernel' ? 2 : 0;
      console.log(
        `| ${levelName(rate)} | ${achieved} | ${kind === 'pipeline' ? 'pipeline (`kill`)' : 'in kernel (`kill-in-kernel`, reference)'} | ${totals.length} / ${missed} | **${fmt(percentile(totals, 50), digits)}** | **${fmt(percentile(totals, 99), digits)}** | ${fmt(Math.max(...totals), digits)} | ${perRun} | ${fmt(percentile(lags, 50), 2)} / ${fmt(Math.max(...lags.filter((l) => !Number.isNaN(l))), 2)} | ${kind === 'pipeline' ? fmt(lost) : ''} |`,
      );
    }
  }
  console.log('');
  // The same victims without those whose kill overlapped a CONCURRENT_TRANSACTIONS answer to the detector's
  // AddOffsetsToTxn (one within LOOKBACK before the event, or before the death): what the pipeline gives when its
  // transactions go through at once. Before fddea9f each such answer aborted the batch; since, it is retried.
  const logs = parseLogs(serviceLogs);
  const aborts = logs.filter((line) => line.service === 'detector' && line.what.startsWith('Response AddOffsetsToTxn') && line.what.includes('another concurrent operation')).map((line) => line.time);
  const clean = (s: PipelineSample): boolean => !aborts.some((time) => time >= s.window[0] - LOG_LOOKBACK_MS && time <= s.window[1]);
  console.log('');
  console.log(`Pipeline victims whose kill did not overlap a CONCURRENT_TRANSACTIONS answer to the detector's AddOffsetsToTxn (none in the ${LOG_LOOKBACK_MS / 1000} s before the event or until the death), ms:`);
  console.log('');
  console.log('| background | victims kept / all | p50 | p99 | max |');
  console.log('|---|---:|---:|---:|---:|');
  for (const rate of rates) {
    const all = levels.filter((l) => l.rate === rate).flatMap((l) => l.pipeline);
    const kept = all.filter(clean).map((s) => s.totalMs);
    console.log(`| ${levelName(rate)} | ${kept.length} / ${all.length} | ${fmt(percentile(kept, 50))} | ${fmt(percentile(kept, 99))} | ${fmt(Math.max(...kept))} |`);
  }
  console.log('');
  console.log('## Where the pipeline time goes: ms after the raw event\'s kernel time, p50 / p99 over all pipeline victims');
  console.log('');
  console.log('| background | raw record produced (agent) | enriched record produced (enricher) | alert raised (detector) | command issued (enforcer) | kill acked (agent) | death seen |');
  console.log('|---|---|---|---|---|---|---|');
  type Stage = 'rawMs' | 'enrichedMs' | 'alertMs' | 'commandMs' | 'ackMs' | 'totalMs';
  const stages: Stage[] = ['rawMs', 'enrichedMs', 'alertMs', 'commandMs', 'ackMs', 'totalMs'];
  for (const rate of rates) {
    const samples = levels.filter((l) => l.rate === rate).flatMap((l) => l.pipeline);
    console.log(`| ${levelName(rate)} | ${stages.map((s) => `${fmt(percentile(samples.map((x) => x[s]), 50))} / ${fmt(percentile(samples.map((x) => x[s]), 99))}`).join(' | ')} |`);
  }
  console.log('');
  console.log('Per hop (each victim\'s difference between consecutive stages), p50 / p99, ms:');
  console.log('');
  console.log('| background | agent: event → raw produce | raw → enriched produce (enricher) | enriched produce → alert (enricher commit + detector) | alert → command (detector commit + enforcer) | command → ack (agent) |');
  console.log('|---|---|---|---|---|---|');
  for (const rate of rates) {
    const samples = levels.filter((l) => l.rate === rate).flatMap((l) => l.pipeline);
    const hops = [0, 1, 2, 3, 4].map((i) => samples.map((s) => (i === 0 ? s.rawMs : s[stages[i] as Stage] - s[stages[i - 1] as Stage])));
    console.log(`| ${levelName(rate)} | ${hops.map((h) => `${fmt(percentile(h, 50))} / ${fmt(percentile(h, 99))}`).join(' | ')} |`);
  }
  console.log('');
  console.log('The five slowest pipeline victims of each level, hops in ms (agent / enricher / enricher commit + detector / detector commit + enforcer / agent = total):');
  console.log('');
  for (const rate of rates) {
    const slowest = levels
      .filter((l) => l.rate === rate)
      .flatMap((l) => l.pipeline)
      .sort((a, b) => b.totalMs - a.totalMs)
      .slice(0, 5);
    const hops = (s: PipelineSample): string =>
      [s.rawMs, s.enrichedMs - s.rawMs, s.alertMs - s.enrichedMs, s.commandMs - s.alertMs, s.ackMs - s.commandMs].map((v) => fmt(v)).join(' / ');
    console.log(`- ${levelName(rate)}: ${slowest.map((s) => `${hops(s)} = ${fmt(s.totalMs)}`).join('; ')}`);
    for (const s of slowest.slice(0, 3)) console.log(`  - the ${fmt(s.totalMs)} ms kill; logged from ${LOG_LOOKBACK_MS / 1000} s before its event to its death: ${loggedAround(logs, s.window[0], s.window[1])}`);
  }
  console.log('');
  console.log('Transaction trouble logged while the victims ran, sum of runs (kafkajs logs each error answer of the broker as "Response <request>: <error>"):');
  console.log('');
  console.log(
    '| background | enricher: CONCURRENT_TRANSACTIONS on AddPartitionsToTxn (the producer retries it) | detector: on AddPartitionsToTxn | detector: on AddOffsetsToTxn (retried inside the transaction) | detector: consumer crashed and restarted | detector: partition state rebuilt |',
  );
  console.log('|---|---:|---:|---:|---:|---:|');
  const troubleIn = (spans: readonly (readonly [number, number])[]) => {
    const count = (service: string, match: (what: string) => boolean): number =>
      logs.filter((line) => line.service === service && match(line.what) && spans.some(([from, to]) => line.time >= from && line.time <= to)).length;
    const concurrent = (request: string) => (what: string) => what.startsWith(`Response ${request}`) && what.includes('another concurrent operation');
    const has = (text: string) => (what: string) => what.includes(text);
    return {
      enricherPartitions: count('enricher', concurrent('AddPartitionsToTxn')),
      detectorPartitions: count('detector', concurrent('AddPartitionsToTxn')),
      detectorOffsets: count('detector', concurrent('AddOffsetsToTxn')),
      restarts: count('detector', has('Restarting the consumer')),
      rebuilt: count('detector', has('partition state rebuilt')),
    };
  };
  for (const rate of rates) {
    const t = troubleIn(levels.filter((l) => l.rate === rate).map((l) => l.span));
    console.log(`| ${levelName(rate)} | ${t.enricherPartitions} | ${t.detectorPartitions} | ${t.detectorOffsets} | ${t.restarts} | ${t.rebuilt} |`);
  }
  console.log('');
  const missed = levels.flatMap((l) => l.missedDetails.map((d) => `${levelName(l.rate)}, run ${l.run + 1}: ${d}`));
  console.log(`Victims not killed (they lived out their ${SLEEP_SECONDS} s sleep): ${missed.length === 0 ? 'none' : ''}`);
  for (const line of missed) console.log(`- ${line}`);
  console.log('');
  const names = Object.keys(levels[0]?.cpu ?? {}).filter((name) => name !== 'machine');
  console.log('CPU while the victims ran, % of one core, median of runs (machine: all CPUs busy, % of the whole machine, other work included):');
  console.log('');
  console.log(`| background | ${names.join(' | ')} | machine |`);
  console.log(`|---|${names.map(() => '---:').join('|')}|---:|`);
  for (const rate of rates) {
    const runs = levels.filter((l) => l.rate === rate);
    console.log(`| ${levelName(rate)} | ${[...names, 'machine'].map((name) => fmt(percentile(runs.map((l) => l.cpu[name] ?? Number.NaN), 50))).join(' | ')} |`);
  }
  console.log('');
  for (const level of levels) {
    const trouble = troubleIn([level.span]);
    console.log(
      `- run ${level.run + 1}, ${levelName(level.rate)}: raw topic ${fmt(level.rawPerSec)} records/s, noise ${fmt(level.noisePerSec)} opens/s; pipeline p50 ${fmt(percentile(level.pipeline.map((s) => s.totalMs), 50))} / p99 ${fmt(percentile(level.pipeline.map((s) => s.totalMs), 99))} ms (detector meanwhile: ${trouble.detectorOffsets} CONCURRENT_TRANSACTIONS answers to AddOffsetsToTxn, retried, ${trouble.restarts} consumer restarts); in kernel p50 ${fmt(percentile(level.kernel.map((s) => s.totalMs), 50), 2)} ms; missed ${level.missed.pipeline}+${level.missed.kernel}+${level.missed.unmatched}; victims' harness SCHED_FIFO: ${level.fifo ? 'yes' : 'no'}; load average after: ${level.load}`,
    );
  }
}

// ---------------------------------------------------------------------------------------------------------------------

function policiesYaml(tag: string, paths: Rig['paths']): string {
  return `apiVersion: stinger.io/v1alpha1
kind: TracingPolicy
metadata: { name: bench-kill-${tag} }
spec:
  mode: enforce
  selector: { host: false }
  rules:
    - name: pipeline-read
      event: file
      match: { path: { equal: ["${paths.pipeline}"] }, access: [read] }
      action: kill
      severity: high
      tags: [T1005]
    - name: kernel-read
      event: file
      match: { path: { equal: ["${paths.kernel}"] } }
      action: kill-in-kernel
      severity: high
      tags: [T1005]
---
apiVersion: stinger.io/v1alpha1
kind: TracingPolicy
metadata: { name: bench-noise-${tag} }
spec:
  mode: monitor
  selector: {}
  rules:
    - name: noise-open
      event: file
      match: { path: { equal: ["${paths.noise}"] } }
      action: audit
      severity: low
      tags: [T1005]
`;
}

async function main(): Promise<void> {
  const options = parseOptions();
  const config = loadConfig();
  const logger: Logger = createLogger({ name: 'benchmark', level: config.logLevel === 'info' ? 'error' : config.logLevel });
  const workDir = await mkdtemp(join(tmpdir(), 'stinger-bench-kill-'));
  const tag = randomBytes(4).toString('hex');
  const pods = podCgroups();
  let broker: LocalBroker | null = null;
  let agent: RunningAgent | null = null;
  let pipeline: Pipeline | null = null;
  let client: KafkaClient | null = null;
  let prefix = '';
  const published: string[] = [];
  const collectors: Collector[] = [];
  let cleaning: Promise<void> | null = null;
  const cleanup = (): Promise<void> =>
    (cleaning ??= (async () => {
      const steps: [string, () => Promise<unknown>][] = [
        [
          'policies',
          async () => {
            if (client === null || published.length === 0) return;
            const producer = createProducer({ client, compression: 'none' });
            await producer.connect();
            const signer = { key: testSigningKey(), signedAtNs: BigInt(Date.now()) * 1_000_000n + 1n };
            await producer.send(topicName('policies', prefix), published.map((key) => signedPolicyRecord(key, null, signer)));
            await producer.disconnect();
            await sleep(1000);
          },
        ],
        ['pipeline', async () => pipeline?.stop()],
        ['agent', async () => agent?.stop()],
        ['collectors', async () => Promise.all(collectors.map((c) => c.stop()))],
        ['pod cgroup', async () => pods.remove()],
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
  const interrupted = (signal: NodeJS.Signals): void => {
    console.error(`${signal}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    buildBpf();
    const programs = await buildPrograms(workDir);
    const paths = { pipeline: join(workDir, 'pipeline-secret'), kernel: join(workDir, 'kernel-secret'), noise: join(workDir, 'noise-target') };
    for (const path of Object.values(paths)) writeFileSync(path, 'secret\n');
    const procs = pods.procsOf(pods.container(randomUUID(), randomBytes(32).toString('hex')));

    let brokers: string;
    if (config.kafka.brokers) {
      brokers = config.kafka.brokers.join(',');
    } else {
      broker = await startLocalBroker({ cacheDir: config.cacheDir, dataDir: join(workDir, 'broker'), logger, port: await freePort() });
      brokers = broker.brokers;
    }
    client = createKafkaClient({ brokers: brokers.split(','), connection: config.kafka, role: 'benchmark', logger });
    const kafka = client;
    prefix = `${config.kafka.topicPrefix}bench-kill-${tag}.`;
    await bootstrapTopics({ client: kafka, prefix });
    const collected = {
      alerts: await collectTopic(kafka, topicName('alerts', prefix)),
      control: await collectTopic(kafka, topicName('control', prefix)),
      controlAcks: await collectTopic(kafka, topicName('controlAcks', prefix)),
      enforcements: await collectTopic(kafka, topicName('enforcements', prefix)),
      policyStatus: await collectTopic(kafka, topicName('policyStatus', prefix)),
    };
    collectors.push(...Object.values(collected));
    const metricsAddress = `127.0.0.1:${await freePort()}`;
    agent = await startAgent({ brokers, topicPrefix: prefix, nodeName: NODE_NAME, extraEnv: { STINGER_AGENT_METRICS_ADDRESS: metricsAddress } });
    pipeline = await startPipeline({ brokers, topicPrefix: prefix, extraEnv: { STINGER_ENFORCER_MAX_KILLS_PER_MINUTE: '100000' } });

    const parsed = parsePolicies(policiesYaml(tag, paths), { source: 'kill-latency' });
    if (parsed.errors.length > 0) throw new Error(`policies invalid: ${JSON.stringify(parsed.errors)}`);
    const producer = createProducer({ client: kafka, compression: 'none' });
    await producer.connect();
    const signer = { key: testSigningKey(), signedAtNs: BigInt(Date.now()) * 1_000_000n };
    const records = parsed.policies.map((policy) => signedPolicyRecord(policyKey(policy), compilePolicy(policy, { generation: 1n }).compiled, signer));
    await producer.send(topicName('policies', prefix), records);
    await producer.disconnect();
    published.push(...records.map((r) => r.key));
    for (const key of published) {
      const status = await policyStatusOf(collected.policyStatus, { node: NODE_NAME, key }, { accept: (s) => s !== null && s.generation === 1n });
      if (status?.state !== 'applied') throw new Error(`policy ${key} not applied by the agent: ${status?.messages.join('; ')}`);
    }
    await sleep(2000); // the detector and the enforcer follow the same topic

    const pids: Record<string, number> = {
      agent: agent.child.pid ?? 0,
      enricher: pipeline.services.enricher.child.pid ?? 0,
      detector: pipeline.services.detector.child.pid ?? 0,
      enforcer: pipeline.services.enforcer.child.pid ?? 0,
      ...(broker ? { broker: broker.pid } : {}),
      harness: process.pid,
    };
    const logs = { agent: agent.log, enricher: pipeline.services.enricher.log, detector: pipeline.services.detector.log, enforcer: pipeline.services.enforcer.log };
    const rig: Rig = { client: kafka, prefix, programs, procs, paths, collectors: collected, metricsAddress, pids, logs };
    const java = await run('java', ['-version']).then((r) => r.stderr.split('\n')[0]?.trim() ?? 'unknown', () => 'unknown');
    console.log(`# Stinger kill latency: ${options.runs} runs × ${options.victims} victims of each kind per background level (${options.rates.map(levelName).join(', ')})`);
    console.log('');
    console.log(`- CPUs (nproc): ${availableParallelism()}, model: ${cpus()[0]?.model ?? 'unknown'}; kernel ${release()}`);
    console.log(`- Node ${process.version}; ${java}; Kafka ${broker ? `${KAFKA_VERSION} (local single-node KRaft broker)` : `broker from KAFKA_BROKERS ${brokers}`}`);
    console.log(`- load average at start: ${load()}`);
    console.log('');

    // Warm-up, not reported: JITs, group joins, the detector's first batches, the first command.
    const warmRate = options.rates.find((r) => r > 0) ?? 0;
    const warm = await runLevel(rig, { rate: warmRate, victims: WARMUP_VICTIMS, run: -1 });
    if (warm.pipeline.length === 0) throw new Error(`warm-up: no pipeline victim was killed (missed ${JSON.stringify(warm.missed)})`);
    console.error(`warm-up done: pipeline p50 ${fmt(percentile(warm.pipeline.map((s) => s.totalMs), 50))} ms; load ${load()}`);

    const levels: LevelResult[] = [];
    const started = Date.now();
    for (let runIndex = 0; runIndex < options.runs; runIndex++) {
      const order = runIndex % 2 === 0 ? options.rates : [...options.rates].reverse();
      for (const rate of order) {
        const level = await runLevel(rig, { rate, victims: options.victims, run: runIndex });
        levels.push(level);
        console.error(
          `run ${runIndex + 1}/${options.runs}, ${levelName(rate)}: raw ${fmt(level.rawPerSec)}/s; pipeline p50 ${fmt(percentile(level.pipeline.map((s) => s.totalMs), 50))} p99 ${fmt(percentile(level.pipeline.map((s) => s.totalMs), 99))} ms; kernel p50 ${fmt(percentile(level.kernel.map((s) => s.totalMs), 50), 2)} ms; load ${level.load}`,
        );
      }
    }
    report(levels, options.rates, rig.logs);
    console.log(`- measured runs took ${Math.round((Date.now() - started) / 1000)} s; load average at end: ${load()}`);
  } finally {
    await cleanup();
    process.removeListener('SIGINT', interrupted);
    process.removeListener('SIGTERM', interrupted);
  }
}

await main();
