/**
 * `stinger events [--raw]`: tails stinger.events (or stinger.events.raw) and prints each event as
 * JSON (`-o json`, one object per line) or one compact line, filtered by kind and binary.
 * `--since 10m|2h|<RFC 3339>` starts in the past; without it only new events are shown.
 * Undecodable records are reported on stderr with the reason and skipped.
 */
import { DecodeError, decodeAny, renderEventCompact, renderEventJson, type Event, type RawEvent } from '@stinger/events';
import { createKafkaClient, tailTopic, topicName } from '@stinger/kafka';
import type { Logger } from '@stinger/log';
import type { StingerConfig } from '@stinger/config';
import { resolveBrokers } from '../brokers.ts';
import { CliError } from '../errors.ts';

export interface EventsOptions {
  readonly config: StingerConfig;
  readonly logger: Logger;
  readonly raw: boolean;
  readonly output: 'json' | 'compact';
  readonly since: string | undefined;
  readonly kinds: readonly string[];
  readonly binary: string | undefined;
  readonly out: (line: string) => void;
  /** Stop after this many printed events (tests, scripts); unlimited when undefined. */
  readonly limit: number | undefined;
}

const UNITS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `10m` → now minus 10 minutes; an RFC 3339 time as itself; ms since the epoch. */
export function parseSince(since: string, now = Date.now()): number {
  const relative = /^(\d+)([smhd])$/.exec(since);
  if (relative?.[1] && relative[2]) return now - Number(relative[1]) * (UNITS[relative[2]] ?? 0);
  const absolute = Date.parse(since);
  if (Number.isNaN(absolute)) throw new CliError(`--since "${since}" is neither a duration (30s, 10m, 2h, 1d) nor an RFC 3339 time`);
  return absolute;
}

export function matchesFilters(event: RawEvent | Event, kinds: readonly string[], binary: string | undefined): boolean {
  if (kinds.length > 0 && !kinds.includes(event.kind)) return false;
  if (binary !== undefined && !event.process.binary.includes(binary)) return false;
  return true;
}

/**
 * Output of a tailing command: `emit` prints a line (nothing once `limit` lines were printed); `done` resolves at
 * the limit, or on Ctrl-C (SIGINT) or SIGTERM.
 */
export function tailOutput(out: (line: string) => void, limit: number | undefined): { emit(line: string): void; readonly done: Promise<void> } {
  let printed = 0;
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    finish = resolve;
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  return {
    done,
    emit(line) {
      if (limit !== undefined && printed >= limit) return;
      out(line);
      printed += 1;
      if (limit !== undefined && printed >= limit) finish();
    },
  };
}

export async function events(options: EventsOptions): Promise<number> {
  const { config, logger, raw, output, kinds, binary, out, limit } = options;
  const brokers = await resolveBrokers(config);
  const topic = topicName(raw ? 'eventsRaw' : 'events', config.kafka.topicPrefix);
  const client = createKafkaClient({ brokers, clientId: 'stinger-events', logger });
  const lines = tailOutput(out, limit);
  const tail = await tailTopic({
    client,
    topic,
    sinceMs: options.since === undefined ? null : parseSince(options.since),
    onRecord: (record) => {
      let decoded;
      try {
        decoded = decodeAny(record.value ?? Buffer.alloc(0));
      } catch (error) {
        const reason = error instanceof DecodeError ? error.reason : 'invalid';
        process.stderr.write(`stinger: skipped ${topic}[${record.partition}]@${record.offset}: ${reason}\n`);
        return;
      }
      if (decoded.name !== 'RawEvent' && decoded.name !== 'Event') return;
      const event = decoded.value;
      if (!matchesFilters(event, kinds, binary)) return;
      lines.emit(output === 'json' ? JSON.stringify(renderEventJson(event)) : renderEventCompact(event));
    },
  });
  await lines.done;
  await tail.stop();
  return 0;
}
