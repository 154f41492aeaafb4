/**
 * PolicyStatusReporter: delivers the latest PolicyStatus of each policy (or its tombstone) to the
 * status topic, without losing one to a broker that is away. Statuses wait until `start()` (called once
 * the producer is connected); a failed send is kept and sent again on the next `flush()`, and only the
 * latest status per key is ever sent — an older one replaced while waiting is dropped, as the
 * compacted topic would drop it anyway.
 */
import { namespaced, type Logger } from '@stinger/log';
import type { PolicyStatus } from '@stinger/events';

export interface PolicyStatusReporterOptions {
  /** Sends one status (null: tombstone) keyed by `key`; resolves when acknowledged. */
  readonly send: (key: string, status: PolicyStatus | null) => Promise<void>;
  readonly logger: Logger;
}

export class PolicyStatusReporter {
  readonly #send: PolicyStatusReporterOptions['send'];
  readonly #logger: Logger;
  readonly #pending = new Map<string, PolicyStatus | null>();
  #started = false;
  #flushing: Promise<void> | null = null;

  constructor(options: PolicyStatusReporterOptions) {
    this.#send = options.send;
    this.#logger = namespaced(options.logger, 'PolicyStatusReporter');
  }

  get pending(): number {
    return this.#pending.size;
  }

  report(key: string, status: PolicyStatus | null): void {
    this.#pending.set(key, status);
    if (this.#started) void this.flush();
  }

  start(): Promise<void> {
    this.#started = true;
    return this.flush();
  }

  /** Sends what is pending; what fails stays pending. Concurrent calls share one pass. */
  flush(): Promise<void> {
    if (!this.#started) return Promise.resolve();
    this.#flushing ??= this.#flushOnce().finally(() => {
      this.#flushing = null;
    });
    return this.#flushing;
  }

  async #flushOnce(): Promise<void> {
    for (const [key, status] of [...this.#pending]) {
      try {
        await this.#send(key, status);
        // Delivered, unless a newer status arrived while sending: that one stays pending.
        if (this.#pending.get(key) === status) this.#pending.delete(key);
      } catch (error) {
        this.#logger.warn({ err: error, policy: key }, 'policy status not delivered yet; will retry');
      }
    }
  }
}
