/**
 * Tailing a topic for people and tools (`stinger events`, `stinger alerts`): a consumer of its own
 * throw-away group that starts at a point in time (or the end) and never commits, so tailing leaves no
 * trace in the cluster's consumer offsets beyond an empty group.
 */
import { randomUUID } from 'node:crypto';
import type { Consumer } from 'kafkajs';
import type { KafkaClient } from './client.ts';
import { toConsumedRecord, type ConsumedRecord } from './consumer.ts';
import { StingerKafkaError } from './errors.ts';

/** Disconnects a consumer of a throw-away group and deletes the group, so reading leaves nothing behind. */
export async function dropThrowawayConsumer(client: KafkaClient, consumer: Consumer, groupId: string): Promise<void> {
  await consumer.disconnect();
  const admin = client.kafka.admin();
  await admin.connect();
  await admin.deleteGroups([groupId]).catch(() => undefined);
  await admin.disconnect();
}

export interface TailOptions {
  readonly client: KafkaClient;
  readonly topic: string;
  /** Start at the first record at or after this time (ms since the epoch); 0: from the beginning; null: only new records. */
  readonly sinceMs: number | null;
  readonly onRecord: (record: ConsumedRecord) => void;
}

export interface Tail {
  stop(): Promise<void>;
}

export async function tailTopic(options: TailOptions): Promise<Tail> {
  const { client, topic, sinceMs, onRecord } = options;
  const groupId = `stinger-tail-${randomUUID()}`;
  const consumer = client.kafka.consumer({ groupId, readUncommitted: false, allowAutoTopicCreation: false });
  let starts: { partition: number; offset: string }[] = [];
  if (sinceMs !== null && sinceMs > 0) {
    const admin = client.kafka.admin();
    await admin.connect();
    try {
      starts = (await admin.fetchTopicOffsetsByTimestamp(topic, sinceMs)).map((p) => ({ partition: p.partition, offset: p.offset }));
    } finally {
      await admin.disconnect();
    }
  }
  await consumer.connect();
  // A new group has no offsets: fromBeginning decides where it starts.
  await consumer.subscribe({ topics: [topic], fromBeginning: sinceMs === 0 });
  // Per partition, where reading goes on: the start asked for, then after the last record handed on. Set at every
  // join, not once after run(): a consumer that crashed on a retriable error restarts without its seeks.
  const positions = new Map(starts.map((start) => [start.partition, start.offset]));
  consumer.on(consumer.events.GROUP_JOIN, () => {
    for (const [partition, offset] of positions) consumer.seek({ topic, partition, offset });
  });
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ topic: from, partition, message }) => {
      await client.wireFormat.learnIds([message.value]);
      positions.set(partition, (BigInt(message.offset) + 1n).toString());
      onRecord(toConsumedRecord(from, partition, message));
    },
  });
  return {
    stop: () => dropThrowawayConsumer(client, consumer, groupId),
  };
}

export interface ReadToEndOptions {
  readonly client: KafkaClient;
  readonly topic: string;
  readonly timeoutMs?: number;
  /** Start at the first record at or after this time (ms since the epoch) instead of the beginning. */
  readonly sinceMs?: number;
}

/**
 * Every record of `topic` from the beginning (or from `sinceMs`) up to the high watermarks taken at the call, in
 * offset order per partition (a compacted topic's current state: keep the last record per key). Used by
 * `stinger policy list`, by agents loading policies at start, and by the enforcer recognising alerts it handled.
 */
export async function readTopicToEnd(options: ReadToEndOptions): Promise<ConsumedRecord[]> {
  const { client, topic, timeoutMs = 30_000, sinceMs } = options;
  const admin = client.kafka.admin();
  await admin.connect();
  let ends: Map<number, bigint>;
  const starts = new Map<number, string>();
  try {
    if (!(await admin.listTopics()).includes(topic)) {
      throw new StingerKafkaError(`topic ${topic} does not exist (\`stinger up\` creates every topic)`, { retriable: false, topic });
    }
    const offsets = await admin.fetchTopicOffsets(topic);
    ends = new Map(offsets.filter((o) => BigInt(o.high) > BigInt(o.low)).map((o) => [o.partition, BigInt(o.high)]));
    if (sinceMs !== undefined) {
      // A partition with no record that new answers its end (-1 or the high watermark): nothing to read there.
      for (const start of await admin.fetchTopicOffsetsByTimestamp(topic, sinceMs)) {
        const end = ends.get(start.partition);
        if (end === undefined) continue;
        if (BigInt(start.offset) < 0n || BigInt(start.offset) >= end) ends.delete(start.partition);
        else starts.set(start.partition, start.offset);
      }
    }
  } finally {
    await admin.disconnect();
  }
  const records: ConsumedRecord[] = [];
  if (ends.size === 0) return records;
  const groupId = `stinger-read-${randomUUID()}`;
  const consumer = client.kafka.consumer({ groupId, readUncommitted: false, allowAutoTopicCreation: false });
  const remaining = new Map(ends);
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    // Every join, as tailTopic does: a consumer restarted after a retriable error loses its seeks.
    consumer.on(consumer.events.GROUP_JOIN, () => {
      for (const [partition, offset] of starts) consumer.seek({ topic, partition, offset });
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`reading ${topic} to its end took over ${timeoutMs} ms`)), timeoutMs);
      void consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            for (const message of batch.messages) {
              const record = toConsumedRecord(batch.topic, batch.partition, message);
              const end = ends.get(batch.partition);
              if (end !== undefined && record.offset < end) records.push(record);
            }
            // The last offset below the high watermark may be a transaction marker, never delivered: use the batch's.
            const end = ends.get(batch.partition);
            if (end !== undefined && BigInt(batch.highWatermark) >= end && BigInt(batch.lastOffset()) + 1n >= end) {
              remaining.delete(batch.partition);
            }
            if (remaining.size === 0) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await dropThrowawayConsumer(client, consumer, groupId);
  }
  await client.wireFormat.learnIds(records.map((record) => record.value));
  return records;
}

/** The latest record per key of a compacted topic's records; keys whose latest value is a tombstone are absent. */
export function latestByKey(records: readonly ConsumedRecord[]): Map<string, ConsumedRecord> {
  const latest = new Map<string, ConsumedRecord>();
  for (const record of records) {
    const key = record.key?.toString() ?? '';
    if (record.value === null) latest.delete(key);
    else latest.set(key, record);
  }
  return latest;
}

export interface ReadPartitionRangeOptions {
  readonly client: KafkaClient;
  readonly topic: string;
  readonly partition: number;
  /** First record: the first at or after this time (ms since the epoch); with sinceOffset, the later of the two. */
  readonly sinceMs?: number;
  /** First record: this offset (or the log's start if that is later); with sinceMs, the later of the two. */
  readonly sinceOffset?: bigint;
  /** Exclusive end offset: records before it are returned. */
  readonly untilOffset: bigint;
  /** Longest the read takes; what was read by then is returned. Default 10 s. */
  readonly timeoutMs?: number;
}

/**
 * The records of one partition from a point in time and/or an offset up to (not including) an offset, in offset
 * order. The detector rebuilds its windowed state with it, and the enricher its repeat filter: the input they had
 * processed before a restart or a partition move, re-read. Without sinceMs and sinceOffset it throws.
 * A consumer of a throw-away group that never commits; other partitions of the topic are left at their end.
 */
export async function readPartitionRange(options: ReadPartitionRangeOptions): Promise<ConsumedRecord[]> {
  const { client, topic, partition, sinceMs, sinceOffset, untilOffset, timeoutMs = 10_000 } = options;
  if (sinceMs === undefined && sinceOffset === undefined) throw new TypeError(`readPartitionRange of ${topic}[${partition}]: give sinceMs, sinceOffset or both`);
  const admin = client.kafka.admin();
  await admin.connect();
  let start: bigint;
  try {
    // A seek below the log's start would be reset to its end by the consumer: start at the low watermark at least.
    const low = BigInt((await admin.fetchTopicOffsets(topic)).find((p) => p.partition === partition)?.low ?? '0');
    start = sinceOffset !== undefined && sinceOffset > low ? sinceOffset : low;
    if (sinceMs !== undefined) {
      const byTime = BigInt((await admin.fetchTopicOffsetsByTimestamp(topic, sinceMs)).find((p) => p.partition === partition)?.offset ?? untilOffset.toString());
      // fetchTopicOffsetsByTimestamp answers the end offset (-1 or the high watermark) when no record is that new.
      if (byTime < 0n) return [];
      if (byTime > start) start = byTime;
    }
  } finally {
    await admin.disconnect();
  }
  if (start >= untilOffset) return [];
  const records: ConsumedRecord[] = [];
  const groupId = `stinger-range-${randomUUID()}`;
  const consumer = client.kafka.consumer({ groupId, readUncommitted: false, allowAutoTopicCreation: false });
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: false });
    await new Promise<void>((resolve, reject) => {
      // A range that ends in transaction markers only is never delivered: the timeout ends the read with what it has.
      const timer = setTimeout(resolve, timeoutMs);
      void consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            if (batch.partition !== partition) return;
            for (const message of batch.messages) {
              const record = toConsumedRecord(batch.topic, batch.partition, message);
              if (record.offset >= start && record.offset < untilOffset) records.push(record);
            }
            // Transaction markers are never delivered: the batch's last offset says how far the log was read.
            if (BigInt(batch.lastOffset()) + 1n >= untilOffset || BigInt(batch.highWatermark) <= BigInt(batch.lastOffset()) + 1n) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .then(() => consumer.seek({ topic, partition, offset: start.toString() }))
        .catch(reject);
    });
  } finally {
    await dropThrowawayConsumer(client, consumer, groupId);
  }
  await client.wireFormat.learnIds(records.map((record) => record.value));
  return records;
}
