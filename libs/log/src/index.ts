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

// For each namespaced logger: the logger it was derived from (without `ns`) and its full namespace,
// so nesting replaces the `ns` field instead of repeating it (pino children append bindings).
const namespaceOrigins = new WeakMap<Logger, { readonly base: Logger; readonly namespace: string }>();

/** A child logger whose lines carry `ns: <namespace>`; the namespaces nest with dots. */
export function namespaced(logger: Logger, namespace: string): Logger {
  const origin = namespaceOrigins.get(logger);
  const base = origin?.base ?? logger;
  const full = origin ? `${origin.namespace}.${namespace}` : namespace;
  const child = base.child({ ns: full });
  namespaceOrigins.set(child, { base, namespace: full });
  return child;
}

/** A logger that drops everything, for unit tests and library defaults. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
