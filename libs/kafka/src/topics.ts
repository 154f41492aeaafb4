/**
 * The one table of Stinger's topics (docs/topics.md). Every producer, consumer, the topic
 * bootstrap and the docs take names and settings from here; nothing else spells a topic name.
 */

export const TOPIC_IDS = [
  'eventsRaw',
  'events',
  'alerts',
  'control',
  'controlAcks',
  'enforcements',
  'policies',
  'policyStatus',
  'agents',
  'dlq',
] as const;

export type TopicId = (typeof TOPIC_IDS)[number];

export interface TopicSpec {
  /** Name without the configurable prefix. */
  readonly name: string;
  readonly partitions: number;
  /** What the record key is; partitioning follows it. */
  readonly key: string;
  /** Avro record name (schemas/) carried in the value, single-object encoded (or registry-framed, see below). */
  readonly valueSchema: string;
  /**
   * True when a signature covers the value's bytes (libs/trust): such values stay single-object encoded in registry
   * mode too, as re-framing would break the signature.
   */
  readonly signedValue?: boolean;
  /** Broker topic configs applied at creation. */
  readonly configs: Readonly<Record<string, string>>;
}

const DAY_MS = 24 * 60 * 60 * 1000;

export const TOPICS: Readonly<Record<TopicId, TopicSpec>> = Object.freeze({
  eventsRaw: {
    name: 'stinger.events.raw',
    partitions: 6,
    key: 'node name',
    valueSchema: 'RawEvent',
    configs: { 'retention.ms': String(3 * DAY_MS), 'compression.type': 'producer' },
  },
  events: {
    name: 'stinger.events',
    partitions: 6,
    key: 'node name',
    valueSchema: 'Event',
    configs: { 'retention.ms': String(7 * DAY_MS), 'compression.type': 'producer' },
  },
  alerts: {
    name: 'stinger.alerts',
    partitions: 3,
    key: 'pod uid, or node name for host processes',
    valueSchema: 'Alert',
    configs: { 'retention.ms': String(30 * DAY_MS) },
  },
  control: {
    name: 'stinger.control',
    partitions: 3,
    key: 'node name',
    valueSchema: 'ControlCommand',
    configs: { 'retention.ms': String(DAY_MS) },
  },
  controlAcks: {
    name: 'stinger.control.acks',
    partitions: 3,
    key: 'node name',
    valueSchema: 'ControlAck',
    configs: { 'retention.ms': String(DAY_MS) },
  },
  enforcements: {
    name: 'stinger.enforcements',
    partitions: 3,
    key: 'alert id',
    valueSchema: 'Enforcement',
    configs: { 'retention.ms': String(30 * DAY_MS) },
  },
  policies: {
    name: 'stinger.policies',
    partitions: 1,
    key: 'policy name',
    valueSchema: 'CompiledPolicy',
    signedValue: true,
    // Compacted: the latest record per policy name is the policy; a tombstone (null value) deletes it.
    configs: { 'cleanup.policy': 'compact', 'min.compaction.lag.ms': '0', 'segment.ms': String(DAY_MS) },
  },
  policyStatus: {
    name: 'stinger.policies.status',
    partitions: 1,
    key: '<node>/<policy key>',
    valueSchema: 'PolicyStatus',
    // Compacted: the latest status of each policy on each node; a tombstone when the node dropped it.
    configs: { 'cleanup.policy': 'compact', 'min.compaction.lag.ms': '0', 'segment.ms': String(DAY_MS) },
  },
  agents: {
    name: 'stinger.agents',
    partitions: 1,
    key: 'node name',
    valueSchema: 'AgentHealth',
    // Compacted: the latest health of each node's agent; a console reads every node's from the start.
    configs: { 'cleanup.policy': 'compact', 'min.compaction.lag.ms': '0', 'segment.ms': String(DAY_MS) },
  },
  dlq: {
    name: 'stinger.dlq',
    partitions: 1,
    key: 'source topic',
    valueSchema: 'DeadLetter',
    configs: { 'retention.ms': String(30 * DAY_MS) },
  },
});

/** The broker-side name of a topic under a prefix (STINGER_TOPIC_PREFIX; empty by default). */
export function topicName(id: TopicId, prefix = ''): string {
  return `${prefix}${TOPICS[id].name}`;
}

/**
 * Partitions per topic: the table's, replaced by `overrides` (STINGER_TOPIC_PARTITIONS, keyed by name without the
 * prefix). A name that is no topic of the table is refused: a typo would otherwise leave a topic at its default.
 */
export function topicPartitionCounts(overrides: Readonly<Record<string, number>> = {}): Readonly<Record<TopicId, number>> {
  const known = new Set(TOPIC_IDS.map((id) => TOPICS[id].name));
  const unknown = Object.keys(overrides).filter((name) => !known.has(name));
  if (unknown.length > 0) {
    throw new RangeError(`STINGER_TOPIC_PARTITIONS: ${unknown.join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not a topic of Stinger (${[...known].join(', ')})`);
  }
  return Object.fromEntries(TOPIC_IDS.map((id) => [id, overrides[TOPICS[id].name] ?? TOPICS[id].partitions])) as Record<TopicId, number>;
}
