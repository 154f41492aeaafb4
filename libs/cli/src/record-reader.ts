/**
 * How the reading commands (`events`, `alerts`, `export`, `replay`) read a topic: a bounded time range streamed to
 * its end (libs/kafka readTopicRange, with progress on a terminal), or --follow (tailTopic until Ctrl-C or the limit);
 * and what they print: lines up to --limit.
 */
import { DecodeError } from '@stinger/events';
import { planTopicRange, readTopicRange, tailTopic, type ConsumedRecord, type KafkaClient } from '@stinger/kafka';
import { createProgress } from './progress.ts';
import type { TimeRange } from './time-range.ts';

export interface OutputLines {
  /** Prints a line; nothing once `limit` lines were printed. */
  emit(line: string): void;
  /** Aborts at the limit, or on Ctrl-C (SIGINT) or SIGTERM: the reading stops. */
  readonly signal: AbortSignal;
}

export function outputLines(out: (line: string) => void, limit: number | undefined): OutputLines {
  const stop = new AbortController();
  const abort = (): void => stop.abort();
  process.once('SIGINT', abort);
  process.once('SIGTERM', abort);
  stop.signal.addEventListener('abort', () => {
    process.off('SIGINT', abort);
    process.off('SIGTERM', abort);
  });
  let printed = 0;
  return {
    signal: stop.signal,
    emit(line) {
      if (limit !== undefined && printed >= limit) return;
      out(line);
      printed += 1;
      if (limit !== undefined && printed >= limit) stop.abort();
    },
  };
}

/** Decodes a record's value, or reports on stderr why it was skipped (`stinger: skipped topic[p]@offset: reason`). */
export function decodeOrReport<T>(decode: (bytes: Buffer) => T, record: ConsumedRecord): T | null {
  try {
    return decode(record.value ?? Buffer.alloc(0));
  } catch (error) {
    process.stderr.write(`stinger: skipped ${record.topic}[${record.partition}]@${record.offset}: ${error instanceof DecodeError ? error.reason : 'invalid'}\n`);
    return null;
  }
}

export interface ReadRecordsOptions {
  readonly client: KafkaClient;
  readonly topic: string;
  readonly range: TimeRange;
  readonly signal: AbortSignal;
  /** Records in offset order per partition. */
  readonly onBatch: (records: readonly ConsumedRecord[]) => void;
  /** Progress label on a terminal (bounded reads); none without. */
  readonly progress?: string;
}

function waitForAbort(signal: AbortSignal): Promise<void> {
  return signal.aborted ? Promise.resolve() : new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

/** Reads the range to its end (or follows until `signal` aborts). Resolves with the number of records read. */
export async function readRecords(options: ReadRecordsOptions): Promise<number> {
  const { client, topic, range, signal, onBatch } = options;
  let records = 0;
  if (range.follow) {
    const tail = await tailTopic({
      client,
      topic,
      sinceMs: range.fromMs,
      onRecord: (record) => {
        records += 1;
        onBatch([record]);
      },
    });
    await waitForAbort(signal);
    await tail.stop();
    return records;
  }
  const plan = await planTopicRange({ client, topic, fromMs: range.fromMs, toMs: range.toMs });
  const progress = options.progress === undefined ? null : createProgress({ label: options.progress, unit: 'records', total: Number(plan.offsets) });
  try {
    await readTopicRange({
      client,
      range: plan,
      signal,
      onBatch: (batch, read) => {
        records += batch.length;
        onBatch(batch);
        progress?.update(Number(read.offsetsRead));
      },
    });
  } finally {
    progress?.finish();
  }
  return records;
}
