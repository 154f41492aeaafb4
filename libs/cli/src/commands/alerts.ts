/**
 * `stinger alerts`: prints the alerts of stinger.alerts, each with what became of it (stinger.enforcements: killed,
 * killed_in_kernel, monitor_only, protected, timed_out, …), as one compact line or JSON lines, filtered
 * (record-filter.ts). Without --follow it reads a time range (time-range.ts) and exits: the outcomes recorded by then
 * are joined, an alert with none yet shows `pending`. With --follow each alert is printed once its outcome is known,
 * or after `HOLD_MS` as `pending` (no enforcer running, or no answer yet), so each alert is one line.
 * Undecodable records are reported on stderr and skipped.
 */
import { decodeAlert, decodeEnforcement, renderAlertCompact, renderAlertJson, type Alert, type Enforcement } from '@stinger/events';
import { createKafkaClient, topicName, type KafkaClient } from '@stinger/kafka';
import type { Logger } from '@stinger/log';
import type { StingerConfig } from '@stinger/config';
import { resolveBrokers } from '../brokers.ts';
import { matchesAlert, type AlertFilter } from '../record-filter.ts';
import { decodeOrReport, outputLines, readRecords, type OutputLines } from '../record-reader.ts';
import type { TimeRange } from '../time-range.ts';

/** Longer than the enforcer's default ack timeout (15 s), so a timed_out outcome is still joined. */
export const HOLD_MS = 20_000;
/** Outcomes follow their alerts: read them from a little earlier so an alert at the range's start finds its own. */
const OUTCOME_LEAD_MS = 60_000;

export interface AlertsOptions {
  readonly config: StingerConfig;
  readonly logger: Logger;
  readonly output: 'json' | 'compact';
  readonly range: TimeRange;
  readonly filter: AlertFilter;
  readonly out: (line: string) => void;
  readonly limit: number | undefined;
}

/**
 * Joins alerts with their outcome. Pure: `alert` and `enforcement` take records in any order, `due(now)` releases
 * alerts held past the hold time; each returns the [alert, outcome] pairs ready to print, each alert once.
 */
export class AlertJoiner {
  readonly #held = new Map<string, { alert: Alert; since: number }>();
  readonly #outcomes = new Map<string, Enforcement>();
  readonly #printed = new Set<string>();
  readonly #holdMs: number;

  constructor(holdMs = HOLD_MS) {
    this.#holdMs = holdMs;
  }

  alert(alert: Alert, now: number): [Alert, Enforcement | null][] {
    if (this.#printed.has(alert.id)) return [];
    const outcome = this.#outcomes.get(alert.id);
    if (outcome !== undefined) return this.#release(alert, outcome);
    this.#held.set(alert.id, { alert, since: now });
    return [];
  }

  enforcement(record: Enforcement): [Alert, Enforcement | null][] {
    const held = this.#held.get(record.alert_id);
    if (held !== undefined) return this.#release(held.alert, record);
    if (!this.#printed.has(record.alert_id)) this.#outcomes.set(record.alert_id, record);
    return [];
  }

  due(now: number): [Alert, Enforcement | null][] {
    const ready: [Alert, Enforcement | null][] = [];
    for (const { alert, since } of [...this.#held.values()]) if (now - since >= this.#holdMs) ready.push(...this.#release(alert, null));
    return ready;
  }

  #release(alert: Alert, outcome: Enforcement | null): [Alert, Enforcement | null][] {
    this.#held.delete(alert.id);
    this.#outcomes.delete(alert.id);
    this.#printed.add(alert.id);
    return [[alert, outcome]];
  }
}

interface AlertReading {
  readonly client: KafkaClient;
  readonly alertsTopic: string;
  readonly enforcementsTopic: string;
  readonly lines: OutputLines;
  readonly print: (pairs: readonly [Alert, Enforcement | null][]) => void;
}

/** Bounded: every outcome recorded by now first, then the range's alerts in order, each joined with its own. */
async function readAlertRange(reading: AlertReading, options: AlertsOptions): Promise<void> {
  const { client, lines } = reading;
  const { range, filter } = options;
  const outcomes = new Map<string, Enforcement>();
  await readRecords({
    client,
    topic: reading.enforcementsTopic,
    range: { fromMs: range.fromMs === null ? null : range.fromMs - OUTCOME_LEAD_MS, toMs: null, follow: false },
    signal: lines.signal,
    onBatch: (records) => {
      for (const record of records) {
        const enforcement = decodeOrReport(decodeEnforcement, record);
        if (enforcement !== null) outcomes.set(enforcement.alert_id, enforcement);
      }
    },
  });
  await readRecords({
    client,
    topic: reading.alertsTopic,
    range,
    signal: lines.signal,
    onBatch: (records) => {
      for (const record of records) {
        const alert = decodeOrReport(decodeAlert, record);
        if (alert !== null && matchesAlert(alert, filter)) reading.print([[alert, outcomes.get(alert.id) ?? null]]);
      }
    },
  });
}

/** --follow: alerts and outcomes tailed side by side, joined as they come. */
async function followAlerts(reading: AlertReading, options: AlertsOptions): Promise<void> {
  const { client, lines, print } = reading;
  const joiner = new AlertJoiner();
  const timer = setInterval(() => print(joiner.due(Date.now())), 1000);
  const fromMs = options.range.fromMs;
  await Promise.all([
    readRecords({
      client,
      topic: reading.enforcementsTopic,
      range: { ...options.range, fromMs: fromMs === null ? null : fromMs - OUTCOME_LEAD_MS },
      signal: lines.signal,
      onBatch: (records) => {
        for (const record of records) {
          const enforcement = decodeOrReport(decodeEnforcement, record);
          if (enforcement !== null) print(joiner.enforcement(enforcement));
        }
      },
    }),
    readRecords({
      client,
      topic: reading.alertsTopic,
      range: options.range,
      signal: lines.signal,
      onBatch: (records) => {
        for (const record of records) {
          const alert = decodeOrReport(decodeAlert, record);
          if (alert !== null && matchesAlert(alert, options.filter)) print(joiner.alert(alert, Date.now()));
        }
      },
    }),
  ]);
  clearInterval(timer);
}

export async function alerts(options: AlertsOptions): Promise<number> {
  const { config, logger, output, out, limit } = options;
  const prefix = config.kafka.topicPrefix;
  const lines = outputLines(out, limit);
  const reading: AlertReading = {
    client: createKafkaClient({ brokers: await resolveBrokers(config), connection: config.kafka, role: 'alerts', logger }),
    alertsTopic: topicName('alerts', prefix),
    enforcementsTopic: topicName('enforcements', prefix),
    lines,
    print: (pairs) => {
      for (const [alert, outcome] of pairs) lines.emit(output === 'json' ? JSON.stringify(renderAlertJson(alert, outcome)) : renderAlertCompact(alert, outcome));
    },
  };
  await (options.range.follow ? followAlerts(reading, options) : readAlertRange(reading, options));
  return 0;
}
