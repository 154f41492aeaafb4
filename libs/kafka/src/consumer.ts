/**
 * Consumer helpers: a consumer-group reader that hands batches of plain records to a handler.
 *
 * Contract: reads read_committed by default (aborted transactional records are never seen); offsets
 * of a batch are committed only after the handler resolved, so a crash re-delivers rather than
 * loses (at least once). For exactly-once pipelines use `createTransactionalTransform`.
 */
import type { Consumer, KafkaMessage } from 'kafkajs';
import { namespaced } from '@stinger/log';
import type { HealthCheck } from '@stinger/metrics';
import type { KafkaClient } from './client.ts';
import { STUCK_AFTER_MS, trackConsumerHealth } from './consumer-health.ts';
import { StingerKafkaError } from './errors.ts';

/** A record as read from Kafka, with offsets as bigint (Kafka offsets are int64). */
export interface ConsumedRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Readonly<Record<string, Buffer | undefined>>;
  /** Broker or producer timestamp, ms since the epoch. */
  readonly timestampMs: number;
}

export function toConsumedRecord(topic: string, partition: number, message: KafkaMessage): ConsumedRecord {
  const headers: Record<string, Buffer | undefined> = {};
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    const first = Array.isArray(value) ? value[0] : value;
    headers[name] = first === undefined ? undefined : Buffer.isBuffer(first) ? first : Buffer.from(first);
  }
  return {
    topic,
    partition,
    offset: BigInt(message.offset),
    key: message.key,
    value: message.value,
    headers,
    timestampMs: Number(message.timestamp),
  };
}

export interface CreateConsumerOptions {
  readonly client: KafkaClient;
  readonly groupId: string;
  readonly topics: readonly string[];
  readonly fromBeginning?: boolean;
  readonly readCommitted?: boolean;
  readonly handleBatch: (records: readonly ConsumedRecord[]) => Promise<void>;
  /** Called when the consumer (re)joined its group: the partitions it reads may have changed. */
  readonly onGroupJoin?: () => void;
  /**
   * Commit the handled offsets at most this often (after a batch once the interval has passed, on a timer while no
   * batch comes, and on stop); absent: after every batch. Only for a handler that recognises records it already
   * handled: after a crash, up to this much is given again. (kafkajs's own autoCommitInterval does not do this: its
   * runner commits after every batch whatever the interval.)
   */
  readonly commitIntervalMs?: number;
}

export interface StingerConsumer {
  readonly consumer: Consumer;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Ready once joined to its group; not live when its batch handler is stuck (consumer-health.ts). */
  health(): HealthCheck;
}

/** A partition's next offset to read, as kafkajs's commitOffsets takes it. */
export interface PartitionOffset {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

/**
 * The handled offsets not committed yet, for a consumer that commits on an interval (pure: the clock is passed in).
 * `handled` after each batch; `due` says whether the interval has passed since the last `take` (the first batch is
 * due at once, so a new member shows progress to `stinger status` at once); `take` hands the
 * offsets to commit and starts the interval again; `clear` forgets them when the group's assignment changed (a
 * partition that moved must not be committed by this member; its records are given again and recognised).
 */
export class PendingCommits {
  readonly #offsets = new Map<string, PartitionOffset>();
  #lastTakeMs = Number.NEGATIVE_INFINITY;
  readonly #intervalMs: number;

  constructor(intervalMs: number) {
    this.#intervalMs = intervalMs;
  }

  handled(topic: string, partition: number, lastOffset: bigint): void {
    this.#offsets.set(`${topic}\u0000${partition}`, { topic, partition, offset: (lastOffset + 1n).toString() });
  }

  due(nowMs: number): boolean {
    return this.#offsets.size > 0 && nowMs - this.#lastTakeMs >= this.#intervalMs;
  }

  take(nowMs: number): PartitionOffset[] {
    const offsets = [...this.#offsets.values()];
    this.#offsets.clear();
    this.#lastTakeMs = nowMs;
    return offsets;
  }

  /** Puts back offsets whose commit failed, unless a later batch of the partition has been handled since. */
  restore(offsets: readonly PartitionOffset[]): void {
    for (const offset of offsets) {
      const key = `${offset.topic}\u0000${offset.partition}`;
      if (!this.#offsets.has(key)) this.#offsets.set(key, offset);
    }
  }

  clear(): void {
    this.#offsets.clear();
  }
}

export function createConsumer(options: CreateConsumerOptions): StingerConsumer {
  const { client, groupId, topics, fromBeginning = false, readCommitted = true, handleBatch, onGroupJoin, commitIntervalMs } = options;
  const logger = namespaced(client.logger, 'Consumer');
  const consumer = client.kafka.consumer({ groupId, readUncommitted: !readCommitted, allowAutoTopicCreation: false });
  const health = trackConsumerHealth(consumer, { heartbeatStaleMs: STUCK_AFTER_MS });
  const pending = commitIntervalMs === undefined ? null : new PendingCommits(commitIntervalMs);
  consumer.on(consumer.events.GROUP_JOIN, () => {
    pending?.clear();
    onGroupJoin?.();
  });
  /** Commits what is pending; a failure (a rebalance under way) leaves it to the next batch or tick. */
  async function commitPending(): Promise<void> {
    if (pending === null) return;
    const offsets = pending.take(Date.now());
    if (offsets.length === 0) return;
    try {
      await consumer.commitOffsets(offsets);
    } catch (error) {
      pending.restore(offsets);
      throw error;
    }
  }
  let commitTimer: NodeJS.Timeout | null = null;
  return {
    consumer,
    health: () => health.check(),
    async start() {
      try {
        await consumer.connect();
        await consumer.subscribe({ topics: [...topics], fromBeginning });
      } catch (error) {
        throw new StingerKafkaError(`could not subscribe to ${topics.join(', ')}: ${(error as Error).message}`, { cause: error });
      }
      await consumer.run({
        eachBatchAutoResolve: true,
        // With an interval, offsets are committed here (commitPending), never by kafkajs after each batch.
        autoCommit: pending === null,
        eachBatch: async ({ batch, heartbeat }) => {
          const records = batch.messages.map((m) => toConsumedRecord(batch.topic, batch.partition, m));
          await client.wireFormat.learnIds(records.map((record) => record.value));
          if (records.length > 0) await handleBatch(records);
          if (pending !== null) {
            pending.handled(batch.topic, batch.partition, BigInt(batch.lastOffset()));
            if (pending.due(Date.now())) await commitPending();
          }
          await heartbeat();
        },
      });
      if (pending !== null && commitIntervalMs !== undefined) {
        commitTimer = setInterval(() => {
          if (pending.due(Date.now())) void commitPending().catch((error: unknown) => logger.warn({ err: error, groupId }, 'interval commit failed; the next one retries'));
        }, commitIntervalMs);
        commitTimer.unref();
      }
      logger.info({ groupId, topics }, 'consuming');
    },
    async stop() {
      if (commitTimer !== null) clearInterval(commitTimer);
      await commitPending().catch((error: unknown) => logger.warn({ err: error, groupId }, 'last commit before stop failed; its records are given again'));
      await consumer.disconnect();
    },
  };
}
