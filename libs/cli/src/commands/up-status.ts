/**
 * The status line of a foreground `stinger up`:
 *   `12:01:05  5/5 services running · 84 events/s · 3 alerts · no consumer lag`
 * On a terminal it is redrawn in place every few seconds; anywhere else (a pipe, a CI log) it is printed as a line
 * at most once a minute, so a long run's output stays short.
 *
 * Events per second come from the end offsets of stinger.events.raw: the agents write it with an idempotent,
 * non-transactional producer, so each offset is one event (the enricher's stinger.events is transactional and its
 * offsets count commit markers too). Alerts are counted by reading stinger.alerts from the time `stinger up` began.
 */
import { createKafkaClient, fetchConsumerLag, fetchTopicOffsets, tailTopic, topicName, type KafkaConnectionSettings, type Tail, type TopicId } from '@stinger/kafka';
import type { Logger } from '@stinger/log';

/** How often the figures are collected (and, on a terminal, the line redrawn). */
export const STATUS_REFRESH_MS = 5000;
/** Without a terminal, at most one status line per this many milliseconds. */
export const STATUS_LINE_INTERVAL_MS = 60_000;
/** Carriage return and erase the line: the cursor is back at its start. */
const CLEAR_LINE = '\r\x1b[2K';
/** A consumer this many records behind its input is named on the status line. */
export const LAGGING_RECORDS = 100;

/** The services that consume a topic in a consumer group named `<prefix>stinger.<service>`, and that topic. */
const CONSUMERS: readonly (readonly [string, TopicId])[] = [
  ['enricher', 'eventsRaw'],
  ['detector', 'events'],
  ['enforcer', 'alerts'],
];

export interface UpStatus {
  readonly atMs: number;
  readonly servicesRunning: number;
  readonly servicesStarted: number;
  /** Null until two samples of the end offsets exist, or while the broker does not answer. */
  readonly eventsPerSecond: number | null;
  readonly alerts: number;
  readonly lagging: readonly { readonly service: string; readonly lag: number }[];
  /** Why the broker's figures are missing, when they are. */
  readonly brokerError: string | null;
}

function timeOfDay(ms: number): string {
  const date = new Date(ms);
  return [date.getHours(), date.getMinutes(), date.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

/** The status line. Pure. */
export function formatUpStatus(status: UpStatus): string {
  const parts = [`${status.servicesRunning}/${status.servicesStarted} services running`];
  if (status.brokerError !== null) {
    parts.push(`broker not answering (${status.brokerError})`);
  } else {
    parts.push(status.eventsPerSecond === null ? '… events/s' : `${Math.round(status.eventsPerSecond)} events/s`);
    parts.push(`${status.alerts} alert${status.alerts === 1 ? '' : 's'}`);
    parts.push(status.lagging.length === 0 ? 'no consumer lag' : `lagging: ${status.lagging.map((l) => `${l.service} ${l.lag} behind`).join(', ')}`);
  }
  return `${timeOfDay(status.atMs)}  ${parts.join(' · ')}`;
}

/** Records per second between two samples of a topic's end offsets; null without a previous sample. Pure. */
export function recordsPerSecond(previous: { readonly total: bigint; readonly atMs: number } | null, current: { readonly total: bigint; readonly atMs: number }): number | null {
  if (previous === null || current.atMs <= previous.atMs) return null;
  const records = current.total > previous.total ? Number(current.total - previous.total) : 0;
  return (records * 1000) / (current.atMs - previous.atMs);
}

/** The consumers named on the status line. Pure. */
export function laggingConsumers(lags: readonly { readonly service: string; readonly lag: number }[]): { service: string; lag: number }[] {
  return lags.filter((l) => l.lag >= LAGGING_RECORDS).map((l) => ({ service: l.service, lag: l.lag }));
}

/**
 * Where the status line goes. On a terminal (`redraw` given: raw writes to it) the line is redrawn in place, and
 * cleared before any other line is printed, then drawn again under it; elsewhere a status is printed as a line when
 * the last was printed a minute ago or more.
 */
export class StatusDisplay {
  readonly #out: (line: string) => void;
  readonly #redraw: ((text: string) => void) | null;
  readonly #width: () => number | undefined;
  #current: string | null = null;
  #lastPrintedMs: number | null = null;

  /** `width`: the terminal's columns; a longer status is cut, as a wrapped one could not be redrawn in place. */
  constructor(options: { readonly out: (line: string) => void; readonly redraw?: (text: string) => void; readonly width?: () => number | undefined }) {
    this.#out = options.out;
    this.#redraw = options.redraw ?? null;
    this.#width = options.width ?? (() => undefined);
  }

  /** Whether the status is redrawn in place on a terminal. */
  get terminal(): boolean {
    return this.#redraw !== null;
  }

  /** A line that stays (a service that exited, a log line). */
  line(text: string): void {
    if (this.#redraw === null || this.#current === null) {
      this.#out(text);
      return;
    }
    this.#redraw(CLEAR_LINE);
    this.#out(text);
    this.#redraw(this.#current);
  }

  status(text: string, nowMs: number): void {
    if (this.#redraw !== null) {
      const width = this.#width();
      this.#current = width !== undefined && text.length >= width ? `${text.slice(0, Math.max(0, width - 2))}…` : text;
      this.#redraw(`${CLEAR_LINE}${this.#current}`);
      return;
    }
    if (this.#lastPrintedMs !== null && nowMs - this.#lastPrintedMs < STATUS_LINE_INTERVAL_MS) return;
    this.#lastPrintedMs = nowMs;
    this.#out(text);
  }

  /** On a terminal, leaves the last status as a line of its own. */
  finish(): void {
    if (this.#redraw !== null && this.#current !== null) {
      this.#redraw(CLEAR_LINE);
      this.#out(this.#current);
    }
    this.#current = null;
  }
}

export interface UpStatusCollector {
  /** The broker's figures now; never rejects (a broker that does not answer is part of the status). */
  collect(services: { readonly running: number; readonly started: number }): Promise<UpStatus>;
  /** Never rejects. */
  stop(): Promise<void>;
}

/**
 * Collects the figures of the status line from the broker. Nothing connects until the first collect(); stop() ends
 * the alerts tail (deleting its throw-away group).
 */
export function createUpStatusCollector(options: {
  readonly brokers: string;
  readonly connection: KafkaConnectionSettings;
  readonly prefix: string;
  readonly sinceMs: number;
  readonly logger: Logger;
}): UpStatusCollector {
  const { prefix, logger } = options;
  const client = createKafkaClient({ brokers: options.brokers.split(','), connection: options.connection, role: 'up-status', logger, retries: 1 });
  let alerts = 0;
  let alertsTail: Tail | null = null;
  let previous: { total: bigint; atMs: number } | null = null;
  return {
    async collect(services) {
      const atMs = Date.now();
      const base = { atMs, servicesRunning: services.running, servicesStarted: services.started };
      try {
        alertsTail ??= await tailTopic({ client, topic: topicName('alerts', prefix), sinceMs: options.sinceMs, onRecord: () => void (alerts += 1) });
        const offsets = await fetchTopicOffsets(client, topicName('eventsRaw', prefix));
        const current = { total: offsets.partitions.reduce((sum, p) => sum + p.high, 0n), atMs };
        const eventsPerSecond = recordsPerSecond(previous, current);
        previous = current;
        const lags: { service: string; lag: number }[] = [];
        for (const [service, input] of CONSUMERS) {
          const { lag, committed } = await fetchConsumerLag(client, `${prefix}stinger.${service}`, topicName(input, prefix));
          if (committed) lags.push({ service, lag: Number(lag) });
        }
        return { ...base, alerts, eventsPerSecond, lagging: laggingConsumers(lags), brokerError: null };
      } catch (error) {
        previous = null;
        return { ...base, alerts, eventsPerSecond: null, lagging: [], brokerError: (error as Error).message };
      }
    },
    // Never rejects either: it runs while `stinger up` stops, when the broker may already be gone, and the
    // services must still be stopped after it.
    async stop() {
      try {
        await alertsTail?.stop();
      } catch (error) {
        logger.debug({ err: error }, 'alerts tail of the status line not stopped cleanly');
      }
    },
  };
}
