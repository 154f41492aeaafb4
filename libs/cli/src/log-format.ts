/**
 * `stinger up --logs`: the services' pino JSON logs as one line each for people —
 * `12:01:05.123 INFO  detector  PartitionDetector: alert raised policy=deny-shadow rule=0` — and a follower that
 * prints what each service's log file gains. Lines that are not pino JSON (a crash's stack trace) pass as they are.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';

const LEVEL_NAMES: Readonly<Record<number, string>> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const LEVEL_COLOURS: Readonly<Record<number, string>> = { 10: '\x1b[90m', 20: '\x1b[90m', 30: '\x1b[32m', 40: '\x1b[33m', 50: '\x1b[31m', 60: '\x1b[35m' };
const RESET = '\x1b[0m';
/** pino's own fields, and those the line already shows; every other field is a key field, shown as key=value. */
const SHOWN_FIELDS = new Set(['level', 'time', 'pid', 'hostname', 'name', 'ns', 'msg', 'v']);
/** Longest a key field's value may be on the line; the log file keeps all of it. */
const MAX_VALUE_LENGTH = 120;

export interface LogFormatOptions {
  /** ANSI colours for the level (a terminal). */
  readonly colour: boolean;
}

/** Bytes in a file; 0 when it does not exist. */
export function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

function timeOfDay(ms: number): string {
  const date = new Date(ms);
  const pad = (n: number, width = 2): string => String(n).padStart(width, '0');
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

function fieldValue(value: unknown): string {
  if (value !== null && typeof value === 'object' && 'message' in value && typeof value.message === 'string') {
    // A serialised error: its type and message; the stack stays in the file.
    const type = 'type' in value && typeof value.type === 'string' ? `${value.type}: ` : '';
    return JSON.stringify(`${type}${value.message}`);
  }
  const text = typeof value === 'string' ? (/^[^\s"=]+$/.test(value) ? value : JSON.stringify(value)) : JSON.stringify(value);
  return text.length > MAX_VALUE_LENGTH ? `${text.slice(0, MAX_VALUE_LENGTH - 1)}…` : text;
}

/** One log line of `service` for people. Pure. */
export function formatLogLine(service: string, line: string, options: LogFormatOptions): string {
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch {
    record = undefined;
  }
  if (record === null || typeof record !== 'object' || Array.isArray(record) || typeof (record as { level?: unknown }).level !== 'number') {
    return `${' '.repeat(18)} ${service}  ${line}`;
  }
  const fields = record as Record<string, unknown>;
  const level = fields['level'] as number;
  const time = typeof fields['time'] === 'number' ? timeOfDay(fields['time']) : ' '.repeat(12);
  const name = (LEVEL_NAMES[level] ?? String(level)).padEnd(5);
  const shownLevel = options.colour ? `${LEVEL_COLOURS[level] ?? ''}${name}${RESET}` : name;
  const ns = typeof fields['ns'] === 'string' ? `${fields['ns']}: ` : '';
  const msg = typeof fields['msg'] === 'string' ? fields['msg'] : '';
  const keys = Object.entries(fields)
    .filter(([key]) => !SHOWN_FIELDS.has(key))
    .map(([key, value]) => `${key}=${fieldValue(value)}`);
  return [`${time} ${shownLevel} ${service}  ${ns}${msg}`, ...keys].join(' ');
}

export interface LogFollower {
  /** Prints what the files gained since the last call (whole lines only). */
  poll(): void;
}

/**
 * Follows log files from `offset` (default: their current end): each poll() hands every complete new line to
 * `onLine`, a partial last line waits for its end. A file that does not exist yet is followed from its start once it
 * appears.
 */
export function followLogFiles(files: readonly { readonly service: string; readonly file: string; readonly offset?: number }[], onLine: (service: string, line: string) => void): LogFollower {
  const followed = files.map(({ service, file, offset }) => ({ service, file, offset: offset ?? fileSize(file), partial: '', decoder: new StringDecoder('utf8') }));
  return {
    poll() {
      for (const entry of followed) {
        const size = fileSize(entry.file);
        if (size < entry.offset) entry.offset = 0; // truncated: start again
        if (size === entry.offset) continue;
        const buffer = Buffer.alloc(size - entry.offset);
        const fd = openSync(entry.file, 'r');
        try {
          readSync(fd, buffer, 0, buffer.length, entry.offset);
        } finally {
          closeSync(fd);
        }
        entry.offset = size;
        // The decoder keeps a character cut at the end of the read for the next one.
        const lines = (entry.partial + entry.decoder.write(buffer)).split('\n');
        entry.partial = lines.pop() ?? '';
        for (const line of lines) if (line.trim() !== '') onLine(entry.service, line);
      }
    },
  };
}
