/**
 * Structured logging for every Stinger process.
 *
 * Contract: `main.ts` of each service (or the CLI) creates exactly one root logger with
 * `createLogger` and hands it down; every module takes a namespaced child through
 * `namespaced(logger, 'Module')`, so each line says which part of the process wrote it.
 * Libraries never write to stdout themselves.
 */
import { pino, type Logger as PinoLogger, type DestinationStream, type LevelWithSilent } from 'pino';

export type Logger = PinoLogger;
export type LogLevel = LevelWithSilent;

export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export interface CreateLoggerOptions {
  /** Process name, e.g. `agent` or `cli`; becomes the `name` field of every line. */
  readonly name: string;
  readonly level?: LogLevel;
  /** Where lines go; stderr by default so stdout stays free for command output. */
  readonly destination?: DestinationStream;
}

export function createLogger({ name, level = 'info', destination }: CreateLoggerOptions): Logger {
  return pino({ name, level, base: { pid: process.pid } }, destination ?? pino.destination(2));
}

/** A child logger whose lines carry `ns: <namespace>`; the namespaces nest with dots. */
export function namespaced(logger: Logger, namespace: string): Logger {
  const parent = logger.bindings()['ns'];
  return logger.child({ ns: typeof parent === 'string' ? `${parent}.${namespace}` : namespace });
}

/** A logger that drops everything, for unit tests and library defaults. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
