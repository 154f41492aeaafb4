/**
 * Which live rows a stream subscriber asked for: the common filters (libs/console-api) applied to one new row.
 * The time window is not applied (a live stream has none); the limit neither.
 */
import type { AlertRow, EventRow, Filters } from '@stinger/console-api';

const same = (wanted: string | null, value: string | null): boolean => wanted === null || wanted === value;
/** As the queries' LIKE: a substring, ASCII letters in either case. */
const contains = (wanted: string | null, value: string): boolean => wanted === null || value.toLowerCase().includes(wanted.toLowerCase());

export function eventMatches(row: EventRow, filters: Filters): boolean {
  return (
    same(filters.namespace, row.namespace) &&
    same(filters.pod, row.pod) &&
    same(filters.workload, row.workload) &&
    same(filters.node, row.node) &&
    contains(filters.binary, row.binary) &&
    (filters.kinds.length === 0 || filters.kinds.includes(row.kind))
  );
}

export function alertMatches(row: AlertRow, filters: Filters): boolean {
  return (
    same(filters.namespace, row.namespace) &&
    same(filters.pod, row.pod) &&
    same(filters.node, row.node) &&
    contains(filters.binary, row.binary) &&
    (filters.severities.length === 0 || filters.severities.includes(row.severity))
  );
}
