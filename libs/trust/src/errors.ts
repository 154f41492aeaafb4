import { StingerError } from '@stinger/retry';

/** Errors of @stinger/trust: one base; a missing or unreadable key is a configuration problem, named by its file. */
export class TrustError extends StingerError {
  readonly file: string | null;
  constructor(message: string, options: { readonly file?: string; readonly cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.file = options.file ?? null;
  }
}

/** No signing key where one was expected (`stinger keys generate` makes one). */
export class SigningKeyMissingError extends TrustError {}
