/**
 * Keeps client-node ListWatch informers running: client-node restarts only a watch that ended cleanly and relists only
 * on 410 Gone, so an informer whose list or watch fails (API server away, connection reset, a resource not served yet)
 * is restarted here with exponential back-off; a quiet minute since the last failure starts the back-off afresh.
 * Used by every informer of this package (PodIndex, CustomObjectWatch).
 */
import type { KubernetesObject, ListWatch } from '@kubernetes/client-node';
import type { Logger } from '@stinger/log';
import { backoffDelay, type BackoffOptions } from '@stinger/retry';

export class InformerSupervisor {
  readonly #logger: Logger;
  readonly #backoff: BackoffOptions | undefined;
  readonly #timers = new Set<NodeJS.Timeout>();
  #stopped = false;
  #reconnects = 0;

  constructor(logger: Logger, backoff?: BackoffOptions) {
    this.#logger = logger;
    this.#backoff = backoff;
  }

  /** Restarts after the first failure so far. */
  get reconnects(): number {
    return this.#reconnects;
  }

  /** Starts `informer` and restarts it after every failure until `stop()`. */
  supervise(name: string, informer: ListWatch<KubernetesObject>): void {
    let attempt = 0;
    let lastErrorAt = 0;
    let retryPending = false;
    const scheduleRestart = (error: unknown) => {
      if (this.#stopped || retryPending) return;
      if (Date.now() - lastErrorAt > 60_000) attempt = 0;
      attempt += 1;
      lastErrorAt = Date.now();
      const delayMs = backoffDelay(attempt, this.#backoff);
      this.#logger.warn({ informer: name, attempt, delayMs, err: error }, 'watch failed; restarting');
      retryPending = true;
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        retryPending = false;
        if (this.#stopped) return;
        this.#reconnects += 1;
        informer.start().catch(scheduleRestart);
      }, delayMs);
      this.#timers.add(timer);
    };
    informer.on('error', scheduleRestart);
    informer.start().catch(scheduleRestart);
  }

  /** A timer that runs until `stop()` (resyncs and the like). */
  every(ms: number, task: () => void): void {
    const timer = setInterval(task, ms);
    timer.unref();
    this.#timers.add(timer);
  }

  /** No more restarts; the caller stops the informers themselves. */
  stop(): void {
    this.#stopped = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }
}
