/**
 * Reading a bounded range of a topic, seeking by time (`stinger events`/`alerts` without --follow, `stinger replay`,
 * `stinger export`): what `kcat -o s@T -o e@T -e` does.
 *
 * Contract:
 *  - `planTopicRange` fixes the range once, per partition: from the first offset whose timestamp is at or after
 *    `fromMs` (the log start without it) to the first offset at or after `toMs` (exclusive; without it, the end
 *    offset at the call). Records appended later are not read, so a read always ends.
 *  - `readTopicRange` streams the range: `onBatch` gets each fetched batch's records of the range, in offset order
 *    per partition (partitions interleave), and is awaited before the next fetch (nothing is buffered beyond one
 *    fetch). It resolves once every partition reached its end, or when `signal` aborts; it rejects with what
 *    `onBatch` threw.
 *  - Reads read_committed (aborted transactional records are never seen) with a consumer of a throw-away group that
 *    never commits and is deleted at the end: reading writes nothing to any topic.
 */
import { randomUUID } from 'node:crypto';
import type { KafkaClient } from './client.ts';
import { toConsumedRecord, type ConsumedRecord } from './consumer.ts';
import { StingerKafkaError } from './errors.ts';
import { dropThrowawayConsumer } from './tail.ts';

export interface PartitionRange {
  readonly partition: number;
  /** First offset of the range. */
  readonly start: bigint;
  /** Exclusive end offset. */
  readonly end: bigint;
}

export interface TopicRange {
  readonly topic: string;
  readonly partitions: readonly PartitionRange[];
  /** Offsets in the range over all partitions (records, plus the transaction markers among them). */
  readonly offsets: bigint;
}

export interface PlanTopicRangeOptions {
  readonly client: KafkaClient;
  readonly topic: string;
  /** ms since the epoch; null: from the oldest retained record. */
  readonly fromMs: number | null;
  /** ms since the epoch, exclusive; null: up to the end offsets at the call. */
  readonly toMs: number | null;
}

export async function planTopicRange(options: PlanTopicRangeOptions): Promise<TopicRange> {
  const { client, topic, fromMs, toMs } = options;
  const admin = client.kafka.admin();
  await admin.connect();
  try {
    if (!(await admin.listTopics()).includes(topic)) {
      throw new StingerKafkaError(`topic ${topic} does not exist (\`stinger up\` creates every topic)`, { retriable: false, topic });
    }
    const bounds = await admin.fetchTopicOffsets(topic);
    // fetchTopicOffsetsByTimestamp answers the high watermark for a partition with no record that new.
    const byTime = async (ms: number | null): Promise<Map<number, bigint> | null> =>
      ms === null ? null : new Map((await admin.fetchTopicOffsetsByTimestamp(topic, ms)).map((p) => [p.partition, BigInt(p.offset)]));
    const starts = await byTime(fromMs);
    const ends = await byTime(toMs);
    const partitions = bounds
      .map((b): PartitionRange => {
        const low = BigInt(b.low);
        const high = BigInt(b.high);
        const start = starts?.get(b.partition) ?? low;
        const end = ends?.get(b.partition) ?? high;
        const clampedStart = start < low ? low : start;
        const clampedEnd = end > high ? high : end;
        return { partition: b.partition, start: clampedStart, end: clampedEnd < clampedStart ? clampedStart : clampedEnd };
      })
      .sort((a, b) => a.partition - b.partition);
    return { topic, partitions, offsets: partitions.reduce((sum, p) => sum + (p.end - p.start), 0n) };
  } finally {
    await admin.disconnect();
  }
}

export interface RangeProgress {
  /** Offsets of the range read so far, over all partitions. */
  readonly offsetsRead: bigint;
  readonly offsets: bigint;
}

export interface ReadTopicRangeOptions {
  readonly client: KafkaClient;
  readonly range: TopicRange;
  readonly onBatch: (records: readonly ConsumedRecord[], progress: RangeProgress) => void | Promise<void>;
  /** Ends the read early (a --limit reached, Ctrl-C); the promise then resolves. */
  readonly signal?: AbortSignal;
}

/** Fetch sizes for bulk reading: larger fetches than kafkajs's defaults (1 MiB per partition) mean fewer round trips. */
const MAX_BYTES_PER_PARTITION = 8 * 1024 * 1024;
const MAX_BYTES = 32 * 1024 * 1024;

/** How many offsets of a partition's range lie before `next`. */
function coveredOf(part: PartitionRange, next: bigint): bigint {
  if (next <= part.start) return 0n;
  return (next > part.end ? part.end : next) - part.start;
}

export async function readTopicRange(options: ReadTopicRangeOptions): Promise<void> {
  const { client, range, onBatch, signal } = options;
  const { topic } = range;
  const pending = new Map(range.partitions.filter((p) => p.end > p.start).map((p) => [p.partition, p]));
  if (pending.size === 0 || signal?.aborted) return;
  const read = new Map<number, bigint>(range.partitions.map((p) => [p.partition, 0n]));
  /** Per partition, the offset after the last record handed to onBatch: where a restarted consumer resumes. */
  const delivered = new Map<number, bigint>(range.partitions.map((p) => [p.partition, p.start]));
  let offsetsRead = 0n;
  const groupId = `stinger-range-${randomUUID()}`;
  const consumer = client.kafka.consumer({
    groupId,
    readUncommitted: false,
    allowAutoTopicCreation: false,
    maxBytesPerPartition: MAX_BYTES_PER_PARTITION,
    maxBytes: MAX_BYTES,
    maxWaitTimeInMs: 500,
  });
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      let failed = false;
      const finish = (): void => {
        signal?.removeEventListener('abort', finish);
        resolve();
      };
      signal?.addEventListener('abort', finish, { once: true });
      /** Marks a partition read up to `next` (exclusive); done partitions are paused, so they are fetched no more. */
      const advance = (partition: number, next: bigint): void => {
        const part = pending.get(partition);
        if (part === undefined) return;
        const covered = coveredOf(part, next);
        const before = read.get(partition) ?? 0n;
        if (covered <= before) return;
        offsetsRead += covered - before;
        read.set(partition, covered);
        if (covered === part.end - part.start) {
          pending.delete(partition);
          consumer.pause([{ topic, partitions: [partition] }]);
          if (pending.size === 0) finish();
        }
      };
      // Positions are set at every join, not once after run(): a consumer that crashes on a retriable error (the
      // group coordinator still loading on a fresh broker) restarts with a new group state, without the seeks.
      consumer.on(consumer.events.GROUP_JOIN, () => {
        for (const partition of range.partitions) {
          const next = delivered.get(partition.partition);
          if (pending.has(partition.partition) && next !== undefined) consumer.seek({ topic, partition: partition.partition, offset: next.toString() });
          else consumer.pause([{ topic, partitions: [partition.partition] }]);
        }
      });
      // Batches of transaction markers only are never handed to eachBatch; this event still says how far the log was read.
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        if (payload.topic === topic) advance(payload.partition, BigInt(payload.lastOffset) + 1n);
      });
      void consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            const part = pending.get(batch.partition);
            if (part === undefined || signal?.aborted || failed) return;
            const from = delivered.get(batch.partition) ?? part.start;
            const records: ConsumedRecord[] = [];
            for (const message of batch.messages) {
              const record = toConsumedRecord(batch.topic, batch.partition, message);
              if (record.offset >= from && record.offset < part.end) records.push(record);
            }
            const last = records[records.length - 1];
            if (last === undefined) return;
            delivered.set(batch.partition, last.offset + 1n);
            const next = BigInt(batch.messages[batch.messages.length - 1]?.offset ?? last.offset) + 1n;
            const ahead = coveredOf(part, next) - (read.get(batch.partition) ?? 0n);
            try {
              await client.wireFormat.learnIds(records.map((record) => record.value));
              await onBatch(records, { offsetsRead: offsetsRead + (ahead > 0n ? ahead : 0n), offsets: range.offsets });
            } catch (error) {
              // The handler's failure ends the read (kafkajs would log it and fetch the batch again, forever).
              failed = true;
              reject(error);
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await dropThrowawayConsumer(client, consumer, groupId);
  }
}
