/**
 * Errors raised by @stinger/kafka. One base class; retry logic reads `retriable` and nothing else.
 * Errors from kafkajs are wrapped at this library's edge, keeping them as `cause`.
 */
import { StingerError } from '@stinger/retry';

export interface StingerKafkaErrorOptions {
  readonly retriable?: boolean;
  readonly cause?: unknown;
  readonly topic?: string;
  readonly partition?: number;
}

export class StingerKafkaError extends StingerError {
  readonly topic: string | undefined;
  readonly partition: number | undefined;
  constructor(message: string, options: StingerKafkaErrorOptions = {}) {
    super(message, { cause: options.cause, retriable: options.retriable ?? isRetriable(options.cause) });
    this.topic = options.topic;
    this.partition = options.partition;
  }
}

/** A topic could not be created or its settings disagree with the topic table. */
export class TopicBootstrapError extends StingerKafkaError {}

/** Records were not acknowledged by the broker. */
export class ProduceError extends StingerKafkaError {}

/** The producer's bounded queue is full; the caller must slow down (back-pressure). */
export class ProducerQueueFullError extends StingerKafkaError {
  constructor(capacity: number) {
    super(`producer queue is full (${capacity} records)`, { retriable: true });
  }
}

/** A transaction could not be committed; it was aborted and its input will be processed again. */
export class TransactionError extends StingerKafkaError {}

/**
 * The schema registry refused the schema of an output topic (SchemaIncompatibleError): every later batch would be
 * refused alike until an operator changes the schema or the subject, so a transform stops rather than retry. Its
 * message is the one fatal line: topic, subject, the registry's reason, and what to do.
 */
export class OutputSchemaRefusedError extends StingerKafkaError {
  readonly subject: string;
  constructor(message: string, options: { readonly topic: string; readonly subject: string; readonly cause: unknown }) {
    super(message, { retriable: false, topic: options.topic, cause: options.cause });
    this.subject = options.subject;
  }
}

/** The brokers refused the SASL credentials or mechanism: wrong settings, never retried. */
export class KafkaAuthenticationError extends StingerKafkaError {}

/** The TLS handshake with a broker failed (certificate not trusted, wrong host name, TLS against a plaintext port): wrong settings, never retried. */
export class KafkaTlsError extends StingerKafkaError {}

/** The broker cannot be reached at all. */
export class BrokerUnavailableError extends StingerKafkaError {}

function isRetriable(cause: unknown): boolean {
  return typeof cause === 'object' && cause !== null && 'retriable' in cause && cause.retriable === true;
}
