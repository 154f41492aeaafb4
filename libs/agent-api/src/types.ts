/**
 * What the agent tells its local API and metrics: plain objects the agent fills from its parts
 * (EventPublisher.stats(), RingBufferReader.stats(), Sensor.lostRecords(), ProcessCache.stats(),
 * probeFeatures(), NodePolicies.statuses()). Counts are numbers: none of them gets near 2^53 in an agent's life.
 */
import { LOSS_CAUSE_SYMBOLS, POLICY_STATE_SYMBOLS, type LossCause, type PolicyState, type PolicyStatus, type SensorState } from '@stinger/events';

// The enums the agent also publishes in its AgentHealth record (schemas/AgentHealth.avsc) are the schema's.
export type { LossCause, PolicyState, SensorState };

export interface SensorHealth {
  readonly name: string;
  readonly state: SensorState;
  /** Why it is unavailable (the failing step and errno); null otherwise. */
  readonly reason: string | null;
  /** How a loaded sensor sees the kernel (lsm, kprobe, tracepoint, fanotify: chooseSensorMode in @stinger/bpf); null for features. */
  readonly mode: string | null;
}

/**
 * ring_full: the BPF program found the ring buffer full (Sensor.lostRecords());
 * shed: an audit-only record not kept, on purpose, because the ring was filling (a sensor's: its last quarter is kept
 * for records of kills, denials and process life cycle; Sensor.shedRecords(), bpf/README.md) or the agent's spool
 * was (`publisher`: PublisherStats.shed);
 * user_space: dropped by the agent's reader (RingBufferStats.droppedInUserSpace);
 * spool_full: Kafka away and the on-disk spool full (PublisherStats.lost);
 * rate_limited: refused on purpose by a per-cgroup rate limit in the kernel (the egress parser's).
 */
export const LOSS_CAUSES: readonly LossCause[] = LOSS_CAUSE_SYMBOLS;

export interface LostRecordsCount {
  /** The sensor the records were lost from; `publisher` for spool loss. */
  readonly sensor: string;
  readonly cause: LossCause;
  /** Cumulative since the agent started. */
  readonly count: number;
}

export interface KafkaHealth {
  readonly mode: 'direct' | 'spooling';
  readonly published: number;
  readonly acknowledged: number;
  readonly spooled: number;
  readonly spoolBytes: number;
}

export interface ProcessCacheHealth {
  readonly live: number;
  readonly exited: number;
  readonly misses: number;
}

export interface AgentHealth {
  readonly agentId: string;
  readonly node: string;
  readonly uptimeSeconds: number;
  readonly sensors: readonly SensorHealth[];
  readonly lostRecords: readonly LostRecordsCount[];
  /** Records accepted by the publisher, not yet acknowledged by Kafka (producer queue + spool): PublisherStats.queued. */
  readonly queueDepth: number;
  readonly kafka: KafkaHealth;
  readonly processCache: ProcessCacheHealth;
}

/** What GetHealth answers: the agent's health plus the API server's own stream figures. */
export interface AgentHealthReport extends AgentHealth {
  /** Open GetEvents streams. */
  readonly eventStreams: number;
  /** Events dropped for slow GetEvents clients since the server started. */
  readonly eventStreamDropped: number;
}

export type PolicyMode = 'enforce' | 'monitor';
/** applied: every kernel rule is in force; partial: some kernel rules could not be loaded (see messages); rejected: nothing of it is. */
export const POLICY_STATES: readonly PolicyState[] = POLICY_STATE_SYMBOLS;

export interface PolicyStatusView {
  readonly name: string;
  readonly generation: number;
  /** Null when the agent cannot tell (a record it rejected). */
  readonly mode: PolicyMode | null;
  readonly state: PolicyState;
  /** Rules compiled into BPF maps. */
  readonly kernelRules: number;
  /** Rules the agent's pipeline evaluates in user space. */
  readonly pipelineRules: number;
  readonly messages: readonly string[];
}

/**
 * Filled by the agent; called on every GetHealth / ListPolicies and at every metrics scrape, so each
 * call must be cheap and synchronous (read counters, never touch the kernel or the network).
 */
export interface AgentApiSources {
  health(): AgentHealth;
  policies(): readonly PolicyStatusView[];
  /** Cumulative network traffic per cgroup (the flow counters), when the agent attached them. */
  flows?(): readonly CgroupFlow[];
  /** Cumulative count of file-event paths by how they were made absolute (EventBuilder stats). */
  filePaths?(): FilePathCounts;
  /** The file guard's cumulative counts, when it runs (enforcement by file identity). */
  fileGuard?(): FileGuardCounts;
}

/** Permission events the file guard answered, and what it holds (libs/file-guard's counters). */
export interface FileGuardCounts {
  readonly allowed: number;
  readonly denied: number;
  readonly killed: number;
  /** Answers that took longer than the guard's slow-answer threshold (10 ms): the opener waited that long. */
  readonly slowAnswers: number;
  /** Sum of answer times, microseconds (divided by the answers: the mean wait of an open of a marked file). */
  readonly answerMicros: number;
  /** Events on a file below a marked directory the guard could not place in any root (allowed). */
  readonly unresolved: number;
  readonly errors: number;
  /** Inodes and file systems marked now. */
  readonly marks: number;
  readonly digests: number;
}

/** File-event paths walked with symlinks followed, and those normalised as strings only. */
export interface FilePathCounts {
  readonly followed: number;
  readonly lexical: number;
}

/** Bytes and packets a cgroup (a container, a systemd unit) sent or received since the counters were attached. */
export interface CgroupFlow {
  /** cgroup v2 path, or the numeric id when the path is no longer known. */
  readonly cgroup: string;
  readonly direction: 'ingress' | 'egress';
  readonly bytes: number;
  readonly packets: number;
}

/** Feature availability as probeFeatures() reports it (FeatureReport in @stinger/bpf), structurally. */
export type FeatureAvailability = Readonly<Record<string, { readonly available: boolean; readonly reason?: string }>>;

/**
 * The sensors list of AgentHealth: the loaded sensors with the mode each runs in (`modeOf`, from the agent's choice
 * per sensor; null without it), then one entry per probed kernel feature (`feature:<name>`) so a node's health says
 * what the kernel refused and why.
 */
export function sensorHealthOf(options: {
  readonly loaded: readonly string[];
  readonly features: FeatureAvailability;
  readonly modeOf?: (sensor: string) => string | null;
}): SensorHealth[] {
  const loaded: SensorHealth[] = options.loaded.map((name) => ({ name, state: 'loaded', reason: null, mode: options.modeOf?.(name) ?? null }));
  const features: SensorHealth[] = Object.entries(options.features).map(([name, status]) =>
    status.available
      ? { name: `feature:${name}`, state: 'available', reason: null, mode: null }
      : { name: `feature:${name}`, state: 'unavailable', reason: status.reason ?? 'unavailable', mode: null },
  );
  return [...loaded, ...features];
}

/** A loaded or unavailable sensor's kernel counters (Sensor in @stinger/bpf), structurally. */
export interface SensorLossCounters {
  readonly name: string;
  lostRecords(): bigint;
  shedRecords(): bigint;
}

/**
 * The kernel's part of AgentHealth.lostRecords: per sensor, the records its programs could not write to the shared
 * ring (ring_full) and the audit-only records they shed while it filled (shed). Every sensor gets both entries, an
 * unavailable one with 0, so a reader sees the same list on every node.
 */
export function kernelLossCounts(sensors: readonly SensorLossCounters[]): LostRecordsCount[] {
  return sensors.flatMap((sensor) => [
    { sensor: sensor.name, cause: 'ring_full' as const, count: Number(sensor.lostRecords()) },
    { sensor: sensor.name, cause: 'shed' as const, count: Number(sensor.shedRecords()) },
  ]);
}

/** The view of a PolicyStatus as NodePolicies reports it; `mode` comes from the policy itself. */
export function policyStatusView(status: PolicyStatus, mode: PolicyMode | null): PolicyStatusView {
  return {
    name: status.policy,
    generation: Number(status.generation),
    mode,
    state: status.state,
    kernelRules: status.kernel_rules,
    pipelineRules: status.pipeline_rules,
    messages: status.messages,
  };
}
