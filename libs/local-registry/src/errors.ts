/** Errors of @stinger/local-registry; `output` / `logTail` carry what Maven or the registry last said. */
export class LocalRegistryError extends Error {
  override readonly name: string = 'LocalRegistryError';
  readonly retriable: boolean;
  /** The tail of Maven's output or of the registry's log, for the person reading the error. */
  readonly detail: string;

  constructor(message: string, options: { readonly retriable?: boolean; readonly cause?: unknown; readonly detail?: string } = {}) {
    super(options.detail ? `${message}\n${options.detail}` : message, options.cause === undefined ? undefined : { cause: options.cause });
    this.retriable = options.retriable ?? false;
    this.detail = options.detail ?? '';
  }
}
