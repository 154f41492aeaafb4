/**
 * Decoded Avro records → the console's rows: what each table keeps of an Event, Alert or Enforcement, and the API
 * rows (libs/console-api) read back from them. Pure.
 */
import type { AlertRow, EnforcementMessage, EventRow } from '@stinger/console-api';
import { renderEventCompact, renderEventJson, type AgentHealth, type Alert, type Enforcement, type Event, type Process } from '@stinger/events';
import type { AgentHealthReport } from './store.ts';

export const nsToMs = (ns: bigint): number => Number(ns / 1_000_000n);

/** Arguments as one line: each plain when safe, else JSON-quoted; null when there are none. */
export function argsLine(args: readonly string[]): string | null {
  if (args.length === 0) return null;
  return args.map((arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : JSON.stringify(arg))).join(' ');
}

/** The events table's columns for one event (SQLite named parameters, `$` prefix added by the store). */
export interface EventColumns {
  readonly id: string;
  readonly time: number;
  readonly node: string;
  readonly kind: string;
  readonly namespace: string | null;
  readonly pod: string | null;
  readonly workload: string | null;
  readonly workload_kind: string | null;
  readonly container: string | null;
  readonly pid: number;
  readonly exec_id: string;
  readonly binary_path: string;
  readonly args: string | null;
  readonly parent_binary: string | null;
  readonly ancestry: string;
  readonly path: string | null;
  readonly op: string | null;
  readonly flags: number | null;
  readonly family: string | null;
  readonly protocol: string | null;
  readonly daddr: string | null;
  readonly dport: number | null;
  readonly bytes: number | null;
  /** File close events: bytes read and written through the open (FilePayload.io); null otherwise. */
  readonly io_read: number | null;
  readonly io_written: number | null;
  /** Egress events: the application protocol read (dns, tls, http) and the name it asked for (query, SNI, Host). */
  readonly egress_app: string | null;
  readonly egress_name: string | null;
  /** Egress and flow events: the socket's cookie (decimal), unique per node; joins a socket's flows to its names. */
  readonly socket_cookie: string | null;
  /** Flow events: bytes sent and received since the socket's previous flow event (see schema.ts); null otherwise. */
  readonly bytes_sent: number | null;
  readonly bytes_received: number | null;
  readonly action_kind: string | null;
  readonly action_policy: string | null;
  readonly action_rule: string | null;
  readonly summary: string;
  readonly detail: string;
}

const toJson = (value: unknown): string => JSON.stringify(value);

/** The events table's columns in the order the store binds them. */
export const EVENT_COLUMNS = [
  'id',
  'time',
  'node',
  'kind',
  'namespace',
  'pod',
  'workload',
  'workload_kind',
  'container',
  'pid',
  'exec_id',
  'binary_path',
  'args',
  'parent_binary',
  'ancestry',
  'path',
  'op',
  'flags',
  'family',
  'protocol',
  'daddr',
  'dport',
  'bytes',
  'io_read',
  'io_written',
  'egress_app',
  'egress_name',
  'socket_cookie',
  'bytes_sent',
  'bytes_received',
  'action_kind',
  'action_policy',
  'action_rule',
  'summary',
  'detail',
] as const satisfies readonly (keyof EventColumns)[];

/** A flow socket's totals already stored (the sums of its earlier flow rows). */
export interface FlowTotals {
  readonly sent: number;
  readonly received: number;
}

/**
 * What the store keeps of an event (its columns) and the API row it stands for, built together so the live stream's
 * row needs no read back. `ancestry`: binaries of the event's ancestors, nearest first (the store looks them up).
 * `flowBefore`: for a flow event, its socket's totals already stored; its row keeps the increase over them.
 */
export function eventRecord(
  event: Event,
  ancestry: readonly string[],
  flowBefore: FlowTotals = { sent: 0, received: 0 },
): { readonly columns: EventColumns; readonly row: EventRow } {
  const { payload, pod } = event;
  const file = payload.group === 'file' ? payload : null;
  const network = payload.group === 'network' ? payload : null;
  const egress = payload.group === 'egress' ? payload : null;
  const flow = event.kind === 'flow' && network !== null && network.socket_cookie !== null ? network : null;
  // Totals only grow; a record older than what is stored (none, with Kafka's per-node order) adds nothing.
  const sent = flow ? Math.max(0, Number(flow.bytes_sent ?? 0n) - flowBefore.sent) : null;
  const received = flow ? Math.max(0, Number(flow.bytes_received ?? 0n) - flowBefore.received) : null;
  const cookie = egress?.socket_cookie ?? flow?.socket_cookie ?? null;
  const detail = renderEventJson(event);
  const columns: EventColumns = {
    id: event.id,
    time: nsToMs(event.time),
    node: event.node,
    kind: event.kind,
    namespace: pod?.namespace ?? null,
    pod: pod?.name ?? null,
    workload: pod?.workload ?? null,
    workload_kind: pod?.workload_kind ?? null,
    container: pod?.container?.name ?? null,
    pid: event.process.pid,
    exec_id: event.process.exec_id,
    binary_path: event.process.binary,
    args: argsLine(event.process.args),
    parent_binary: event.parent?.binary ?? null,
    ancestry: toJson(ancestry),
    path: file?.path ?? null,
    op: file?.op ?? null,
    flags: file?.flags ?? null,
    family: network?.family ?? egress?.family ?? null,
    protocol: network?.protocol ?? egress?.protocol ?? null,
    daddr: network?.daddr ?? egress?.daddr ?? null,
    dport: network?.dport ?? egress?.dport ?? null,
    // Egress: the bytes of the payload that was read (the request), not the connection's total. Flow: the increase.
    bytes: egress !== null ? egress.payload_bytes : sent !== null && received !== null ? sent + received : network?.bytes === null || network?.bytes === undefined ? null : Number(network.bytes),
    io_read: file?.io ? Number(file.io.bytes_read) : null,
    io_written: file?.io ? Number(file.io.bytes_written) : null,
    egress_app: egress?.application ?? null,
    egress_name: egress === null ? null : (egress.dns_name ?? egress.server_name ?? egress.http_host),
    socket_cookie: cookie === null ? null : cookie.toString(),
    bytes_sent: sent,
    bytes_received: received,
    action_kind: event.action?.kind ?? null,
    action_policy: event.action?.policy ?? null,
    action_rule: event.action?.rule ?? null,
    summary: renderEventCompact(event),
    detail: toJson(detail),
  };
  const row: EventRow = {
    id: columns.id,
    time: columns.time,
    node: columns.node,
    kind: columns.kind,
    namespace: columns.namespace,
    pod: columns.pod,
    workload: columns.workload,
    container: columns.container,
    pid: columns.pid,
    binary: columns.binary_path,
    args: columns.args,
    parentBinary: columns.parent_binary,
    ancestry: [...ancestry],
    summary: columns.summary,
    detail,
  };
  return { columns, row };
}

/** An events-table row as the API answers it. */
export function eventRowOf(row: object): EventRow {
  const columns = row as Readonly<Record<string, unknown>>;
  return {
    id: columns['id'] as string,
    time: columns['time'] as number,
    node: columns['node'] as string,
    kind: columns['kind'] as string,
    namespace: columns['namespace'] as string | null,
    pod: columns['pod'] as string | null,
    workload: columns['workload'] as string | null,
    container: columns['container'] as string | null,
    pid: columns['pid'] as number,
    binary: columns['binary_path'] as string,
    args: columns['args'] as string | null,
    parentBinary: columns['parent_binary'] as string | null,
    ancestry: JSON.parse(columns['ancestry'] as string) as string[],
    summary: columns['summary'] as string,
    detail: JSON.parse(columns['detail'] as string) as Record<string, unknown>,
  };
}

/** The processes table's columns for a process an event names. */
export interface ProcessColumns {
  readonly exec_id: string;
  readonly node: string;
  readonly pid: number;
  readonly parent_exec_id: string | null;
  readonly binary_path: string;
  readonly args: string | null;
  readonly namespace: string | null;
  readonly pod: string | null;
  readonly seen: number;
  /** The event is this process's exec: its binary and args replace what was known (a forked child's). */
  readonly is_exec: number;
  readonly exit_code: number | null;
}

/** The shell's convention for the exit code of a process killed by a signal: 128 + the signal. */
export const exitCodeOf = (code: number, signal: number): number => (signal === 0 ? code : 128 + signal);

/**
 * A process an event names: its `process`, its `parent`, or a fork's `child` (the event's process until it calls
 * exec). The event's pod is the process's and the child's (a child starts in its parent's cgroup), not the parent's:
 * a container's first process has a host parent (the runtime's shim); a parent's pod comes from its own events.
 */
export function processColumns(event: Event, process: Process, role: 'process' | 'parent' | 'child'): ProcessColumns {
  const own = role === 'process';
  const inPod = role !== 'parent';
  return {
    exec_id: process.exec_id,
    node: event.node,
    pid: process.pid,
    parent_exec_id: process.parent_exec_id,
    binary_path: process.binary,
    args: argsLine(process.args),
    namespace: inPod ? (event.pod?.namespace ?? null) : null,
    pod: inPod ? (event.pod?.name ?? null) : null,
    seen: nsToMs(event.time),
    is_exec: own && event.kind === 'exec' ? 1 : 0,
    exit_code: own && event.payload.group === 'exit' ? exitCodeOf(event.payload.code, event.payload.signal) : null,
  };
}

export interface AlertColumns {
  readonly id: string;
  readonly time: number;
  readonly severity: string;
  readonly policy: string;
  readonly rule: string;
  readonly message: string;
  readonly mode: string;
  readonly action: string;
  readonly namespace: string | null;
  readonly pod: string | null;
  readonly workload: string | null;
  readonly node: string;
  readonly binary_path: string;
  readonly pid: number;
  readonly count: number;
  readonly tags: string;
  readonly event_id: string;
  readonly event_kind: string;
}

export function alertColumns(alert: Alert): AlertColumns {
  const { event } = alert;
  return {
    id: alert.id,
    time: nsToMs(alert.time),
    severity: alert.severity,
    policy: alert.policy,
    rule: alert.rule,
    message: alert.message,
    mode: alert.mode,
    action: alert.action,
    namespace: event.pod?.namespace ?? null,
    pod: event.pod?.name ?? null,
    workload: event.pod?.workload ?? null,
    node: alert.node,
    binary_path: event.process.binary,
    pid: event.process.pid,
    count: alert.count,
    tags: toJson(alert.tags),
    event_id: event.id,
    event_kind: event.kind,
  };
}

/** An alerts-table row, with its enforcement's columns (`e_outcome`, `e_reason`, `e_time`) joined, as the API answers it. */
export function alertRowOf(columns: Readonly<Record<string, unknown>>): AlertRow {
  const outcome = columns['e_outcome'] as string | null | undefined;
  return {
    id: columns['id'] as string,
    time: columns['time'] as number,
    severity: columns['severity'] as string,
    policy: columns['policy'] as string,
    rule: columns['rule'] as string,
    message: columns['message'] as string,
    mode: columns['mode'] as string,
    action: columns['action'] as string,
    namespace: columns['namespace'] as string | null,
    pod: columns['pod'] as string | null,
    node: columns['node'] as string,
    binary: columns['binary_path'] as string,
    pid: columns['pid'] as number,
    count: columns['count'] as number,
    tags: JSON.parse(columns['tags'] as string) as string[],
    enforcement: outcome === null || outcome === undefined ? null : { outcome, reason: columns['e_reason'] as string | null, time: columns['e_time'] as number },
  };
}

export interface EnforcementColumns {
  readonly alert_id: string;
  readonly outcome: string;
  readonly reason: string | null;
  readonly time: number;
  readonly policy: string;
  readonly rule: string;
  readonly node: string;
}

export function enforcementColumns(enforcement: Enforcement): EnforcementColumns {
  return {
    alert_id: enforcement.alert_id,
    outcome: enforcement.outcome,
    reason: enforcement.detail,
    time: nsToMs(enforcement.completed_at_ns ?? enforcement.requested_at_ns),
    policy: enforcement.policy,
    rule: enforcement.rule,
    node: enforcement.node,
  };
}

export function enforcementMessageOf(columns: EnforcementColumns): EnforcementMessage {
  return { alertId: columns.alert_id, outcome: columns.outcome, reason: columns.reason, time: columns.time };
}

/** Sensor entries of this prefix are probed kernel features, which AgentRow lists apart (kernelFeatures). */
const FEATURE_PREFIX = 'feature:';

/** An agent's AgentHealth record (stinger.agents) in the API's terms. */
export function agentHealthReport(health: AgentHealth): AgentHealthReport {
  return {
    node: health.node,
    agentId: health.agent_id,
    time: nsToMs(health.reported_at_ns),
    eventsPerSecond: health.events_per_second,
    lost: health.lost_records.map((l) => ({ cause: l.cause, sensor: l.sensor, count: Number(l.count) })),
    spool: { mode: health.kafka_mode, spooledBytes: Number(health.spool_bytes) },
    sensors: health.sensors.filter((s) => !s.name.startsWith(FEATURE_PREFIX)).map((s) => ({ name: s.name, state: s.state, reason: s.reason })),
    kernelFeatures: { ...health.kernel_features },
  };
}
