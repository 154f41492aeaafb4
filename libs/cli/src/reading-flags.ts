/**
 * The flags the reading commands share (`events`, `alerts`, `replay`, `export`), as node:util parseArgs option specs,
 * and their checked values: a bad value is a usage error (exit 2) naming the flag.
 */
import { EVENT_KIND_SYMBOLS, SEVERITY_SYMBOLS } from '@stinger/events';
import { CliError } from './errors.ts';
import type { AlertFilter, EventFilter } from './record-filter.ts';

/** A repeatable string flag (its values in order; none: []). */
const repeatable = () => ({ type: 'string', multiple: true, default: [] as string[] }) as const;

export const RANGE_FLAGS = {
  from: { type: 'string' },
  since: { type: 'string' },
  to: { type: 'string' },
  follow: { type: 'boolean', short: 'f', default: false },
} as const;

export const EVENT_FILTER_FLAGS = {
  kind: repeatable(),
  namespace: repeatable(),
  pod: repeatable(),
  node: repeatable(),
  binary: { type: 'string' },
} as const;

export const ALERT_FILTER_FLAGS = {
  ...EVENT_FILTER_FLAGS,
  severity: repeatable(),
  policy: repeatable(),
} as const;

export const OUTPUT_FLAGS = {
  output: { type: 'string', short: 'o', default: 'compact' },
  limit: { type: 'string' },
} as const;

function oneOf(flag: string, values: readonly string[], allowed: readonly string[]): readonly string[] {
  const unknown = values.filter((v) => !allowed.includes(v));
  if (unknown.length > 0) throw new CliError(`${flag} ${unknown.join(', ')}: not one of ${allowed.join(', ')}`, 2);
  return values;
}

export function eventFilterOf(values: { kind: string[]; namespace: string[]; pod: string[]; node: string[]; binary?: string | undefined }): EventFilter {
  return { kinds: oneOf('--kind', values.kind, EVENT_KIND_SYMBOLS), namespaces: values.namespace, pods: values.pod, nodes: values.node, binary: values.binary };
}

export function alertFilterOf(values: Parameters<typeof eventFilterOf>[0] & { severity: string[]; policy: string[] }): AlertFilter {
  return { ...eventFilterOf(values), severities: oneOf('--severity', values.severity, SEVERITY_SYMBOLS), policies: values.policy };
}

/** `-o`: one of `formats`. */
export function outputFormat<T extends string>(value: string, formats: readonly T[]): T {
  if (!(formats as readonly string[]).includes(value)) throw new CliError(`-o "${value}" is not ${formats.join(' or ')}`, 2);
  return value as T;
}

/** `--limit N`: a positive integer, or no limit. */
export function limitOption(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const limit = Number(value);
  if (!(Number.isInteger(limit) && limit > 0)) throw new CliError(`--limit "${value}" is not a positive integer`, 2);
  return limit;
}
