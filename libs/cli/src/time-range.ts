/**
 * The time range of a reading command (`events`, `alerts`, `replay`, `export`): `--from`/`--since`, `--to`,
 * `--follow`. Times are a duration back from now (`30s`, `10m`, `2h`, `1d`), an RFC 3339 time, or `now`.
 *
 * Semantics, as kcat (`-o s@T -o e@T -e`) and `tetra getevents` users expect:
 *  - without --follow the command reads from --from (default: `DEFAULT_LOOKBACK`, the last 10 minutes, so a busy
 *    topic's whole retention is never dumped by accident) up to --to (default: the end of the topic when the command
 *    starts) and exits 0;
 *  - with --follow it starts at --from (default: only new records) and keeps tailing until Ctrl-C; --to is refused.
 */
import { CliError } from './errors.ts';

export interface TimeRange {
  /** ms since the epoch; null: the oldest retained record (bounded) or only new records (--follow). */
  readonly fromMs: number | null;
  /** ms since the epoch, exclusive; null: the end offsets at start. Always null with follow. */
  readonly toMs: number | null;
  readonly follow: boolean;
}

export const DEFAULT_LOOKBACK = '10m';

const UNITS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `10m` → now minus 10 minutes; `now`; an RFC 3339 time as itself; in ms since the epoch. */
export function parseTime(flag: string, value: string, now: number): number {
  if (value === 'now') return now;
  const relative = /^(\d+)([smhd])$/.exec(value);
  if (relative?.[1] && relative[2]) return now - Number(relative[1]) * (UNITS[relative[2]] ?? 0);
  const absolute = /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(absolute)) throw new CliError(`${flag} "${value}" is neither a duration (30s, 10m, 2h, 1d), now, nor an RFC 3339 time`, 2);
  return absolute;
}

export interface TimeRangeFlags {
  readonly from?: string | undefined;
  readonly since?: string | undefined;
  readonly to?: string | undefined;
  readonly follow?: boolean | undefined;
}

/**
 * The range the flags ask for. `defaultFrom`: what a bounded read starts at without --from (`DEFAULT_LOOKBACK`, or
 * null for commands that require --from and say so).
 */
export function timeRange(flags: TimeRangeFlags, options: { readonly now: number; readonly defaultFrom: string | null }): TimeRange {
  const { now } = options;
  if (flags.from !== undefined && flags.since !== undefined) throw new CliError('--from and --since are the same option: give one', 2);
  const fromFlag = flags.from !== undefined ? '--from' : '--since';
  const from = flags.from ?? flags.since;
  const follow = flags.follow === true;
  if (follow) {
    if (flags.to !== undefined) throw new CliError('--to and --follow do not go together: --follow keeps reading new records', 2);
    return { fromMs: from === undefined ? null : parseTime(fromFlag, from, now), toMs: null, follow };
  }
  const start = from ?? options.defaultFrom;
  if (start === null) throw new CliError('--from is required (a duration such as 1h, or an RFC 3339 time)', 2);
  const fromMs = parseTime(fromFlag, start, now);
  const toMs = flags.to === undefined ? null : parseTime('--to', flags.to, now);
  if (toMs !== null && toMs <= fromMs) throw new CliError(`--to (${new Date(toMs).toISOString()}) is not after --from (${new Date(fromMs).toISOString()})`, 2);
  return { fromMs, toMs, follow };
}
