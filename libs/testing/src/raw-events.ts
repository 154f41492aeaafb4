/**
 * Sample records for tests: a RawEvent with every required field set, as an agent on `node` would
 * publish its `seq`-th event. Shared here so tests do not each spell out the schema.
 */
import type { EgressPayload, Event, RawEvent } from '@stinger/events';

export interface SampleRawEventOptions {
  readonly node: string;
  readonly seq: bigint;
  readonly binary?: string;
  readonly args?: readonly string[];
  readonly pid?: number;
}

export function sampleRawEvent(options: SampleRawEventOptions): RawEvent {
  const { node, seq, binary = '/usr/bin/true', args = [], pid = 4242 } = options;
  const startTime = 1_000_000_000n + seq;
  return {
    id: `${node}-${seq}`,
    time: 1_732_900_000_000_000_000n + seq,
    node,
    agent_id: `agent-${node}`,
    boot_id: null,
    seq,
    kind: 'exec',
    process: {
      exec_id: `${node}:${startTime}:${pid}`,
      pid,
      tid: pid,
      uid: 0n,
      gid: 0n,
      binary,
      args: [...args],
      cwd: '/',
      start_time: startTime,
      cgroup_id: null,
      cgroup_path: null,
      container_id: null,
      parent_exec_id: null,
    },
    parent: null,
    payload: { group: 'exec', filename: binary, euid: 0n, egid: 0n, secure_exec: false, args_truncated: false, sha256: null, reached_by: null },
    action: null,
  };
}

export interface SampleEventOptions {
  readonly node?: string;
  readonly seq?: bigint;
  /** ns since the epoch; default derived from seq. */
  readonly time?: bigint;
  readonly kind?: Event['kind'];
  readonly payload?: Event['payload'];
  readonly process?: Partial<Event['process']>;
  /** null: no parent; default: a parent with pid 1. */
  readonly parent?: Partial<Event['process']> | null;
  readonly pod?: Event['pod'];
  readonly action?: Event['action'];
}

/** An enriched Event (stinger.events) on the host unless `pod` is given; the payload defaults to an exec. */
export function sampleEvent(options: SampleEventOptions = {}): Event {
  const node = options.node ?? 'node-a';
  const seq = options.seq ?? 0n;
  const raw = sampleRawEvent({ node, seq });
  const process = { ...raw.process, ...options.process };
  const parent =
    options.parent === null
      ? null
      : { ...raw.process, pid: 1, tid: 1, binary: '/sbin/init', start_time: 1n, exec_id: `${node}:1:1`, ...options.parent };
  const pod = options.pod ?? null;
  return {
    ...raw,
    ...(options.time !== undefined ? { time: options.time } : {}),
    kind: options.kind ?? 'exec',
    process: { ...process, exec_id: options.process?.exec_id ?? `${node}:${process.start_time}:${process.pid}`, parent_exec_id: parent?.exec_id ?? null },
    parent,
    payload: options.payload ?? raw.payload,
    action: options.action ?? null,
    pod,
    enrichment: { status: pod === null ? 'host' : 'enriched', reason: null },
  };
}

/**
 * An egress payload as the agent writes it (kind egress): by default a DNS query from a pod address to the cluster
 * resolver with no name set; `fields` sets the application, the name fields and the rest.
 */
export function sampleEgressPayload(fields: Partial<Omit<EgressPayload, 'group'>> = {}): EgressPayload {
  return {
    group: 'egress',
    family: 'inet',
    protocol: 'udp',
    saddr: '10.244.0.5',
    sport: 40000,
    daddr: '10.96.0.10',
    dport: 53,
    application: 'dns',
    parse: 'ok',
    dns_name: null,
    dns_type: null,
    server_name: null,
    alpn: [],
    http_request: null,
    http_host: null,
    socket_cookie: 1n,
    payload_bytes: 40,
    ...fields,
  };
}
