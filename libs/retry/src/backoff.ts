export interface BackoffOptions {
  readonly initialMs?: number;
  readonly maxMs?: number;
  /** 0..1: the delay is drawn from [d·(1-jitter), d]. */
  readonly jitter?: number;
  readonly random?: () => number;
}

/** Exponential back-off with jitter: the delay before reconnect attempt `attempt` (1-based). */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const { initialMs = 500, maxMs = 30_000, jitter = 0.2, random = Math.random } = options;
  const base = Math.min(maxMs, initialMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (1 - jitter * random()));
}
