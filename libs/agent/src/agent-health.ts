/**
 * The agent's health on Kafka (topic stinger.agents, compacted, keyed by node name), so a console sees every node's
 * sensors, loss, spool and kernel features without reaching each node's local API.
 *
 * `agentHealthRecord` builds the AgentHealth record from the very objects the local API serves (AgentApiSources'
 * health() and policies(), and probeFeatures()), so the two never tell different stories. `AgentHealthReporter`
 * publishes one at start, one every interval and a last one at stop; a report that fails to send is not retried, as
 * the next one supersedes it on the compacted topic.
 */
import type { AgentHealth as AgentHealthRecord } from '@stinger/events';
import type { AgentHealth as AgentHealthView, FeatureAvailability, PolicyStatusView } from '@stinger/agent-api';
import { namespaced, type Logger } from '@stinger/log';

export type { AgentHealthRecord };

/** What one report is made of; everything but the rate is read from the agent's parts at the moment of the report. */
export interface AgentHealthSample {
  readonly version: string;
  readonly startedAtNs: bigint;
  readonly health: AgentHealthView;
  readonly features: FeatureAvailability;
  readonly policies: readonly PolicyStatusView[];
}

export interface AgentHealthRecordInput extends AgentHealthSample {
  readonly reportedAtNs: bigint;
  /** Events acknowledged per second since the previous report (eventsPerSecond()). */
  readonly eventsPerSecond: number;
}

/** The AgentHealth record of one report. Pure. */
export function agentHealthRecord(input: AgentHealthRecordInput): AgentHealthRecord {
  const { health } = input;
  const policyCount = (state: PolicyStatusView['state']): number => input.policies.filter((p) => p.state === state).length;
  return {
    node: health.node,
    agent_id: health.agentId,
    agent_version: input.version,
    reported_at_ns: input.reportedAtNs,
    started_at_ns: input.startedAtNs,
    events_published: BigInt(health.kafka.published),
    events_acknowledged: BigInt(health.kafka.acknowledged),
    events_spooled: BigInt(health.kafka.spooled),
    events_per_second: input.eventsPerSecond,
    lost_records: health.lostRecords.map((lost) => ({ sensor: lost.sensor, cause: lost.cause, count: BigInt(lost.count) })),
    kafka_mode: health.kafka.mode,
    spool_bytes: BigInt(health.kafka.spoolBytes),
    sensors: health.sensors.map((sensor) => ({ name: sensor.name, state: sensor.state, reason: sensor.reason, mode: sensor.mode })),
    kernel_features: Object.fromEntries(Object.entries(input.features).map(([name, status]) => [name, status.available])),
    policies_applied: policyCount('applied'),
    policies_partial: policyCount('partial'),
    policies_rejected: policyCount('rejected'),
    process_cache_size: BigInt(health.processCache.live),
  };
}

/** Events per second between two samples of the acknowledged count; 0 without a previous sample or elapsed time. */
export function eventsPerSecond(previous: { readonly acknowledged: number; readonly atNs: bigint } | null, current: { readonly acknowledged: number; readonly atNs: bigint }): number {
  if (previous === null || current.atNs <= previous.atNs) return 0;
  const seconds = Number(current.atNs - previous.atNs) / 1e9;
  return Math.max(0, current.acknowledged - previous.acknowledged) / seconds;
}

export interface AgentHealthReporterOptions {
  /** Reads the agent's parts; called once per report, must be cheap and synchronous. */
  readonly sample: () => AgentHealthSample;
  /** Publishes one record; resolves when Kafka acknowledged it. */
  readonly send: (record: AgentHealthRecord) => Promise<void>;
  readonly intervalMs: number;
  readonly logger: Logger;
  /** Longest stop() waits for the last report (a broker that is away must not hold up the agent's shutdown); default 5000. */
  readonly stopTimeoutMs?: number;
  /** Nanoseconds since the Unix epoch; replaced in tests. */
  readonly nowNs?: () => bigint;
}

export class AgentHealthReporter {
  readonly #options: AgentHealthReporterOptions;
  readonly #logger: Logger;
  readonly #nowNs: () => bigint;
  #previous: { acknowledged: number; atNs: bigint } | null = null;
  #timer: NodeJS.Timeout | null = null;
  #stopped = false;

  constructor(options: AgentHealthReporterOptions) {
    this.#options = options;
    this.#logger = namespaced(options.logger, 'AgentHealthReporter');
    this.#nowNs = options.nowNs ?? (() => BigInt(Date.now()) * 1_000_000n);
  }

  /** Publishes the first report (resolves when it is sent or has failed), then one every interval until stop(). */
  start(): Promise<void> {
    if (this.#stopped || this.#timer) return Promise.resolve();
    this.#timer = setInterval(() => void this.report(), this.#options.intervalMs);
    return this.report();
  }

  /**
   * Stops the interval and publishes the last report (clean shutdown); resolves when it is sent, has failed, or
   * after stopTimeoutMs, whichever comes first.
   */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    let timeout: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<'gave up'>((resolve) => {
      timeout = setTimeout(() => resolve('gave up'), this.#options.stopTimeoutMs ?? 5000);
    });
    const outcome = await Promise.race([this.report(), gaveUp]);
    clearTimeout(timeout);
    if (outcome === 'gave up') this.#logger.warn('last agent health report not acknowledged in time; shutting down without it');
  }

  /** Builds and sends one report now. Never rejects: a failure is logged and the next report supersedes it. */
  async report(): Promise<void> {
    let record: AgentHealthRecord;
    try {
      const sample = this.#options.sample();
      const atNs = this.#nowNs();
      const current = { acknowledged: sample.health.kafka.acknowledged, atNs };
      record = agentHealthRecord({ ...sample, reportedAtNs: atNs, eventsPerSecond: eventsPerSecond(this.#previous, current) });
      this.#previous = current;
    } catch (error) {
      this.#logger.error({ err: error }, 'agent health not built');
      return;
    }
    try {
      await this.#options.send(record);
    } catch (error) {
      this.#logger.warn({ err: error }, 'agent health not delivered; the next report supersedes it');
    }
  }
}
