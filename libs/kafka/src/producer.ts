/**
 * The Stinger producer: idempotent, acks=all, compressed (zstd unless told otherwise), and batched by linger time and size.
 *
 * Contract: `enqueue` adds one record to a bounded in-memory queue and returns a promise settled
 * when the broker acknowledged the batch holding it; callers that produce fast (the agent) await
 * `whenWritable()` for back-pressure instead of letting memory grow. Batches are sent one at a time,
 * in enqueue order, so per-partition order is the enqueue order. `send` bypasses the queue.
 *
 * A send that failed is never retried through the same producer id: the next send of a (non-transactional) producer
 * first replaces the kafkajs producer, so the broker gives it a new id and sequence numbers from 0. Callers resend
 * what failed (the agent's spool, sendUntilDelivered), regrouped: the spool's segments are not the producer's
 * batches. Through the old id the broker would judge such a resend by sequence numbers kafkajs rewinds per failed
 * request, and answer a regrouped batch as out of order, or as a duplicate of one it holds when the bounds match.
 * Under a new id a resend is simply written: a record the broker had written but not confirmed comes twice, never
 * not at all; (agent_id, seq) identifies the repeats and the enricher drops them (libs/enrichment repeat-filter.ts).
 * Transactional producers are replaced by their transform instead. Every send goes to one partition per kafkajs call
 * (sendPerPartition; partition-router.ts says why).
 */
import { CompressionTypes, Partitioners, type Producer } from 'kafkajs';
import type { KafkaCompression } from '@stinger/config';
import { namespaced, type Logger } from '@stinger/log';
import { untilDone } from '@stinger/retry';
import type { KafkaClient } from './client.ts';
import { ProduceError, ProducerQueueFullError } from './errors.ts';
import { createPartitionRouter, type PartitionRouter } from './partition-router.ts';

export interface ProducerRecord {
  readonly key: string | Buffer | null;
  readonly value: Buffer | null;
  readonly headers?: Readonly<Record<string, string | Buffer>>;
  readonly partition?: number;
  /** The record's timestamp (CreateTime), ms since the epoch; the send time when absent. Tests of time ranges set it. */
  readonly timestampMs?: number;
}

export type Compression = KafkaCompression;

export interface CreateProducerOptions {
  readonly client: KafkaClient;
  /** How long the first queued record waits for others before its batch is sent. */
  readonly lingerMs?: number;
  readonly maxBatchRecords?: number;
  /** Bound of the in-memory queue; `enqueue` rejects with ProducerQueueFullError past it. */
  readonly maxQueuedRecords?: number;
  /** The batch codec; absent: the client's connection setting (KAFKA_COMPRESSION), else zstd. */
  readonly compression?: Compression;
  /** A transactional id makes this a transactional producer (see transform.ts). */
  readonly transactionalId?: string;
}

export interface StingerProducer {
  /** The current kafkajs producer; a failed send replaces it (see the header), so do not keep it. */
  readonly producer: Producer;
  /** Connected now: between connect() and disconnect(), and not while a replacement is connecting. */
  readonly connected: boolean;
  /** The codec of its sends; a transform passes it to the sends of its transactions. */
  readonly compression: CompressionTypes;
  connect(): Promise<void>;
  send(topic: string, records: readonly ProducerRecord[]): Promise<void>;
  enqueue(topic: string, record: ProducerRecord): Promise<void>;
  /** Resolves once the queue is below its bound. */
  whenWritable(): Promise<void>;
  readonly queuedRecords: number;
  flush(): Promise<void>;
  disconnect(): Promise<void>;
}

interface Pending {
  readonly topic: string;
  readonly record: ProducerRecord;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

const COMPRESSION: Readonly<Record<Compression, CompressionTypes>> = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  zstd: CompressionTypes.ZSTD,
};

export function toKafkaMessage(record: ProducerRecord): {
  key: string | Buffer | null;
  value: Buffer | null;
  headers?: Record<string, string | Buffer>;
  partition?: number;
  timestamp?: string;
} {
  return {
    key: record.key,
    value: record.value,
    ...(record.headers ? { headers: { ...record.headers } } : {}),
    ...(record.partition !== undefined ? { partition: record.partition } : {}),
    ...(record.timestampMs !== undefined ? { timestamp: String(record.timestampMs) } : {}),
  };
}

/**
 * Sends `messages` to `topic` through `producer`, one kafkajs send per partition (partition-router.ts says why), the
 * partitions side by side; resolves once every partition's send is acknowledged, else rejects with the first error
 * after all have settled (a partition whose send succeeded is then written, and its records come again with the
 * caller's resend).
 */
export async function sendPerPartition(
  producer: Pick<Producer, 'send'>,
  router: PartitionRouter,
  request: { readonly topic: string; readonly compression: CompressionTypes; readonly messages: readonly ReturnType<typeof toKafkaMessage>[] },
): Promise<void> {
  const { topic, compression } = request;
  const byPartition = await router.split(topic, request.messages);
  await allSettledOrFirstError([...byPartition.values()].map((messages) => producer.send({ topic, acks: -1, compression, messages })));
}

/** Waits for every send to settle (none is left in flight), then rejects with the first failure, if any. */
async function allSettledOrFirstError(sends: readonly Promise<unknown>[]): Promise<void> {
  const rejected = (await Promise.allSettled(sends)).find((s) => s.status === 'rejected');
  if (rejected) throw rejected.reason;
}

/** Groups queued records by topic, keeping order within each topic (pure; tested directly). */
export function groupByTopic(pending: readonly { readonly topic: string; readonly record: ProducerRecord }[]): Map<string, ProducerRecord[]> {
  const byTopic = new Map<string, ProducerRecord[]>();
  for (const { topic, record } of pending) {
    const list = byTopic.get(topic);
    if (list) list.push(record);
    else byTopic.set(topic, [record]);
  }
  return byTopic;
}

/**
 * Retries of a transactional producer's sends. A transaction begun while the broker still writes the previous
 * commit's markers gets CONCURRENT_TRANSACTIONS, which clears within milliseconds; the client's 100 ms first retry
 * (client.ts) made that wait most of an exactly-once worker's latency (docs/BENCHMARKS.md, enricher). The Java
 * producer backs off 20 ms for it; so does this, doubling up to the client's 5 s, with more attempts to cover
 * the same outages.
 */
const TRANSACTIONAL_RETRY = { initialRetryTime: 20, maxRetryTime: 5000, retries: 12 } as const;

export interface SendUntilDeliveredOptions {
  readonly producer: StingerProducer;
  readonly logger: Logger;
  /** True once the process is closing: the loop then rejects with the last error instead of trying again. */
  readonly stopping: () => boolean;
}

/**
 * Sends `records` to `topic` and, while the send fails (brokers away longer than the client's own retries, fewer in
 * sync than min.insync.replicas), sends them again with back-off until the brokers acknowledge them or `stopping()`.
 * For records that live only in this process's memory and cannot be made again: the enforcer's commands and outcomes
 * (an alert is decided once; a redelivered alert gets nothing). Giving up after the client's retries lost them, and
 * their alert's outcome with them (seen with two of three brokers down). A resend is a new produce request, so a
 * record whose first send was written but not acknowledged may be there twice; readers key them by id.
 */
export async function sendUntilDelivered(options: SendUntilDeliveredOptions, topic: string, records: readonly ProducerRecord[]): Promise<void> {
  if (records.length === 0) return;
  await untilDone(
    { what: `deliver ${records.length} records to ${topic}`, logger: options.logger, isFatal: () => options.stopping(), quietFirstSuccess: true, backoff: { initialMs: 500, maxMs: 10_000 } },
    () => options.producer.send(topic, records),
  );
}

export function createProducer(options: CreateProducerOptions): StingerProducer {
  const { client, lingerMs = 5, maxBatchRecords = 2000, maxQueuedRecords = 100_000, compression = client.connection.compression ?? 'zstd', transactionalId } = options;
  const logger: Logger = namespaced(client.logger, 'Producer');
  const newKafkaProducer = (): Producer => {
    const created = client.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // The murmur2 partitioner of the Java client: a node's events land where a Java producer would put them.
      createPartitioner: Partitioners.DefaultPartitioner,
      ...(transactionalId ? { transactionalId, retry: TRANSACTIONAL_RETRY } : {}),
    });
    created.on(created.events.CONNECT, () => {
      if (created === producer) connected = true;
    });
    created.on(created.events.DISCONNECT, () => {
      if (created === producer) connected = false;
    });
    return created;
  };
  let connected = false;
  let producer = newKafkaProducer();
  /** Set by a failed send of a non-transactional producer; the next send replaces the producer first. */
  let renewIdentity = false;
  let renewing: Promise<void> | null = null;
  const router = createPartitionRouter(client);
  const codec = COMPRESSION[compression];

  /** The producer to send through: a new one (new producer id) after a failed send. One replacement at a time. */
  async function current(): Promise<Producer> {
    while (renewIdentity || renewing !== null) {
      renewing ??= (async () => {
        const old = producer;
        producer = newKafkaProducer();
        connected = false;
        renewIdentity = false;
        await old.disconnect().catch(() => undefined);
        try {
          await producer.connect();
          logger.info('producer replaced after a failed send: resends go out under a new producer id');
        } catch (error) {
          renewIdentity = true;
          throw error;
        }
      })().finally(() => {
        renewing = null;
      });
      await renewing;
    }
    return producer;
  }
  const sendFailed = (): void => {
    if (transactionalId === undefined) renewIdentity = true;
  };
  const queue: Pending[] = [];
  let timer: NodeJS.Timeout | null = null;
  let sending: Promise<void> = Promise.resolve();
  // True from the moment a drain is queued until it has emptied the queue: one drain at a time.
  let draining = false;
  let writableWaiters: (() => void)[] = [];

  async function sendNow(topic: string, records: readonly ProducerRecord[]): Promise<void> {
    try {
      const framed = await client.wireFormat.frameRecords(topic, records);
      await sendPerPartition(await current(), router, { topic, compression: codec, messages: framed.map(toKafkaMessage) });
    } catch (error) {
      sendFailed();
      throw new ProduceError(`produce to ${topic} failed: ${(error as Error).message}`, { cause: error, topic });
    }
  }

  async function sendBatch(batch: Pending[]): Promise<void> {
    try {
      const topicMessages = await Promise.all(
        [...groupByTopic(batch)].map(async ([topic, records]) => ({ topic, messages: (await client.wireFormat.frameRecords(topic, records)).map(toKafkaMessage) })),
      );
      const sending = await current();
      await allSettledOrFirstError(topicMessages.map(({ topic, messages }) => sendPerPartition(sending, router, { topic, compression: codec, messages })));
      for (const p of batch) p.resolve();
    } catch (error) {
      sendFailed();
      const wrapped = new ProduceError(`batch of ${batch.length} records failed: ${(error as Error).message}`, { cause: error });
      logger.error({ err: wrapped, records: batch.length }, 'batch not acknowledged');
      for (const p of batch) p.reject(wrapped);
    }
  }

  function drain(): Promise<void> {
    if (timer) clearTimeout(timer);
    timer = null;
    if (draining) return sending;
    draining = true;
    sending = sending.then(async () => {
      while (queue.length > 0) {
        await sendBatch(queue.splice(0, maxBatchRecords));
        if (queue.length < maxQueuedRecords) {
          const waiters = writableWaiters;
          writableWaiters = [];
          for (const wake of waiters) wake();
        }
      }
      draining = false;
    });
    return sending;
  }

  return {
    get producer() {
      return producer;
    },
    get connected() {
      return connected;
    },
    compression: codec,
    async connect() {
      await producer.connect();
    },
    send: sendNow,
    enqueue(topic, record) {
      if (queue.length >= maxQueuedRecords) return Promise.reject(new ProducerQueueFullError(maxQueuedRecords));
      return new Promise<void>((resolve, reject) => {
        queue.push({ topic, record, resolve, reject });
        if (queue.length >= maxBatchRecords) void drain();
        else if (!draining) timer ??= setTimeout(() => void drain(), lingerMs);
      });
    },
    whenWritable() {
      if (queue.length < maxQueuedRecords) return Promise.resolve();
      return new Promise<void>((resolve) => writableWaiters.push(resolve));
    },
    get queuedRecords() {
      return queue.length;
    },
    async flush() {
      await drain();
    },
    async disconnect() {
      await drain();
      await producer.disconnect();
    },
  };
}
