/**
 * Errors thrown by @stinger/bpf. One tree under `BpfError`; callers decide on `retriable` alone.
 * `errno` is the positive errno the kernel or libbpf reported when there was one; `libbpfLog` carries what libbpf
 * would have printed (the verifier log for a rejected program), which a library must not print itself.
 */
export interface BpfErrorOptions {
  readonly cause?: unknown;
  readonly errno?: number;
  readonly libbpfLog?: string;
  readonly retriable?: boolean;
}

export class BpfError extends Error {
  readonly retriable: boolean;
  readonly errno: number | undefined;
  readonly libbpfLog: string;

  constructor(message: string, options: BpfErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.retriable = options.retriable ?? false;
    this.errno = options.errno;
    this.libbpfLog = options.libbpfLog ?? '';
  }
}

/** Not root / no CAP_BPF (or CAP_SYS_ADMIN): nothing in this library can work. */
export class BpfPermissionError extends BpfError {}

/** libbpf, the native helper or a kernel filesystem is missing. */
export class BpfEnvironmentError extends BpfError {}

/** An object failed to open or load (verifier rejection, missing map, bad ELF). */
export class BpfLoadError extends BpfError {}

/** A program loaded but could not be attached (lockdown, missing tracepoint, no tracefs). */
export class BpfAttachError extends BpfError {}

/** A map operation failed (`errno` ENOENT for a missing key is reported as a result, not thrown). */
export class BpfMapError extends BpfError {}

/** The ring buffer could not be read. */
export class RingBufferError extends BpfError {}

const ERRNO_NAMES: Readonly<Record<number, string>> = {
  1: 'EPERM',
  2: 'ENOENT',
  3: 'ESRCH',
  7: 'E2BIG',
  9: 'EBADF',
  12: 'ENOMEM',
  13: 'EACCES',
  16: 'EBUSY',
  17: 'EEXIST',
  22: 'EINVAL',
  28: 'ENOSPC',
  95: 'EOPNOTSUPP',
  524: 'ENOTSUPP',
};

/** `EPERM (1)`: the name when known, always the number. */
export function errnoName(errno: number): string {
  const name = ERRNO_NAMES[errno];
  return name === undefined ? `errno ${errno}` : `${name} (${errno})`;
}

/**
 * A rule install on a sensor that did not load (core/unavailable-sensor.ts); `cause` is the error that kept it from
 * loading, and the message says both.
 */
export class SensorUnavailableError extends BpfError {
  readonly sensor: string;

  constructor(sensor: string, loadError: unknown) {
    super(`sensor ${sensor} is not loaded: ${reasonOf(loadError)}`, { cause: loadError });
    this.sensor = sensor;
  }
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
