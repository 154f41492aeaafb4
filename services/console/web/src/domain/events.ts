/**
 * Events and alerts as the page lists them: the group a kind belongs to (one colour per group), severity order,
 * and the live list the stream appends to. Pure.
 */
import { EVENT_KINDS, SEVERITIES as SEVERITIES_LOWEST_FIRST, type AlertRow, type EnforcementMessage, type EventRow } from '@stinger/console-api';

export type KindGroup = 'process' | 'file' | 'network' | 'privilege' | 'namespace' | 'kernel' | 'other';

export function kindGroup(kind: string): KindGroup {
  switch (kind) {
    case 'exec':
    case 'exit':
    case 'fork':
      return 'process';
    case 'file':
      return 'file';
    case 'connect':
    case 'accept':
    case 'listen':
    case 'bind':
    case 'flow':
    case 'egress':
      return 'network';
    case 'privilege':
    case 'capset':
      return 'privilege';
    case 'namespace':
    case 'mount':
      return 'namespace';
    case 'module':
    case 'ptrace':
    case 'bpf':
      return 'kernel';
    default:
      return 'other';
  }
}

/** Every kind the agents report, in the order the filter lists them. */
export const KNOWN_KINDS: readonly string[] = EVENT_KINDS;

/** Worst first, as the filter lists them. */
export const SEVERITIES: readonly string[] = [...SEVERITIES_LOWEST_FIRST].reverse();

/** Higher is worse; unknown severities sort last. */
export function severityRank(severity: string): number {
  const index = SEVERITIES.indexOf(severity);
  return index === -1 ? -1 : SEVERITIES.length - index;
}

/** The known values first in their own order, then anything else the server reported, alphabetically. */
export function orderedChoices(known: readonly string[], reported: readonly string[]): string[] {
  const extra = reported.filter((value) => !known.includes(value)).sort();
  return [...known, ...extra];
}

/**
 * Adds streamed rows to a newest-first list: a row already present (same id, e.g. an event the first page and the
 * stream both carried) is not added twice, and the list keeps at most `limit` rows.
 */
export function prependNewest<T extends { readonly id: string; readonly time: number }>(list: readonly T[], incoming: readonly T[], limit: number): T[] {
  const seen = new Set(list.map((row) => row.id));
  const fresh = incoming.filter((row) => !seen.has(row.id) && (seen.add(row.id), true));
  if (fresh.length === 0) return list.slice(0, limit);
  return [...fresh, ...list].sort((a, b) => b.time - a.time).slice(0, limit);
}

/** An alert list with one alert's enforcement outcome filled in (unchanged when the alert is not listed). */
export function applyEnforcement(alerts: readonly AlertRow[], update: EnforcementMessage): AlertRow[] {
  return alerts.map((alert) =>
    alert.id === update.alertId ? { ...alert, enforcement: { outcome: update.outcome, reason: update.reason, time: update.time } } : alert,
  );
}

/** How many events of each kind group a list holds, for the live view's summary line. */
export function countByGroup(events: readonly EventRow[]): Record<KindGroup, number> {
  const counts: Record<KindGroup, number> = { process: 0, file: 0, network: 0, privilege: 0, namespace: 0, kernel: 0, other: 0 };
  for (const event of events) counts[kindGroup(event.kind)] += 1;
  return counts;
}
