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
   * Commit the handled offsets at most this often (checked after each batch, and on stop); absent: after every batch.
   * Only for a handler that recognises records it already handled: after a crash, up to this much is given again.
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

export function createConsumer(options: CreateConsumerOptions): StingerConsumer {
  const { client, groupId, topics, fromBeginning = false, readCommitted = true, handleBatch, onGroupJoin, commitIntervalMs } = options;
  const logger = namespaced(client.logger, 'Consumer');
  const consumer = client.kafka.consumer({ groupId, readUncommitted: !readCommitted, allowAutoTopicCreation: false });
  const health = trackConsumerHealth(consumer, { heartbeatStaleMs: STUCK_AFTER_MS });
  if (onGroupJoin) consumer.on(consumer.events.GROUP_JOIN, onGroupJoin);
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
        ...(commitIntervalMs === undefined ? {} : { autoCommitInterval: commitIntervalMs }),
        eachBatch: async ({ batch, heartbeat }) => {
          const records = batch.messages.map((m) => toConsumedRecord(batch.topic, batch.partition, m));
          await client.wireFormat.learnIds(records.map((record) => record.value));
          if (records.length > 0) await handleBatch(records);
          await heartbeat();
        },
      });
      logger.info({ groupId, topics }, 'consuming');
    },
    async stop() {
      await consumer.disconnect();
    },
  };
}
