/**
 * `stinger export --from T [--to T] [--topic events|events.raw|alerts] [filters]`: a time range of a topic as JSON
 * lines on stdout, for evidence: each line is one record with where it is stored (topic, partition, offset, the
 * record's timestamp and key) and its value in the JSON rendering of `stinger events -o json` / `alerts -o json`.
 * Reads only (a consumer that never commits); a progress line on a terminal, and one summary line on stderr.
 */
import { decodeAlert, decodeAny, renderAlertJson, renderEventJson, type JsonValue } from '@stinger/events';
import type { StingerConfig } from '@stinger/config';
import { createKafkaClient, topicName, type ConsumedRecord, type TopicId } from '@stinger/kafka';
import type { Logger } from '@stinger/log';
import { resolveBrokers } from '../brokers.ts';
import { CliError } from '../errors.ts';
import { matchesAlert, matchesEvent, type AlertFilter } from '../record-filter.ts';
import { decodeOrReport, outputLines, readRecords } from '../record-reader.ts';
import type { TimeRange } from '../time-range.ts';

/** The topics `--topic` takes, by the name without prefix, and how each value is rendered (null: filtered out). */
const EXPORTABLE: Readonly<Record<string, { readonly id: TopicId; readonly render: (record: ConsumedRecord, filter: AlertFilter) => JsonValue | null }>> = {
  'stinger.events': { id: 'events', render: renderEventRecord },
  'stinger.events.raw': { id: 'eventsRaw', render: renderEventRecord },
  'stinger.alerts': { id: 'alerts', render: renderAlertRecord },
};

function renderEventRecord(record: ConsumedRecord, filter: AlertFilter): JsonValue | null {
  const decoded = decodeOrReport(decodeAny, record);
  if (decoded === null || (decoded.name !== 'Event' && decoded.name !== 'RawEvent') || !matchesEvent(decoded.value, filter)) return null;
  return renderEventJson(decoded.value);
}

function renderAlertRecord(record: ConsumedRecord, filter: AlertFilter): JsonValue | null {
  const alert = decodeOrReport(decodeAlert, record);
  return alert === null || !matchesAlert(alert, filter) ? null : renderAlertJson(alert, null);
}

export interface ExportOptions {
  readonly config: StingerConfig;
  readonly logger: Logger;
  /** events, events.raw or alerts (with or without the `stinger.` start). */
  readonly topic: string;
  readonly range: TimeRange;
  readonly filter: AlertFilter;
  readonly out: (line: string) => void;
  readonly limit: number | undefined;
}

export async function exportRecords(options: ExportOptions): Promise<number> {
  const { config, logger, range, filter } = options;
  const name = options.topic.startsWith('stinger.') ? options.topic : `stinger.${options.topic}`;
  const exportable = EXPORTABLE[name];
  if (exportable === undefined) throw new CliError(`--topic "${options.topic}" is not one of events, events.raw, alerts`, 2);
  const topic = topicName(exportable.id, config.kafka.topicPrefix);
  const client = createKafkaClient({ brokers: await resolveBrokers(config), connection: config.kafka, role: 'export', logger });
  const lines = outputLines(options.out, options.limit);
  let exported = 0;
  const records = await readRecords({
    client,
    topic,
    range: { ...range, follow: false },
    signal: lines.signal,
    progress: 'export',
    onBatch: (batch) => {
      for (const record of batch) {
        const value = exportable.render(record, filter);
        if (value === null) continue;
        exported += 1;
        const stored = { topic, partition: record.partition, offset: record.offset.toString(), timestamp: new Date(record.timestampMs).toISOString(), key: record.key?.toString() ?? null };
        lines.emit(JSON.stringify({ ...stored, value }));
      }
    },
  });
  const span = `${range.fromMs === null ? 'the oldest record' : new Date(range.fromMs).toISOString()} to ${range.toMs === null ? 'the end' : new Date(range.toMs).toISOString()}`;
  process.stderr.write(`exported ${exported} of ${records} records of ${topic}, ${span}\n`);
  return 0;
}
