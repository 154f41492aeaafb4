/**
 * Filters of the reading commands (`events`, `alerts`, `export`, `replay`): which events, and which alerts, are
 * printed. Every filter given must hold; a filter given several times holds when any of its values does.
 *  - kind, node, namespace, severity, policy: exact;
 *  - pod: the pod's name starts with the value (a Deployment's pods share their name's start: `--pod web` matches
 *    web-7d9f8c-x2k4q), or equals `namespace/name`;
 *  - binary: the process's binary contains the value.
 * Raw events have no pod: a namespace or pod filter excludes them all.
 */
import type { Alert, Event, RawEvent } from '@stinger/events';

export interface EventFilter {
  readonly kinds: readonly string[];
  readonly nodes: readonly string[];
  readonly namespaces: readonly string[];
  readonly pods: readonly string[];
  readonly binary: string | undefined;
}

export interface AlertFilter extends EventFilter {
  readonly severities: readonly string[];
  readonly policies: readonly string[];
}

export const NO_EVENT_FILTER: EventFilter = { kinds: [], nodes: [], namespaces: [], pods: [], binary: undefined };

function podMatches(pod: NonNullable<Event['pod']>, wanted: string): boolean {
  return wanted.includes('/') ? `${pod.namespace}/${pod.name}` === wanted : pod.name.startsWith(wanted);
}

export function matchesEvent(event: RawEvent | Event, filter: EventFilter): boolean {
  if (filter.kinds.length > 0 && !filter.kinds.includes(event.kind)) return false;
  if (filter.nodes.length > 0 && !filter.nodes.includes(event.node)) return false;
  if (filter.binary !== undefined && !event.process.binary.includes(filter.binary)) return false;
  if (filter.namespaces.length === 0 && filter.pods.length === 0) return true;
  const pod = 'pod' in event ? event.pod : null;
  if (pod === null) return false;
  if (filter.namespaces.length > 0 && !filter.namespaces.includes(pod.namespace)) return false;
  return filter.pods.length === 0 || filter.pods.some((wanted) => podMatches(pod, wanted));
}

export function matchesAlert(alert: Alert, filter: AlertFilter): boolean {
  if (filter.severities.length > 0 && !filter.severities.includes(alert.severity)) return false;
  if (filter.policies.length > 0 && !filter.policies.includes(alert.policy)) return false;
  return matchesEvent(alert.event, filter);
}
