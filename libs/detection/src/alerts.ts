/**
 * Alert records: deterministic ids (so an input batch processed twice — an aborted transaction retried, a replay —
 * yields the same alert ids), the Kafka key, and the one-line message.
 */
import { createHash } from 'node:crypto';
import { fullEvent, type Alert, type Event } from '@stinger/events';
import type { RuleIdentity } from './detection-rules.ts';

/** A UUID (version 8, RFC 9562) derived from `parts`. */
export function derivedUuid(...parts: readonly string[]): string {
  const hash = createHash('sha256').update(parts.join('\0')).digest();
  hash[6] = ((hash[6] ?? 0) & 0x0f) | 0x80;
  hash[8] = ((hash[8] ?? 0) & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** stinger.alerts key: the pod uid, or the node name for host events. */
/**
 * The alert with complete events in place of summaries (@stinger/events decodeEventSummary), for whatever leaves the
 * detector: published alerts, replay output. An alert of complete events comes back equal.
 */
export function completeAlert(alert: Alert): Alert {
  return { ...alert, event: fullEvent(alert.event), related_events: alert.related_events.map(fullEvent) };
}

export function alertKey(alert: Pick<Alert, 'event' | 'node'>): string {
  return alert.event.pod?.uid ?? alert.node;
}

/** What the event did, in a few words: `/usr/bin/cat open /etc/shadow`. */
export function describeEvent(event: Event): string {
  const { payload } = event;
  const who = event.process.binary;
  switch (payload.group) {
    case 'exec':
      return `exec ${who}${event.parent ? ` (parent ${event.parent.binary})` : ''}`;
    case 'file':
      return `${who} ${payload.op} ${payload.path}`;
    case 'network':
      return `${who} ${event.kind} ${payload.daddr ?? payload.saddr ?? '?'}${payload.dport !== null ? `:${payload.dport}` : payload.sport !== null ? `:${payload.sport}` : ''}`;
    case 'privilege':
      return `${who} ${payload.syscall}`;
    case 'capset':
      return `${who} capset`;
    case 'namespace':
      return `${who} ${payload.op} ${payload.namespaces.join(',')}`;
    case 'module':
      return `${who} module ${payload.op} ${payload.name ?? payload.path ?? '?'}`;
    case 'ptrace':
      return `${who} ${payload.request_name} pid ${payload.target_pid}`;
    case 'bpf':
      return `${who} ${payload.cmd_name}`;
    case 'mount':
      return `${who} ${payload.op} ${payload.target}`;
    case 'egress':
      return `${who} ${payload.application} ${payload.dns_name ?? payload.server_name ?? payload.http_host ?? '?'} (${payload.daddr}:${payload.dport})`;
    case 'exit':
    case 'fork':
      return `${who} ${event.kind}`;
  }
}

function where(event: Event): string {
  if (event.pod !== null) return `pod ${event.pod.namespace}/${event.pod.name}`;
  return event.process.container_id === null ? `host ${event.node}` : `container ${event.process.container_id.slice(0, 12)} on ${event.node}`;
}

export interface AlertInput {
  readonly rule: RuleIdentity;
  readonly event: Event;
  readonly related: readonly Event[];
  readonly count: number;
  readonly firstSeenNs: bigint | null;
  readonly groupKey: string | null;
  readonly nowNs: bigint;
}

export function buildAlert(input: AlertInput): Alert {
  const { rule, event, related, count } = input;
  const steps = [...related, event].map(describeEvent).join(' → ');
  const repeated = count > 1 ? ` (${count}×)` : '';
  return {
    id: derivedUuid('alert', rule.policy, rule.rule, String(rule.generation), ...related.map((e) => e.id), event.id, String(count)),
    time: input.nowNs,
    node: event.node,
    policy: rule.policy,
    policy_generation: rule.generation,
    rule: rule.rule,
    mode: rule.mode,
    action: rule.action,
    severity: rule.severity,
    tags: [...rule.tags],
    message: `${rule.policy}/${rule.rule}: ${steps} in ${where(event)}${repeated}`,
    event,
    related_events: [...related],
    count,
    first_seen_ns: count > 1 ? input.firstSeenNs : null,
    group_key: input.groupKey,
  };
}
