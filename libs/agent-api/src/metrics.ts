/**
 * createAgentMetrics: the agent's Prometheus metrics on a registry of its own (never prom-client's
 * global one, so tests and several instances never collide), served over HTTP at /metrics.
 *
 * Counters the agent already keeps cumulatively (lost records, cache misses) are pulled from `sources`
 * at scrape time and advanced by the difference since the previous scrape; a value that went down
 * (its source was recreated) counts from zero again, so the exported counters stay monotonic.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { EventKind } from '@stinger/events';
import { namespaced, silentLogger, type Logger } from '@stinger/log';
import { serveMetrics, type MetricsServer } from '@stinger/metrics';
import { POLICY_STATES, type AgentApiSources, type CgroupFlow, type FileGuardCounts, type FilePathCounts, type LostRecordsCount, type PolicyState } from './types.ts';

export const DEFAULT_METRICS_ADDRESS = '127.0.0.1:9464';

/** Produce latency buckets in seconds: 1 ms to 10 s. */
export const PRODUCE_LATENCY_BUCKETS: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The gauges and cumulative counters as the agent sees them at one moment. */
export interface AgentMetricsSnapshot {
  readonly lostRecords: readonly LostRecordsCount[];
  readonly queueDepth: number;
  readonly spoolBytes: number;
  readonly processCache: { readonly live: number; readonly exited: number; readonly misses: number };
  readonly policies: Readonly<Record<PolicyState, number>>;
  readonly flows: readonly CgroupFlow[];
  readonly filePaths?: FilePathCounts;
  readonly fileGuard?: FileGuardCounts;
  /** The loaded sensors and the mode each runs in (lsm, kprobe, tracepoint, fanotify). */
  readonly sensorModes?: readonly { readonly sensor: string; readonly mode: string }[];
}

export interface AgentMetricsOptions {
  /** Read at every scrape (see AgentApiSources). Without it, the gauges hold what setGauges set last. */
  readonly sources?: AgentApiSources;
  readonly logger?: Logger;
  /** prom-client's default process metrics (CPU, memory, event loop lag, GC). Default true. */
  readonly defaultMetrics?: boolean;
}

/** The served endpoint: its port and how to stop it. */
export type MetricsHttpServer = MetricsServer;

export interface AgentMetrics {
  readonly registry: Registry;
  /** Call once per event (AgentPipeline's observe hook). */
  observeEvent(kind: EventKind): void;
  /** Milliseconds from publish to Kafka acknowledgement (EventPublisher's onAck). */
  observeProduceLatency(ms: number): void;
  /** A signed input (policy record, control command) the agent refused, and why (unsigned, bad_signature, …). */
  observeRefused(input: 'policy' | 'command', reason: string): void;
  /** A control command handled, by its acknowledged status. */
  observeCommand(status: string): void;
  setGauges(snapshot: AgentMetricsSnapshot): void;
  /** The exposition text, after pulling from `sources`. */
  metrics(): Promise<string>;
  /** Serves GET /metrics and /healthz; 404 elsewhere. */
  serve(options?: { readonly address?: string }): Promise<MetricsHttpServer>;
}

export function snapshotFromSources(sources: AgentApiSources): AgentMetricsSnapshot {
  const health = sources.health();
  const policies: Record<PolicyState, number> = { applied: 0, partial: 0, rejected: 0 };
  for (const policy of sources.policies()) policies[policy.state] += 1;
  return {
    lostRecords: health.lostRecords,
    queueDepth: health.queueDepth,
    spoolBytes: health.kafka.spoolBytes,
    processCache: health.processCache,
    policies,
    flows: sources.flows?.() ?? [],
    filePaths: sources.filePaths?.(),
    fileGuard: sources.fileGuard?.(),
    sensorModes: health.sensors.flatMap((s) => (s.state === 'loaded' && s.mode !== null ? [{ sensor: s.name, mode: s.mode }] : [])),
  };
}

export function createAgentMetrics(options: AgentMetricsOptions = {}): AgentMetrics {
  const { sources, defaultMetrics = true } = options;
  const logger = namespaced(options.logger ?? silentLogger(), 'AgentMetrics');
  const registry = new Registry();
  const registers = [registry];

  const events = new Counter({ name: 'stinger_events_total', help: 'Events the agent produced, by kind.', labelNames: ['kind'], registers });
  const lost = new Counter({
    name: 'stinger_lost_records_total',
    help: 'Records lost before reaching Kafka, by sensor and cause (ring_full, user_space, spool_full, rate_limited; shed: audit-only records the kernel shed while the ring filled).',
    labelNames: ['sensor', 'cause'],
    registers,
  });
  const queueDepth = new Gauge({ name: 'stinger_queue_depth', help: 'Records accepted, not yet acknowledged by Kafka (producer queue + spool).', registers });
  const spoolBytes = new Gauge({ name: 'stinger_spool_bytes', help: 'Bytes in the on-disk spool.', registers });
  const produceLatency = new Histogram({
    name: 'stinger_produce_latency_seconds',
    help: 'Time from publishing a record to its acknowledgement by Kafka.',
    buckets: [...PRODUCE_LATENCY_BUCKETS],
    registers,
  });
  const cacheEntries = new Gauge({ name: 'stinger_process_cache_entries', help: 'Process cache entries, by state (live, exited).', labelNames: ['state'], registers });
  const cacheMisses = new Counter({ name: 'stinger_process_cache_misses_total', help: 'Process cache lookups that found nothing.', registers });
  const policies = new Gauge({ name: 'stinger_policies', help: 'Policies known to the agent, by state (applied, partial, rejected).', labelNames: ['state'], registers });
  const flowBytes = new Counter({
    name: 'stinger_cgroup_network_bytes_total',
    help: 'Network bytes per cgroup v2 path and direction (ingress, egress), from the cgroup_skb flow counters.',
    labelNames: ['cgroup', 'direction'],
    registers,
  });
  const flowPackets = new Counter({
    name: 'stinger_cgroup_network_packets_total',
    help: 'Network packets per cgroup v2 path and direction.',
    labelNames: ['cgroup', 'direction'],
    registers,
  });
  const filePaths = new Counter({
    name: 'stinger_file_paths_total',
    help: 'Paths of file events and executed binaries by resolution: followed (symlinks walked as the syscall did) or lexical (string normalisation only; the process was gone).',
    labelNames: ['resolution'],
    registers,
  });
  const refused = new Counter({
    name: 'stinger_agent_refused_total',
    help: 'Signed inputs refused: policy records and control commands that were unsigned, badly signed, signed by an unknown key, expired, replayed, meant for another node or undecodable.',
    labelNames: ['input', 'reason'],
    registers,
  });
  const commands = new Counter({
    name: 'stinger_agent_commands_total',
    help: 'Control commands handled, by the status acknowledged (killed, dry_run, target_gone, target_mismatch, protected, …).',
    labelNames: ['status'],
    registers,
  });
  const guardAnswers = new Counter({
    name: 'stinger_file_guard_answers_total',
    help: 'Opens and execs of marked files the file guard answered, by verdict (allowed, denied, killed).',
    labelNames: ['verdict'],
    registers,
  });
  const guardSlow = new Counter({ name: 'stinger_file_guard_slow_answers_total', help: 'File guard answers slower than 10 ms (the opener waited that long).', registers });
  const guardAnswerSeconds = new Counter({ name: 'stinger_file_guard_answer_seconds_total', help: 'Time spent answering permission events (divide by the answers for the mean wait).', registers });
  const guardUnresolved = new Counter({ name: 'stinger_file_guard_unresolved_total', help: 'Opens below a marked directory the guard could not place in a root (allowed).', registers });
  const guardErrors = new Counter({ name: 'stinger_file_guard_errors_total', help: 'File guard errors (queue overflow, a decision that failed and was answered fail-closed).', registers });
  const guardDigests = new Counter({ name: 'stinger_file_guard_digests_total', help: 'Executables hashed for sha256 exec rules (the rest came from the cache).', registers });
  const guardMarks = new Gauge({ name: 'stinger_file_guard_marks', help: 'Inodes and file systems the file guard has marked.', registers });
  const sensorMode = new Gauge({
    name: 'stinger_sensor_mode',
    help: '1 for each loaded sensor and the mode it runs in (lsm, kprobe, tracepoint, fanotify), chosen from the probed kernel features.',
    labelNames: ['sensor', 'mode'],
    registers,
  });
  if (defaultMetrics) collectDefaultMetrics({ register: registry });

  // Last cumulative values seen, to advance the counters by differences.
  const lastLost = new Map<string, number>();
  let lastMisses = 0;
  let lastFilePaths: FilePathCounts = { followed: 0, lexical: 0 };
  let lastGuard: FileGuardCounts | null = null;
  const lastFlows = new Map<string, { bytes: number; packets: number }>();
  const advance = (previous: number, current: number): number => (current >= previous ? current - previous : current);

  function setGauges(snapshot: AgentMetricsSnapshot): void {
    for (const entry of snapshot.lostRecords) {
      const key = `${entry.sensor}\u0000${entry.cause}`;
      const delta = advance(lastLost.get(key) ?? 0, entry.count);
      lastLost.set(key, entry.count);
      lost.inc({ sensor: entry.sensor, cause: entry.cause }, delta);
    }
    queueDepth.set(snapshot.queueDepth);
    spoolBytes.set(snapshot.spoolBytes);
    cacheEntries.set({ state: 'live' }, snapshot.processCache.live);
    cacheEntries.set({ state: 'exited' }, snapshot.processCache.exited);
    cacheMisses.inc(advance(lastMisses, snapshot.processCache.misses));
    lastMisses = snapshot.processCache.misses;
    if (snapshot.filePaths) {
      filePaths.inc({ resolution: 'followed' }, advance(lastFilePaths.followed, snapshot.filePaths.followed));
      filePaths.inc({ resolution: 'lexical' }, advance(lastFilePaths.lexical, snapshot.filePaths.lexical));
      lastFilePaths = snapshot.filePaths;
    }
    if (snapshot.fileGuard) {
      const now = snapshot.fileGuard;
      const delta = (name: keyof FileGuardCounts): number => advance(lastGuard?.[name] ?? 0, now[name]);
      for (const verdict of ['allowed', 'denied', 'killed'] as const) guardAnswers.inc({ verdict }, delta(verdict));
      guardSlow.inc(delta('slowAnswers'));
      guardAnswerSeconds.inc(delta('answerMicros') / 1e6);
      guardUnresolved.inc(delta('unresolved'));
      guardErrors.inc(delta('errors'));
      guardDigests.inc(delta('digests'));
      guardMarks.set(now.marks);
      lastGuard = now;
    }
    for (const state of POLICY_STATES) policies.set({ state }, snapshot.policies[state]);
    if (snapshot.sensorModes) {
      // A sensor runs in one mode at a time: a series of a mode it left would stay at 1 without the reset.
      sensorMode.reset();
      for (const { sensor, mode } of snapshot.sensorModes) sensorMode.set({ sensor, mode }, 1);
    }
    for (const flow of snapshot.flows) {
      const labels = { cgroup: flow.cgroup, direction: flow.direction };
      const key = `${flow.cgroup}\u0000${flow.direction}`;
      const previous = lastFlows.get(key) ?? { bytes: 0, packets: 0 };
      flowBytes.inc(labels, advance(previous.bytes, flow.bytes));
      flowPackets.inc(labels, advance(previous.packets, flow.packets));
      lastFlows.set(key, { bytes: flow.bytes, packets: flow.packets });
    }
  }

  async function metrics(): Promise<string> {
    if (sources) {
      try {
        setGauges(snapshotFromSources(sources));
      } catch (error) {
        // A failing source must not take the process metrics down with it.
        logger.error({ err: error }, 'metrics source failed; gauges keep their last values');
      }
    }
    return registry.metrics();
  }

  return {
    registry,
    observeEvent(kind) {
      events.inc({ kind });
    },
    observeProduceLatency(ms) {
      produceLatency.observe(ms / 1000);
    },
    observeRefused(input, reason) {
      refused.inc({ input, reason });
    },
    observeCommand(status) {
      commands.inc({ status });
    },
    setGauges,
    metrics,
    serve({ address = DEFAULT_METRICS_ADDRESS } = {}) {
      return serveMetrics({ address, logger, scrape: async () => ({ body: await metrics(), contentType: registry.contentType }) });
    },
  };
}
