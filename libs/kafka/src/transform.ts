/**
 * Exactly-once consume-transform-produce (the enricher and detector are built on it).
 *
 * Contract: for each fetched batch of one partition, the outputs of `transform` for every record and
 * the consumed offsets are committed in ONE Kafka transaction. Consumers of the outputs that read
 * read_committed see every input's outputs exactly once, across crashes and restarts: a worker killed
 * mid-batch leaves an open transaction that the broker aborts when the restarted worker (same
 * `transactionalId`) fences it, and the restarted worker resumes from the last committed offset.
 * A record the transform rejects (`RecordRejectedError`) goes to the dead-letter topic inside the
 * same transaction with the reason; any other error aborts the batch, which is then retried.
 *
 * Except one: when the schema registry refuses an output's schema (registry mode), retrying cannot help, so the
 * transform stops consuming (its topics paused, the batch neither sent nor committed: the group's offsets stay
 * before the batch) and hands the `OutputSchemaRefusedError` to `onFatal`, whose caller ends the process.
 */
import { namespaced } from '@stinger/log';
import type { HealthCheck } from '@stinger/metrics';
import type { KafkaClient } from './client.ts';
import { STUCK_AFTER_MS, trackConsumerHealth } from './consumer-health.ts';
import { toConsumedRecord, type ConsumedRecord } from './consumer.ts';
import { OutputSchemaRefusedError, StingerKafkaError, TransactionError } from './errors.ts';
import { createPartitionRouter } from './partition-router.ts';
import { createProducer, groupByTopic, toKafkaMessage, type ProducerRecord } from './producer.ts';
import { backoffDelay } from '@stinger/retry';
import { SchemaIncompatibleError } from '@stinger/schema-registry';

export interface OutputRecord extends ProducerRecord {
  readonly topic: string;
}

/** Thrown by a transform for a record that can never be processed (undecodable, invalid). */
export class RecordRejectedError extends StingerKafkaError {
  readonly reason: string;
  constructor(reason: string, cause?: unknown) {
    super(`record rejected: ${reason}`, { retriable: false, cause });
    this.reason = reason;
  }
}

export type RecordTransform = (record: ConsumedRecord) => readonly OutputRecord[];

/** Builds the dead-letter record for a rejected input. */
export type DeadLetterBuilder = (record: ConsumedRecord, error: RecordRejectedError) => OutputRecord;

/** Bytes of keys and values per produce request of a transaction, well below the broker's 1 MiB default. */
export const MAX_SEND_BYTES = 512 * 1024;

/** Splits records into consecutive chunks of at most `maxBytes` of key+value each (a bigger record is alone). */
export function chunkByBytes<T extends ProducerRecord>(records: readonly T[], maxBytes: number): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const record of records) {
    const size = (record.value?.length ?? 0) + (record.key === null ? 0 : Buffer.byteLength(record.key));
    if (current.length > 0 && bytes + size > maxBytes) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(record);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * Runs `step` again while the broker answers CONCURRENT_TRANSACTIONS: the previous commit's markers are still being
 * written, which clears within milliseconds. kafkajs retries that answer for sends (AddPartitionsToTxn) but not for
 * `sendOffsets` (AddOffsetsToTxn), so a batch with no outputs — most of the detector's — was aborted and retried after
 * seconds, sometimes with a consumer restart (docs/BENCHMARKS.md, kill latency). 20 ms doubling, at most ~2.5 s.
 */
/**
 * The first kafkajs error type among `types` in `error` or its causes (kafkajs keeps the broker's answer as `type`, and
 * wraps it in `cause` or `originalError`), looked for four levels deep; undefined when none is there.
 */
function kafkaErrorTypeIn(error: unknown, types: ReadonlySet<string>): string | undefined {
  for (let current = error, depth = 0; current !== null && typeof current === 'object' && depth < 4; depth += 1) {
    const type = (current as { type?: unknown }).type;
    if (typeof type === 'string' && types.has(type)) return type;
    current = (current as { cause?: unknown; originalError?: unknown }).cause ?? (current as { originalError?: unknown }).originalError;
  }
  return undefined;
}

const CONCURRENT_TRANSACTIONS = new Set(['CONCURRENT_TRANSACTIONS']);
const isConcurrentTransactions = (error: unknown): boolean => kafkaErrorTypeIn(error, CONCURRENT_TRANSACTIONS) !== undefined;

/**
 * The kafkajs error types that mean this worker's group membership changed under it (a rebalance, a session that
 * expired while brokers were away: "the coordinator is not aware of this member"). kafkajs's consumer re-joins the
 * group for them, but only when the thrown error's own `type` says so; wrapped in a TransactionError they were taken
 * as lasting and the consumer stopped for good (seen with two of three brokers killed and started again).
 */
const GROUP_MEMBERSHIP_ERRORS = new Set(['REBALANCE_IN_PROGRESS', 'NOT_COORDINATOR_FOR_GROUP', 'ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID']);

/** The first group-membership error type in `error` or its causes, or undefined. */
export function groupMembershipErrorType(error: unknown): string | undefined {
  return kafkaErrorTypeIn(error, GROUP_MEMBERSHIP_ERRORS);
}

/**
 * The error a failed batch is thrown to kafkajs with. Always retriable: the batch's transaction is aborted (or its
 * producer replaced), its offsets are not committed, so processing it again is safe and is the only way on; kafkajs
 * retries it, then restarts the consumer, instead of stopping it for good on a cause it calls lasting. A
 * group-membership cause keeps its kafkajs `type`, so the consumer re-joins the group at once.
 */
export function batchFailure(message: string, error: unknown, where: { readonly topic: string; readonly partition: number }): TransactionError {
  const failure = new TransactionError(message, { cause: error, topic: where.topic, partition: where.partition, retriable: true });
  const type = groupMembershipErrorType(error);
  return type === undefined ? failure : Object.assign(failure, { type });
}

/** The coordinator finishes the previous transaction's markers within milliseconds: retry soon, a few times. */
const CONCURRENT_TRANSACTIONS_BACKOFF = { initialMs: 20, maxMs: 500 } as const;

export async function whileTransactionsConcurrent<T>(step: () => Promise<T>, attempts = 8): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await step();
    } catch (error) {
      if (!isConcurrentTransactions(error) || attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, backoffDelay(attempt, CONCURRENT_TRANSACTIONS_BACKOFF)));
    }
  }
}

/**
 * The decision for a batch whose outputs for `topic` could not be framed: an `OutputSchemaRefusedError` when the
 * registry refused their schema (found in `error` or its causes), to stop on; null for anything else, to retry.
 */
export function outputSchemaRefusal(error: unknown, topic: string): OutputSchemaRefusedError | null {
  for (let current = error, depth = 0; current instanceof Error && depth < 4; depth += 1) {
    if (current instanceof SchemaIncompatibleError) {
      return new OutputSchemaRefusedError(
        `cannot write ${topic}: ${current.message}; stopped without committing the batch (its records are read again on restart): ` +
          `register a compatible schema under ${current.subject} or change its compatibility, then restart`,
        { topic, subject: current.subject, cause: current },
      );
    }
    current = current.cause;
  }
  return null;
}

export interface TransactionPlan {
  readonly outputs: readonly OutputRecord[];
  readonly rejected: number;
  /** The offset to commit: one past the last record of the batch. */
  readonly nextOffset: bigint;
}

/**
 * The pure core: what one batch commits. Throws (aborting the batch) on anything but a rejection.
 * Callers guarantee `records` is non-empty and from one partition, in offset order.
 */
export function planTransaction(records: readonly ConsumedRecord[], transform: RecordTransform, deadLetter: DeadLetterBuilder): TransactionPlan {
  const outputs: OutputRecord[] = [];
  let rejected = 0;
  for (const record of records) {
    try {
      outputs.push(...transform(record));
    } catch (error) {
      if (!(error instanceof RecordRejectedError)) throw error;
      rejected += 1;
      outputs.push(deadLetter(record, error));
    }
  }
  const last = records[records.length - 1];
  if (!last) throw new RangeError('planTransaction needs at least one record');
  return { outputs, rejected, nextOffset: last.offset + 1n };
}

export interface TransactionalTransformOptions {
  readonly client: KafkaClient;
  readonly groupId: string;
  /** Stable per worker instance across restarts, so a restart fences its predecessor. */
  readonly transactionalId: string;
  readonly inputTopics: readonly string[];
  readonly transform: RecordTransform;
  readonly deadLetter: DeadLetterBuilder;
  /**
   * Awaited before a batch is transformed, with the same record objects `transform` then gets (the
   * enricher holds a batch here, bounded, while pod metadata is late). Must not reject and must
   * finish well within the session timeout. If the partition was revoked or seeked meanwhile, the
   * batch is dropped uncommitted and fetched again.
   */
  readonly prepareBatch?: (records: readonly ConsumedRecord[]) => Promise<void>;
  readonly fromBeginning?: boolean;
  /** Consumer-group session timeout: how long a crashed worker's partitions stay assigned to it. */
  readonly sessionTimeoutMs?: number;
  /**
   * Called whenever this worker (re)joins the group, before any batch of the new assignment: partitions may have
   * moved, so state kept per partition must be rebuilt (the detector re-reads its window in prepareBatch).
   */
  readonly onGroupJoin?: () => void;
  /**
   * Called when a batch that reached prepareBatch or transform was not committed (its transaction aborted, a step
   * failed, the partition was revoked meanwhile): whatever those calls changed in state kept per partition is now
   * ahead of what is committed, and the batch comes again. The detector drops the partition's state, so the next
   * batch rebuilds it from the input up to the committed offset; kept, a retried batch found its events already
   * counted (a monitor-mode alert became a pending count that never flushed: two alerts missing in the broker fault
   * test).
   */
  readonly onBatchNotCommitted?: (partition: { readonly topic: string; readonly partition: number }) => void;
  /**
   * Called once when the transform stopped for good (the registry refused an output's schema): consuming has stopped
   * and the batch was not committed. A service ends the process with the error's message (Shutdown.fail). Without
   * it the error is logged as fatal and the transform stays stopped.
   */
  readonly onFatal?: (error: OutputSchemaRefusedError) => void;
}

export interface TransformStats {
  committedTransactions: number;
  records: number;
  rejected: number;
  aborted: number;
}

export interface TransactionalTransform {
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly stats: Readonly<TransformStats>;
  /** Ready once the consumer joined its group (its transactional producer connected before); see consumer-health.ts. */
  health(): HealthCheck;
}

export function createTransactionalTransform(options: TransactionalTransformOptions): TransactionalTransform {
  const { client, groupId, transactionalId, inputTopics, transform, deadLetter, prepareBatch, fromBeginning = true, sessionTimeoutMs = 30_000, onGroupJoin, onBatchNotCommitted, onFatal } = options;
  const logger = namespaced(client.logger, 'TransactionalTransform');
  // The output (enriched events, alerts) is the largest data at rest: compressed with the configured codec.
  let producer = createProducer({ client, transactionalId });
  const router = createPartitionRouter(client);
  /**
   * Set when a transaction failed: kafkajs's producer may then be in any state (ABORTING after a failed abort refuses
   * every later transaction: "Cannot call beginTransaction in state ABORTING"; a producer whose epoch the coordinator
   * bumped is fenced), seen with two of three brokers killed. The next batch first replaces it
   * (replaceBrokenProducer), which also aborts whatever the old one left open.
   */
  let producerBroken = false;
  const consumer = client.kafka.consumer({
    groupId,
    readUncommitted: false,
    allowAutoTopicCreation: false,
    sessionTimeout: sessionTimeoutMs,
    heartbeatInterval: Math.max(500, Math.floor(sessionTimeoutMs / 6)),
  });
  const stats: TransformStats = { committedTransactions: 0, records: 0, rejected: 0, aborted: 0 };
  const health = trackConsumerHealth(consumer, { heartbeatStaleMs: STUCK_AFTER_MS });
  let fatal: OutputSchemaRefusedError | null = null;

  /** Frames `outputs` for their topics, or stops the transform and resolves null when the registry refused one. */
  async function frameOutputs(outputs: readonly OutputRecord[]): Promise<OutputRecord[] | null> {
    const byTopic = await Promise.all(
      [...groupByTopic(outputs.map((record) => ({ topic: record.topic, record })))].map(async ([topic, records]) => {
        try {
          return (await client.wireFormat.frameRecords(topic, records)).map((record) => ({ ...record, topic }));
        } catch (error) {
          const refusal = outputSchemaRefusal(error, topic);
          if (refusal === null) throw error;
          if (fatal === null) {
            fatal = refusal;
            consumer.pause(inputTopics.map((inputTopic) => ({ topic: inputTopic })));
            if (onFatal) onFatal(refusal);
            else logger.fatal({ topic, subject: refusal.subject }, refusal.message);
          }
          return null;
        }
      }),
    );
    return byTopic.some((records) => records === null) ? null : byTopic.flatMap((records) => records ?? []);
  }

  /**
   * A new transactional producer with the same transactional id: connecting re-registers the id (InitProducerId), so
   * the coordinator aborts the transaction the old one left open and fences its epoch; nothing of it becomes visible
   * to read_committed readers. Throws while the brokers are still away (the batch fails retriably: kafkajs retries it,
   * then restarts the consumer, and the next attempt tries again); no transaction begins without it.
   */
  async function replaceBrokenProducer(): Promise<void> {
    if (!producerBroken) return;
    await producer.disconnect().catch(() => undefined);
    producer = createProducer({ client, transactionalId });
    await producer.connect();
    producerBroken = false;
    logger.info({ transactionalId }, 'transactional producer replaced after a failed transaction');
  }

  return {
    stats,
    health: () => health.check(),
    async start() {
      await producer.connect();
      if (onGroupJoin) consumer.on(consumer.events.GROUP_JOIN, () => onGroupJoin());
      await consumer.connect();
      await consumer.subscribe({ topics: [...inputTopics], fromBeginning });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
          if (batch.messages.length === 0 || !isRunning() || isStale() || fatal !== null) return;
          const records = batch.messages.map((m) => toConsumedRecord(batch.topic, batch.partition, m));
          await client.wireFormat.learnIds(records.map((record) => record.value));
          let committed = false;
          try {
            if (prepareBatch) {
              await prepareBatch(records);
              if (!isRunning() || isStale()) return;
            }
            const plan = planTransaction(records, transform, deadLetter);
            // Framed (and in registry mode registered) before the transaction begins: no registry round trip inside it.
            // A refused schema stops the transform here: no transaction, offsets not resolved.
            const outputs = await frameOutputs(plan.outputs);
            if (outputs === null) return;
            try {
              await replaceBrokenProducer();
            } catch (error) {
              throw batchFailure(`transactional producer for ${batch.topic}[${batch.partition}] not replaced: ${(error as Error).message}`, error, batch);
            }
            let transaction;
            try {
              transaction = await producer.producer.transaction();
            } catch (error) {
              producerBroken = true;
              throw batchFailure(`transaction for ${batch.topic}[${batch.partition}] not begun: ${(error as Error).message}`, error, batch);
            }
            try {
              // One fetched batch can hold more bytes than a produce request may carry (the broker's
              // message.max.bytes, 1 MiB by default): send it in chunks, all inside the one transaction.
              // One send per partition, one after another (partition-router.ts: a send spanning partitions can lose
              // a moved partition's records in kafkajs's retry, and the commit would then make the loss final).
              for (const chunk of chunkByBytes(outputs, MAX_SEND_BYTES)) {
                for (const [topic, records] of groupByTopic(chunk.map((record) => ({ topic: record.topic, record })))) {
                  for (const messages of (await router.split(topic, records.map(toKafkaMessage))).values()) {
                    await transaction.send({ topic, acks: -1, compression: producer.compression, messages });
                  }
                }
              }
              await whileTransactionsConcurrent(() =>
                transaction.sendOffsets({
                  consumerGroupId: groupId,
                  topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: plan.nextOffset.toString() }] }],
                }),
              );
              await transaction.commit();
            } catch (error) {
              stats.aborted += 1;
              producerBroken = true;
              await transaction.abort().catch((abortError: unknown) => {
                logger.warn({ err: abortError }, 'abort failed; the producer is replaced before the next transaction');
              });
              throw batchFailure(`transaction for ${batch.topic}[${batch.partition}] aborted: ${(error as Error).message}`, error, batch);
            }
            resolveOffset(batch.lastOffset());
            stats.committedTransactions += 1;
            stats.records += records.length;
            stats.rejected += plan.rejected;
            committed = true;
          } finally {
            if (!committed) onBatchNotCommitted?.({ topic: batch.topic, partition: batch.partition });
          }
          await heartbeat();
        },
      });
      logger.info({ groupId, transactionalId, inputTopics }, 'transform running');
    },
    async stop() {
      await consumer.disconnect();
      await producer.disconnect();
    },
  };
}
