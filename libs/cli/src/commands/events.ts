/**
 * `stinger events [--raw]`: prints the events of stinger.events (or stinger.events.raw) as one compact line each, or
 * JSON lines (`-o json`, the event-model names), filtered (record-filter.ts). Without --follow it reads a time range
 * (default: the last 10 minutes up to the end at start, time-range.ts) and exits 0; with --follow it keeps tailing.
 * Undecodable records are reported on stderr with the reason and skipped.
 */
import { decodeAny, renderEventCompact, renderEventJson } from '@stinger/events';
import { createKafkaClient, topicName } from '@stinger/kafka';
import type { Logger } from '@stinger/log';
import type { StingerConfig } from '@stinger/config';
import { resolveBrokers } from '../brokers.ts';
import { matchesEvent, type EventFilter } from '../record-filter.ts';
import { decodeOrReport, outputLines, readRecords } from '../record-reader.ts';
import type { TimeRange } from '../time-range.ts';

export interface EventsOptions {
  readonly config: StingerConfig;
  readonly logger: Logger;
  readonly raw: boolean;
  readonly output: 'json' | 'compact';
  readonly range: TimeRange;
  readonly filter: EventFilter;
  readonly out: (line: string) => void;
  /** Stop after this many printed events (tests, scripts); unlimited when undefined. */
  readonly limit: number | undefined;
}

export async function events(options: EventsOptions): Promise<number> {
  const { config, logger, raw, output, filter, out, limit } = options;
  const topic = topicName(raw ? 'eventsRaw' : 'events', config.kafka.topicPrefix);
  const client = createKafkaClient({ brokers: await resolveBrokers(config), connection: config.kafka, role: 'events', logger });
  const lines = outputLines(out, limit);
  await readRecords({
    client,
    topic,
    range: options.range,
    signal: lines.signal,
    onBatch: (records) => {
      for (const record of records) {
        const decoded = decodeOrReport(decodeAny, record);
        if (decoded === null || (decoded.name !== 'RawEvent' && decoded.name !== 'Event')) continue;
        const event = decoded.value;
        if (matchesEvent(event, filter)) lines.emit(output === 'json' ? JSON.stringify(renderEventJson(event)) : renderEventCompact(event, { withPod: true }));
      }
    },
  });
  return 0;
}
