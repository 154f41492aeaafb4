/**
 * The live stream (GET /api/v1/stream): Server-Sent Events to every subscriber whose filters a new row matches.
 *
 * Contract: the service publishes each row the store stored, once, right after the store's transaction; a
 * subscriber gets the rows published after it subscribed (the page loads what came before with /api/v1/events).
 * A `: ping` comment every 15 s keeps proxies from closing an idle stream. A subscriber that does not read (more than
 * `maxBufferedBytes` waiting in its socket) is disconnected rather than buffered without bound; the page reconnects.
 */
import type { ServerResponse } from 'node:http';
import type { AlertRow, EnforcementMessage, EventRow, Filters } from '@stinger/console-api';
import { alertMatches, eventMatches } from '@stinger/console-store';
import { namespaced, type Logger } from '@stinger/log';

export type LiveMessage = { readonly type: 'event'; readonly row: EventRow } | { readonly type: 'alert'; readonly row: AlertRow } | { readonly type: 'enforcement'; readonly row: EnforcementMessage };

export const PING_INTERVAL_MS = 15_000;
const DEFAULT_MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

interface Subscriber {
  readonly response: ServerResponse;
  readonly filters: Filters;
}

export interface LiveHub {
  /** Answers `response` as an event stream until the client goes away or the hub closes. */
  subscribe(response: ServerResponse, filters: Filters): void;
  publish(message: LiveMessage): void;
  readonly subscribers: number;
  /** Ends every stream (at shutdown). */
  close(): void;
}

function matches(message: LiveMessage, filters: Filters): boolean {
  switch (message.type) {
    case 'event':
      return eventMatches(message.row, filters);
    case 'alert':
      return alertMatches(message.row, filters);
    case 'enforcement':
      // An outcome names only its alert: the page applies it to the alert it shows, if any.
      return true;
  }
}

export function createLiveHub(options: { logger: Logger; pingIntervalMs?: number; maxBufferedBytes?: number }): LiveHub {
  const logger = namespaced(options.logger, 'LiveHub');
  const maxBufferedBytes = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
  const subscribers = new Set<Subscriber>();

  const drop = (subscriber: Subscriber) => {
    subscribers.delete(subscriber);
    subscriber.response.end();
  };
  const write = (subscriber: Subscriber, text: string) => {
    if (subscriber.response.writableLength > maxBufferedBytes) {
      logger.warn({ buffered: subscriber.response.writableLength }, 'stream subscriber not reading: disconnected');
      drop(subscriber);
      return;
    }
    subscriber.response.write(text);
  };

  const pinger = setInterval(() => {
    for (const subscriber of subscribers) write(subscriber, ': ping\n\n');
  }, options.pingIntervalMs ?? PING_INTERVAL_MS);
  pinger.unref();

  return {
    subscribe(response, filters) {
      const subscriber: Subscriber = { response, filters };
      response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      // The first bytes go out at once, so the client sees the stream open before any event.
      response.write(': connected\n\n');
      subscribers.add(subscriber);
      response.on('close', () => subscribers.delete(subscriber));
    },
    publish(message) {
      let text: string | null = null;
      for (const subscriber of subscribers) {
        if (!matches(message, subscriber.filters)) continue;
        text ??= `event: ${message.type}\ndata: ${JSON.stringify(message.row)}\n\n`;
        write(subscriber, text);
      }
    },
    get subscribers() {
      return subscribers.size;
    },
    close() {
      clearInterval(pinger);
      for (const subscriber of [...subscribers]) drop(subscriber);
    },
  };
}
