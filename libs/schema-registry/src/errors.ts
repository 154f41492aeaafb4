/** Errors of @stinger/schema-registry. `retriable` says whether asking again can help (kafkajs's convention). */
export class SchemaRegistryError extends Error {
  override readonly name: string = 'SchemaRegistryError';
  readonly retriable: boolean;
  /** HTTP status of the registry's answer; null when none came (refused, timed out, TLS). */
  readonly status: number | null;
  /** The registry's own error code (Confluent API `error_code`, e.g. 40401 subject not found); null when absent. */
  readonly errorCode: number | null;

  constructor(message: string, options: { readonly status: number | null; readonly errorCode?: number | null; readonly retriable: boolean; readonly cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = options.status;
    this.errorCode = options.errorCode ?? null;
    this.retriable = options.retriable;
  }
}

/**
 * The registry refused a schema under a subject's compatibility rule (HTTP 409). Its message is one line naming the
 * schema, the subject and the registry's reason: what a producer prints before it stops.
 */
export class SchemaIncompatibleError extends SchemaRegistryError {
  override readonly name = 'SchemaIncompatibleError';
  readonly subject: string;

  constructor(message: string, options: { readonly subject: string; readonly errorCode: number | null }) {
    super(message, { status: 409, errorCode: options.errorCode, retriable: false });
    this.subject = options.subject;
  }
}
