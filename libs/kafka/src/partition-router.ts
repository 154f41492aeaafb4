/**
 * Every kafkajs send Stinger makes goes to one partition. Why: kafkajs 2.2.4's sendMessages keeps one response per
 * broker across its internal retries. When a partition's leader dies during a send that spans partitions on several
 * brokers, and the partition moves to a broker that had already answered for its other partitions, the retry skips
 * that broker and the send resolves without the moved partition's records (tulios/kafkajs issue 1303, open). Seen
 * here: integration-tests/kafka/broker-faults.test.ts, seq 400-409 of the agent whose partition leader was killed
 * were acknowledged and never written. A send to one partition has one leader in that map, so its retry reaches the
 * new leader. This applies inside transactions too: the same code sends a transaction's records.
 *
 * Contract: `split(topic, messages)` groups messages by the partition kafkajs's DefaultPartitioner (murmur2 of the
 * key, as the Java client) gives them for the topic's partition count, in their order within each partition; a
 * message with a partition keeps it; one without a key gets the next partition in turn. Each message comes back
 * with its partition set, so kafkajs does not choose again. Partition counts come from the brokers' metadata, cached
 * for COUNT_TTL_MS (a topic's partitions are added rarely, and a stale count sends a key where the old count put
 * it). A metadata failure rejects the split; the caller's send fails as it would have.
 */
import { Partitioners } from 'kafkajs';
import type { KafkaClient } from './client.ts';

const COUNT_TTL_MS = 60_000;
/** Only keyed messages reach it (splitByPartition turns the unkeyed itself), so its round-robin state is unused. */
const murmur2Partitioner = Partitioners.DefaultPartitioner();

export interface RoutableMessage {
  readonly key?: string | Buffer | null;
  readonly partition?: number;
}

export interface PartitionRouter {
  split<M extends RoutableMessage>(topic: string, messages: readonly M[]): Promise<Map<number, (M & { partition: number })[]>>;
}

/** Pure: the grouping for a known partition count (tested directly). `nextUnkeyed` turns for messages without a key. */
export function splitByPartition<M extends RoutableMessage>(
  messages: readonly M[],
  topic: { readonly name: string; readonly partitionCount: number },
  nextUnkeyed: () => number,
): Map<number, (M & { partition: number })[]> {
  const { partitionCount } = topic;
  const partitionMetadata = Array.from({ length: partitionCount }, (_, partitionId) => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [], isr: [] }));
  const byPartition = new Map<number, (M & { partition: number })[]>();
  for (const message of messages) {
    const partition =
      message.partition ??
      (message.key === null || message.key === undefined
        ? nextUnkeyed() % partitionCount
        : murmur2Partitioner({ topic: topic.name, partitionMetadata, message: { key: message.key, value: null } }));
    const routed = { ...message, partition };
    const list = byPartition.get(partition);
    if (list) list.push(routed);
    else byPartition.set(partition, [routed]);
  }
  return byPartition;
}

export function createPartitionRouter(client: KafkaClient): PartitionRouter {
  const counts = new Map<string, { count: number; atMs: number }>();
  let unkeyed = 0;

  async function partitionCount(topic: string): Promise<number> {
    const cached = counts.get(topic);
    if (cached && Date.now() - cached.atMs < COUNT_TTL_MS) return cached.count;
    const admin = client.kafka.admin();
    try {
      await admin.connect();
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
      const count = topics[0]?.partitions.length ?? 0;
      if (count === 0) throw new Error(`topic ${topic} has no partitions in the brokers' metadata`);
      counts.set(topic, { count, atMs: Date.now() });
      return count;
    } finally {
      await admin.disconnect();
    }
  }

  return {
    /** Resolves the grouping; see the header. */
    async split(topic, messages) {
      const count = messages.every((m) => m.partition !== undefined) ? 1 : await partitionCount(topic);
      return splitByPartition(messages, { name: topic, partitionCount: count }, () => unkeyed++);
    },
  };
}
