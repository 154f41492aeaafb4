/**
 * Dead-letter records: what a consumer writes to `stinger.dlq` for a record it can never process,
 * so nothing accepted is lost and the reason is on record. Keyed by source topic (docs/topics.md).
 */
import { encodeDeadLetter } from '@stinger/events';
import type { ConsumedRecord } from './consumer.ts';
import type { DeadLetterBuilder, OutputRecord } from './transform.ts';

export interface DeadLetterBuilderOptions {
  /** The consumer group or service name that gave up on the record. */
  readonly consumer: string;
  /** The (prefixed) dead-letter topic. */
  readonly dlqTopic: string;
  readonly now?: () => bigint;
}

export function deadLetterRecord(
  options: DeadLetterBuilderOptions,
  record: ConsumedRecord,
  failure: { readonly reason: string; readonly detail: string | null },
): OutputRecord {
  const now = options.now ?? (() => BigInt(Date.now()) * 1_000_000n);
  return {
    topic: options.dlqTopic,
    key: record.topic,
    value: encodeDeadLetter({
      source_topic: record.topic,
      partition: record.partition,
      offset: record.offset,
      consumer: options.consumer,
      reason: failure.reason,
      detail: failure.detail,
      key: record.key,
      value: record.value,
      failed_at_ns: now(),
    }),
  };
}

/** A DeadLetterBuilder for createTransactionalTransform. */
export function createDeadLetterBuilder(options: DeadLetterBuilderOptions): DeadLetterBuilder {
  return (record, error) => deadLetterRecord(options, record, { reason: error.reason, detail: error.message });
}
