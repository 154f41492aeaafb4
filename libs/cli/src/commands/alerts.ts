/**
 * `stinger alerts [--since 10m] [-o json|compact] [--limit N]`: tails stinger.alerts and prints each alert with what
 * became of it (stinger.enforcements: killed, killed_in_kernel, monitor_only, protected, timed_out, …). An alert is
 * printed once its outcome is known, or after `HOLD_MS` as `pending` (no enforcer running, or no answer yet), so
 * each alert is one line. Undecodable records are reported on stderr and skipped.
 */
import { DecodeError, decodeAlert, decodeEnforcement, renderAlertCompact, renderAlertJson, type Alert, type Enforcement } from '@stinger/events';
import { createKafkaClient, tailTopic, topicName } from '@stinger/kafka';
import type { Logger } from '@stinger/log';
import type { StingerConfig } from '@stinger/config';
import { resolveBrokers } from '../brokers.ts';
import { parseSince, tailOutput } from './events.ts';

/** Longer than the enforcer's default ack timeout (15 s), so a timed_out outcome is still joined. */
export const HOLD_MS = 20_000;

export interface AlertsOptions {
  readonly config: StingerConfig;
  readonly logger: Logger;
  readonly output: 'json' | 'compact';
  readonly since: string | undefined;
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

export async function alerts(options: AlertsOptions): Promise<number> {
  const { config, logger, output, out, limit } = options;
  const client = createKafkaClient({ brokers: await resolveBrokers(config), clientId: 'stinger-alerts', logger });
  const sinceMs = options.since === undefined ? null : parseSince(options.since);
  const joiner = new AlertJoiner();
  const lines = tailOutput(out, limit);
  const print = (pairs: [Alert, Enforcement | null][]): void => {
    for (const [alert, outcome] of pairs) lines.emit(output === 'json' ? JSON.stringify(renderAlertJson(alert, outcome)) : renderAlertCompact(alert, outcome));
  };
  const decodeOrSkip = <T>(decode: (b: Buffer) => T, record: { topic: string; partition: number; offset: bigint; value: Buffer | null }): T | null => {
    try {
      return decode(record.value ?? Buffer.alloc(0));
    } catch (error) {
      process.stderr.write(`stinger: skipped ${record.topic}[${record.partition}]@${record.offset}: ${error instanceof DecodeError ? error.reason : 'invalid'}\n`);
      return null;
    }
  };
  const outcomes = await tailTopic({
    client,
    topic: topicName('enforcements', config.kafka.topicPrefix),
    // Outcomes follow their alerts: start a little earlier so an alert at the edge of --since still finds its own.
    sinceMs: sinceMs === null ? null : sinceMs - 60_000,
    onRecord: (record) => {
      const enforcement = decodeOrSkip(decodeEnforcement, record);
      if (enforcement !== null) print(joiner.enforcement(enforcement));
    },
  });
  const tail = await tailTopic({
    client,
    topic: topicName('alerts', config.kafka.topicPrefix),
    sinceMs,
    onRecord: (record) => {
      const alert = decodeOrSkip(decodeAlert, record);
      if (alert !== null) print(joiner.alert(alert, Date.now()));
    },
  });
  const timer = setInterval(() => print(joiner.due(Date.now())), 1000);
  await lines.done;
  clearInterval(timer);
  await tail.stop();
  await outcomes.stop();
  return 0;
}
