/**
 * Errors of the local broker, one tree under `LocalBrokerError` (kafkajs style): callers branch on the class or on
 * `retriable` and nothing else; `cause` keeps whatever was thrown underneath.
 */
import { StingerError } from '@stinger/retry';

export interface LocalBrokerErrorOptions {
  readonly retriable?: boolean;
  readonly cause?: unknown;
}

/** `retriable`: true when trying the same call again may succeed (a transient network or port race). */
export class LocalBrokerError extends StingerError {
  constructor(message: string, options: LocalBrokerErrorOptions = {}) {
    super(message, options);
  }
}

/** No `java` on PATH, or one older than Kafka needs. */
export class JavaRuntimeError extends LocalBrokerError {
  constructor(message: string, options: LocalBrokerErrorOptions = {}) {
    super(message, options);
    this.name = 'JavaRuntimeError';
  }
}

/** `mvn` is missing or could not resolve the pinned Kafka jars (retriable: the registry may have been unreachable). */
export class MavenResolveError extends LocalBrokerError {
  /** The last lines Maven printed. */
  readonly output: string;

  constructor(message: string, options: LocalBrokerErrorOptions & { readonly output?: string } = {}) {
    super(options.output ? `${message}\n--- mvn output (tail) ---\n${options.output}` : message, options);
    this.name = 'MavenResolveError';
    this.output = options.output ?? '';
  }
}

/** Formatting the log directory, launching the JVM or waiting for the broker to answer failed. */
export class BrokerStartError extends LocalBrokerError {
  /** The last lines of the broker's log and console output, empty when it never got that far. */
  readonly logTail: string;

  constructor(message: string, options: LocalBrokerErrorOptions & { readonly logTail?: string } = {}) {
    super(options.logTail ? `${message}\n--- broker log (tail) ---\n${options.logTail}` : message, options);
    this.name = 'BrokerStartError';
    this.logTail = options.logTail ?? '';
  }
}

/** The broker process would not exit, even after SIGKILL. */
export class BrokerStopError extends LocalBrokerError {
  readonly pid: number;

  constructor(message: string, options: LocalBrokerErrorOptions & { readonly pid: number }) {
    super(message, options);
    this.name = 'BrokerStopError';
    this.pid = options.pid;
  }
}
