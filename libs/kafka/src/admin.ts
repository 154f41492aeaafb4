/**
 * Topic bootstrap: creates every topic of the table that is missing, with its partitions and configs.
 * Idempotent; `stinger up`, services at start and tests call it. Existing topics are left as they are,
 * but a compacted topic that is not compacted is refused, since policies depend on it.
 */
import { AssignerProtocol } from 'kafkajs';
import { namespaced } from '@stinger/log';
import type { KafkaClient } from './client.ts';
import { TopicBootstrapError } from './errors.ts';
import { TOPIC_IDS, TOPICS, topicName, topicPartitionCounts, type TopicId } from './topics.ts';

export interface BootstrapTopicsOptions {
  readonly client: KafkaClient;
  readonly prefix?: string;
  readonly topics?: readonly TopicId[];
  /**
   * Replication factor for new topics (STINGER_TOPIC_REPLICATION_FACTOR); 1 on a single local broker, 3 on a cluster.
   * Their min.insync.replicas follows from it (minInsyncReplicasFor).
   */
  readonly replicationFactor?: number;
  /** Partitions of new topics by name without the prefix, replacing the table's (STINGER_TOPIC_PARTITIONS). */
  readonly partitions?: Readonly<Record<string, number>>;
}

export interface BootstrapResult {
  readonly created: readonly string[];
  readonly existing: readonly string[];
}

export async function bootstrapTopics(options: BootstrapTopicsOptions): Promise<BootstrapResult> {
  const { client, prefix = '', topics = TOPIC_IDS, replicationFactor = 1 } = options;
  const logger = namespaced(client.logger, 'TopicBootstrap');
  let partitions: Readonly<Record<TopicId, number>>;
  try {
    partitions = topicPartitionCounts(options.partitions);
  } catch (error) {
    throw new TopicBootstrapError((error as Error).message, { retriable: false, cause: error });
  }
  const admin = client.kafka.admin();
  try {
    await admin.connect();
    const present = new Set(await admin.listTopics());
    const missing = topics.filter((id) => !present.has(topicName(id, prefix)));
    // Retried while the broker answers with a retriable error: waiting for the new partitions' leaders, a broker that
    // has just started was seen to answer "This server does not host this topic-partition". A retry creates only what
    // is still missing.
    if (missing.length > 0) {
      await retryRetriable(async () => {
        const created = new Set(await admin.listTopics());
        const still = missing.filter((id) => !created.has(topicName(id, prefix)));
        if (still.length === 0) return;
        await admin.createTopics({
          waitForLeaders: true,
          topics: still.map((id) => ({
            topic: topicName(id, prefix),
            numPartitions: partitions[id],
            replicationFactor,
            configEntries: Object.entries({ ...TOPICS[id].configs, 'min.insync.replicas': String(minInsyncReplicasFor(replicationFactor)) }).map(([name, value]) => ({ name, value })),
          })),
        });
      });
    }
    const existing = topics.filter((id) => present.has(topicName(id, prefix)));
    await checkCompaction(admin, existing.filter((id) => TOPICS[id].configs['cleanup.policy'] === 'compact'), prefix);
    const result = { created: missing.map((id) => topicName(id, prefix)), existing: existing.map((id) => topicName(id, prefix)) };
    logger.info(result, 'topics ready');
    return result;
  } catch (error) {
    if (error instanceof TopicBootstrapError) throw error;
    throw new TopicBootstrapError(`could not create topics: ${(error as Error).message}`, { cause: error });
  } finally {
    await admin.disconnect();
  }
}

/**
 * min.insync.replicas of the topics bootstrapTopics creates: with three copies or more, an acks=all write (every
 * Stinger producer's) is acknowledged once two hold it, so one broker may die without losing it and a second dying
 * stalls writes instead of keeping a single copy; fewer copies: 1. Set per topic, so an external cluster's broker
 * default does not decide it.
 */
export function minInsyncReplicasFor(replicationFactor: number): number {
  return replicationFactor >= 3 ? 2 : 1;
}

async function checkCompaction(admin: ReturnType<KafkaClient['kafka']['admin']>, ids: readonly TopicId[], prefix: string): Promise<void> {
  if (ids.length === 0) return;
  // ConfigResourceTypes.TOPIC = 2 in the Kafka protocol.
  const described = await admin.describeConfigs({
    includeSynonyms: false,
    resources: ids.map((id) => ({ type: 2, name: topicName(id, prefix), configNames: ['cleanup.policy'] })),
  });
  for (const resource of described.resources) {
    const policy = resource.configEntries.find((entry) => entry.configName === 'cleanup.policy')?.configValue;
    if (policy === undefined || !policy.split(',').includes('compact')) {
      throw new TopicBootstrapError(`topic ${resource.resourceName} exists with cleanup.policy=${policy ?? 'unset'}, expected compact`, {
        retriable: false,
        topic: resource.resourceName,
      });
    }
  }
}

/** Creates ad-hoc topics (tests, replay targets) with the given partitions; existing ones are kept. */
export async function createTopics(
  client: KafkaClient,
  topics: readonly { readonly topic: string; readonly partitions?: number; readonly configs?: Readonly<Record<string, string>> }[],
): Promise<void> {
  const admin = client.kafka.admin();
  try {
    await admin.connect();
    const present = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !present.has(t.topic));
    if (missing.length === 0) return;
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((t) => ({
        topic: t.topic,
        numPartitions: t.partitions ?? 1,
        replicationFactor: 1,
        configEntries: Object.entries(t.configs ?? {}).map(([name, value]) => ({ name, value })),
      })),
    });
  } catch (error) {
    throw new TopicBootstrapError(`could not create topics: ${(error as Error).message}`, { cause: error });
  } finally {
    await admin.disconnect();
  }
}

export interface PartitionReplicas {
  readonly partition: number;
  /** Node id of the partition's leader (-1 when it has none). */
  readonly leader: number;
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
}

/** Leader, replicas and in-sync replicas of each partition of `topic`, by partition number (fresh metadata). */
export async function fetchPartitionReplicas(client: KafkaClient, topic: string): Promise<PartitionReplicas[]> {
  const admin = client.kafka.admin();
  try {
    await admin.connect();
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    return (topics[0]?.partitions ?? [])
      .map((p) => ({ partition: p.partitionId, leader: p.leader, replicas: [...p.replicas], isr: [...p.isr] }))
      .sort((a, b) => a.partition - b.partition);
  } finally {
    await admin.disconnect();
  }
}

export interface TopicOffsets {
  readonly topic: string;
  readonly partitions: readonly { readonly partition: number; readonly low: bigint; readonly high: bigint }[];
}

/**
 * Runs `operation` again while it fails with a retriable error (a leader moving, metadata not yet
 * propagated after a topic was created), up to `attempts` times with a short pause.
 */
export async function retryRetriable<T>(operation: () => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await operation();
    } catch (error) {
      const retriable = typeof error === 'object' && error !== null && 'retriable' in error && error.retriable === true;
      if (!retriable || attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
  }
}

/**
 * Low watermark and end per partition (used by `stinger status` and tests). kafkajs asks ListOffsets read_committed,
 * so `high` is the last stable offset: the first offset of the earliest open transaction, else the high watermark.
 */
export async function fetchTopicOffsets(client: KafkaClient, topic: string): Promise<TopicOffsets> {
  const admin = client.kafka.admin();
  try {
    await admin.connect();
    const offsets = await retryRetriable(() => admin.fetchTopicOffsets(topic));
    return {
      topic,
      partitions: offsets.map((o) => ({ partition: o.partition, low: BigInt(o.low), high: BigInt(o.high) })),
    };
  } finally {
    await admin.disconnect();
  }
}

/** A group's committed offset per partition of `topic` (the next record it reads); partitions it never committed are absent. */
export async function fetchCommittedOffsets(client: KafkaClient, groupId: string, topic: string): Promise<Map<number, bigint>> {
  const admin = client.kafka.admin();
  try {
    await admin.connect();
    const [offsets] = await retryRetriable(() => admin.fetchOffsets({ groupId, topics: [topic] }));
    return new Map((offsets?.partitions ?? []).filter((p) => BigInt(p.offset) >= 0n).map((p) => [p.partition, BigInt(p.offset)]));
  } finally {
    await admin.disconnect();
  }
}

export interface ConsumerLag {
  readonly groupId: string;
  readonly topic: string;
  /** Records not yet consumed: the high watermark minus the committed offset, summed over partitions (a partition
   * with no committed offset counts from its low watermark). Transaction markers make it at most a few too high. */
  readonly lag: bigint;
  /** False when the group has committed nothing for the topic (never ran, or nothing consumed yet). */
  readonly committed: boolean;
}

/** One member of a consumer group, as the group's coordinator describes it. */
export interface GroupMember {
  readonly groupId: string;
  /** The member's client id (`<KAFKA_CLIENT_ID>-<role>` for Stinger's clients). */
  readonly clientId: string;
  /** The address the broker sees the member connect from (kafkajs's leading slash dropped). */
  readonly clientHost: string;
  /** The topics the member subscribed to (from its join metadata; empty when that is not a consumer's). */
  readonly topics: readonly string[];
}

/**
 * Every member of every consumer group the cluster knows (`stinger status`: which clients are connected and
 * consuming, wherever they run). Groups without members (stopped consumers, committed offsets only) add nothing.
 */
export async function fetchGroupMembers(client: KafkaClient): Promise<GroupMember[]> {
  const admin = client.kafka.admin();
  try {
    await admin.connect();
    const { groups } = await retryRetriable(() => admin.listGroups());
    if (groups.length === 0) return [];
    const described = await retryRetriable(() => admin.describeGroups(groups.map((g) => g.groupId)));
    return described.groups.flatMap((group) =>
      group.members.map((member) => ({
        groupId: group.groupId,
        clientId: member.clientId,
        clientHost: member.clientHost.replace(/^\//, ''),
        topics: group.protocolType === 'consumer' ? subscribedTopics(member.memberMetadata) : [],
      })),
    );
  } finally {
    await admin.disconnect();
  }
}

function subscribedTopics(metadata: Buffer): string[] {
  try {
    return AssignerProtocol.MemberMetadata.decode(metadata)?.topics ?? [];
  } catch {
    return [];
  }
}

/** How far consumer group `groupId` is behind on `topic` (`stinger status`). */
export async function fetchConsumerLag(client: KafkaClient, groupId: string, topic: string): Promise<ConsumerLag> {
  const admin = client.kafka.admin();
  try {
    await admin.connect();
    const ends = await retryRetriable(() => admin.fetchTopicOffsets(topic));
    const [committed] = await retryRetriable(() => admin.fetchOffsets({ groupId, topics: [topic] }));
    const byPartition = new Map((committed?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
    let lag = 0n;
    let any = false;
    for (const end of ends) {
      const offset = byPartition.get(end.partition) ?? -1n;
      if (offset >= 0n) any = true;
      lag += BigInt(end.high) - (offset >= 0n ? offset : BigInt(end.low));
    }
    return { groupId, topic, lag, committed: any };
  } finally {
    await admin.disconnect();
  }
}

/**
 * Moves consumer group `groupId`'s committed offsets on `topics` to the first record at or after `sinceMs` (the end
 * where no record is that new), so the group's next start reads from that time. The console calls it at start when
 * its store is empty: a new store is filled with the retention window, whatever the group read before.
 * The group must have no running member (Kafka refuses otherwise); the caller starts its consumer afterwards.
 */
export async function resetGroupOffsetsToTime(client: KafkaClient, group: { readonly groupId: string; readonly topics: readonly string[] }, sinceMs: number): Promise<void> {
  const { groupId, topics } = group;
  const admin = client.kafka.admin();
  try {
    await admin.connect();
    for (const topic of topics) {
      const partitions = await retryRetriable(() => admin.fetchTopicOffsetsByTimestamp(topic, sinceMs));
      await admin.setOffsets({ groupId, topic, partitions: partitions.map((p) => ({ partition: p.partition, offset: p.offset })) });
    }
  } finally {
    await admin.disconnect();
  }
}
