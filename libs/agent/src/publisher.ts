/**
 * EventPublisher: hands encoded events to Kafka without ever blocking the sensor, and without losing
 * them when Kafka is away. Records go straight to the producer while it keeps up; when its queue is
 * at `maxQueued` or a send fails, the publisher switches to spooling — every record then goes to the
 * on-disk spool (keeping order), and a retry loop delivers the spool oldest-first before switching
 * back. Records beyond the spool's bound are counted as lost (metric and log), never silently; audit records
 * (PublishOptions.audit) are shed earlier, past three quarters of it, and counted apart (EventSpool).
 *
 * Until `start()` (called once the sink is connected) every record goes to the spool: a send through a
 * sink that is still connecting can fail after the broker wrote it, and the retry would duplicate it.
 * Delivery is at least once: a send that failed after all producer retries may still have been
 * written. The resend goes out under a new producer id (libs/kafka producer.ts), so it is written again rather than
 * dropped as a duplicate; the enricher drops the second copy by (agent_id, seq) (libs/enrichment repeat-filter.ts).
 */
import { namespaced, type Logger } from '@stinger/log';
import type { EventSpool, SpooledRecord } from './spool.ts';

export interface RecordSink {
  /** Resolves once the broker acknowledged the record. */
  enqueue(record: SpooledRecord): Promise<void>;
  /** Sends records now, in order; resolves once all are acknowledged. */
  sendBatch(records: readonly SpooledRecord[]): Promise<void>;
  readonly queuedRecords: number;
  /** Sends what is queued now instead of at the end of the linger (urgent records). */
  flushSoon?(): void;
}

export type PublisherMode = 'direct' | 'spooling';

export interface EventPublisherOptions {
  readonly sink: RecordSink;
  readonly spool: EventSpool;
  readonly logger: Logger;
  readonly maxQueued?: number;
  readonly retryIntervalMs?: number;
  /** Observes produce latency (ms from publish to acknowledgement) for metrics. */
  readonly onAck?: (latencyMs: number) => void;
}

/** How publish treats one record. */
export interface PublishOptions {
  /**
   * A record a pipeline kill rule waits for: sent at once rather than after the producer's linger, which would
   * otherwise be most of the kill's latency (docs/BENCHMARKS.md, kill latency).
   */
  readonly urgent?: boolean;
  /** A record that only reports (no action taken, no process life cycle): the first the spool sheds when it fills. */
  readonly audit?: boolean;
}

export interface PublisherStats {
  readonly mode: PublisherMode;
  readonly published: number;
  readonly acknowledged: number;
  readonly spooled: number;
  /** Records the full spool refused. */
  readonly lost: number;
  /** Audit records the spool refused past three quarters of its bound (SPOOL_AUDIT_SHARE). */
  readonly shed: number;
  readonly queued: number;
}

export class EventPublisher {
  readonly #sink: RecordSink;
  readonly #spool: EventSpool;
  readonly #logger: Logger;
  readonly #maxQueued: number;
  readonly #retryIntervalMs: number;
  readonly #onAck: (latencyMs: number) => void;
  #mode: PublisherMode = 'spooling';
  #published = 0;
  #acknowledged = 0;
  #spooled = 0;
  #lost = 0;
  #shed = 0;
  #timer: NodeJS.Timeout | null = null;
  #draining: Promise<void> | null = null;

  constructor(options: EventPublisherOptions) {
    this.#sink = options.sink;
    this.#spool = options.spool;
    this.#logger = namespaced(options.logger, 'EventPublisher');
    this.#maxQueued = options.maxQueued ?? 50_000;
    this.#retryIntervalMs = options.retryIntervalMs ?? 1000;
    this.#onAck = options.onAck ?? (() => {});
  }

  /** The sink is connected: deliver the spool (records of earlier runs first), then publish directly. */
  start(): Promise<void> {
    this.#timer ??= setInterval(() => void this.drainSpool(), this.#retryIntervalMs);
    return this.drainSpool();
  }

  publish(record: SpooledRecord, options: PublishOptions = {}): void {
    const audit = options.audit ?? false;
    this.#published += 1;
    if (this.#mode === 'spooling' || this.#sink.queuedRecords >= this.#maxQueued) {
      this.#toSpool(record, audit);
      return;
    }
    const started = performance.now();
    this.#sink.enqueue(record).then(
      () => {
        this.#acknowledged += 1;
        this.#onAck(performance.now() - started);
      },
      (error: unknown) => {
        if (this.#mode === 'direct') this.#logger.warn({ err: error }, 'Kafka did not take records; spooling to disk');
        this.#toSpool(record, audit);
      },
    );
    if (options.urgent) this.#sink.flushSoon?.();
  }

  /** Delivers the spool oldest-first; back to direct mode once it is empty. Safe to call concurrently. */
  drainSpool(): Promise<void> {
    this.#draining ??= this.#drain().finally(() => {
      this.#draining = null;
    });
    return this.#draining;
  }

  stats(): PublisherStats {
    return {
      mode: this.#mode,
      published: this.#published,
      acknowledged: this.#acknowledged,
      spooled: this.#spooled,
      lost: this.#lost,
      shed: this.#shed,
      queued: this.#sink.queuedRecords + this.#spool.stats().records,
    };
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#draining;
    this.#spool.close();
  }

  #toSpool(record: SpooledRecord, audit: boolean): void {
    this.#mode = 'spooling';
    const outcome = this.#spool.append(record, audit);
    if (outcome === 'spooled') {
      this.#spooled += 1;
      return;
    }
    if (outcome === 'shed') {
      this.#shed += 1;
      return;
    }
    this.#lost += 1;
    // One line per power of ten lost keeps the log readable during a long outage.
    if (Number.isInteger(Math.log10(this.#lost))) this.#logger.error({ lost: this.#lost }, 'spool full: events lost');
  }

  async #drain(): Promise<void> {
    if (this.#mode !== 'spooling' || this.#timer === null) return;
    for (;;) {
      const segment = this.#spool.oldest();
      if (!segment) break;
      try {
        const started = performance.now();
        await this.#sink.sendBatch(segment.records);
        this.#acknowledged += segment.records.length;
        this.#onAck(performance.now() - started);
      } catch (error) {
        this.#logger.debug({ err: error }, 'spool delivery failed; will retry');
        return;
      }
      this.#spool.delivered(segment);
    }
    this.#logger.info('spool delivered; publishing directly again');
    this.#mode = 'direct';
  }
}
