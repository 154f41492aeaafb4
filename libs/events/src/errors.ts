// Errors of @stinger/events. None is retriable: the same bytes or value fail the same way every time, so a consumer
// dead-letters the record (DeadLetter.reason = error.reason) instead of retrying.

/** Base class of every error this library throws. */
export class EventsError extends Error {
  override readonly name: string = 'EventsError';
  /** Always false here: retrying cannot change the outcome. */
  readonly retriable: boolean = false;
}

/** Why a buffer could not be decoded. */
export type DecodeErrorReason =
  /** Shorter than its header (10 bytes single-object, 5 registry), or the body ends early. */
  | 'truncated'
  /** Starts with neither the single-object marker C3 01 nor the registry magic byte 00. */
  | 'bad-magic'
  /** Registry wire format with a schema id this process was not taught (no registry, or another registry's id). */
  | 'unknown-schema-id'
  /** The writer schema's fingerprint is not any known version of any Stinger schema. */
  | 'unknown-fingerprint'
  /** The fingerprint is a known version of a different schema than the one asked for. */
  | 'wrong-schema'
  /** Header fine, but the body does not decode with the writer schema (cut short, bad union index, trailing bytes). */
  | 'invalid-body';

export interface DecodeErrorOptions {
  readonly reason: DecodeErrorReason;
  /** Schema the caller asked for; null for a decode of any schema. */
  readonly schema: string | null;
  /** Writer fingerprint read from the header, when there was one. */
  readonly fingerprint?: bigint;
  readonly cause?: unknown;
}

export class DecodeError extends EventsError {
  override readonly name = 'DecodeError';
  readonly reason: DecodeErrorReason;
  readonly schema: string | null;
  readonly fingerprint: bigint | undefined;

  constructor(message: string, options: DecodeErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.reason = options.reason;
    this.schema = options.schema;
    this.fingerprint = options.fingerprint;
  }
}

export interface EncodeErrorOptions {
  readonly schema: string;
  /** Dotted paths of the offending fields, e.g. ['process.pid', 'time']. */
  readonly paths: readonly string[];
  readonly cause?: unknown;
}

/** The value does not conform to the schema (reason 'invalid-value'). */
export class EncodeError extends EventsError {
  override readonly name = 'EncodeError';
  readonly reason = 'invalid-value' as const;
  readonly schema: string;
  readonly paths: readonly string[];

  constructor(message: string, options: EncodeErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.schema = options.schema;
    this.paths = options.paths;
  }
}

/** A schema name or version that does not exist, or schemas that do not load or resolve. */
export class SchemaError extends EventsError {
  override readonly name = 'SchemaError';
}
