import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseFilters, type Filters } from '@stinger/console-api';
import { decodeAgentHealth, NO_FLOW, type Alert, type Enforcement, type Event, type Pod } from '@stinger/events';
import { sampleEvent } from '@stinger/testing';
import {
  agentHealthReport,
  alertMatches,
  ConsoleStore,
  eventMatches,
  queryAgents,
  queryAlerts,
  queryEgress,
  queryEvents,
  queryEventsOverTime,
  queryFacets,
  queryFileAccess,
  queryProcessTree,
  queryTopFiles,
  queryTopTalkers,
} from './index.ts';

const NOW = Date.parse('2026-12-02T08:00:00Z');
const HOUR = 3_600_000;
const ns = (ms: number): bigint => BigInt(ms) * 1_000_000n;
const filters = (query = ''): Filters => parseFilters(new URLSearchParams(query), NOW);
const newStore = (options: { retentionMs?: number; maxEvents?: number } = {}) =>
  new ConsoleStore({ path: ':memory:', retentionMs: options.retentionMs ?? 24 * HOUR, maxEvents: options.maxEvents ?? 1000 });

const pod = (name: string, namespace = 'shop'): Pod => ({
  namespace,
  name,
  uid: `uid-${name}`,
  labels: {},
  annotations: {},
  workload: 'web',
  workload_kind: 'Deployment',
  container: { id: 'c1', name: 'app', image: 'app:1' },
});

let seq = 0n;
/** One event at `msAgo` before NOW by process `pid` running `binary`, whose parent is the shell (pid 100). */
function event(options: { msAgo: number; binary: string; pid: number; kind?: Event['kind']; payload?: Event['payload']; pod?: Pod | null; action?: Event['action']; args?: string[] }): Event {
  seq += 1n;
  return sampleEvent({
    seq,
    time: ns(NOW - options.msAgo),
    kind: options.kind ?? 'exec',
    process: { pid: options.pid, binary: options.binary, args: options.args ?? [], exec_id: `node-a:${options.pid}:${options.binary}`, start_time: BigInt(options.pid) },
    parent: { pid: 100, binary: '/bin/sh', exec_id: 'node-a:100:sh', parent_exec_id: 'node-a:50:containerd-shim' },
    pod: options.pod === undefined ? pod('web-1') : options.pod,
    ...(options.payload ? { payload: options.payload } : {}),
    ...(options.action ? { action: options.action } : {}),
  });
}

const fileOpen = (path: string, flags: number): Event['payload'] => ({ group: 'file', op: 'open', path, path_as_given: path, new_path: null, flags, mode: null, result: 3, reached_by: null, io: null });
const fileClose = (path: string, read: bigint, written: bigint): Event['payload'] => ({
  ...(fileOpen(path, 0) as Extract<Event['payload'], { group: 'file' }>),
  op: 'close',
  io: { bytes_read: read, bytes_written: written, reads: read > 0n ? 1n : 0n, writes: written > 0n ? 1n : 0n, bytes_mapped: 0n, closed_by: 'close' },
});
const connect = (daddr: string, dport: number, bytes: bigint | null = null): Event['payload'] => ({
  group: 'network',
  family: 'inet',
  protocol: 'tcp',
  saddr: '10.0.0.5',
  sport: 40000,
  daddr,
  dport,
  result: 0,
  bytes,
  ...NO_FLOW,
});
/** The shim that started the shell: an exec the store keeps, so ancestry reaches past the event's parent. */
const shimExec = (): Event =>
  sampleEvent({
    seq: 999_999n,
    time: ns(NOW - 2 * HOUR),
    kind: 'exec',
    process: { pid: 50, binary: '/usr/bin/containerd-shim', exec_id: 'node-a:50:containerd-shim' },
    parent: null,
    pod: pod('web-1'),
  });

test('file access: one row per pod, binary, ancestry and flags, with names for the flags, counts, first and last seen', () => {
  const store = newStore();
  store.ingestEvents([shimExec()], NOW);
  const O_CLOEXEC = 0o2000000;
  store.ingestEvents(
    [
      event({ msAgo: 30_000, binary: '/usr/bin/cat', pid: 200, kind: 'file', payload: fileOpen('/etc/passwd', O_CLOEXEC) }),
      event({ msAgo: 20_000, binary: '/usr/bin/cat', pid: 201, kind: 'file', payload: fileOpen('/etc/passwd', O_CLOEXEC) }),
      event({ msAgo: 10_000, binary: '/usr/bin/tee', pid: 202, kind: 'file', payload: fileOpen('/etc/passwd', 0o1 | 0o1000) }),
      event({ msAgo: 10_000, binary: '/usr/bin/cat', pid: 203, kind: 'file', payload: fileOpen('/etc/hosts', 0), pod: pod('web-2') }),
      // The agent's close events of cat's two opens: what went through them.
      event({ msAgo: 29_000, binary: '/usr/bin/cat', pid: 200, kind: 'file', payload: fileClose('/etc/passwd', 1500n, 0n) }),
      event({ msAgo: 19_000, binary: '/usr/bin/cat', pid: 201, kind: 'file', payload: fileClose('/etc/passwd', 650n, 0n) }),
    ],
    NOW,
  );
  const { rows } = queryFileAccess(store, filters(), { path: '/etc/passwd', pathPrefix: null });
  assert.equal(rows.length, 2);
  const [cat, tee] = rows;
  assert.deepEqual(cat, {
    path: '/etc/passwd',
    namespace: 'shop',
    pod: 'web-1',
    workload: 'web',
    node: 'node-a',
    binary: '/usr/bin/cat',
    ancestry: ['/bin/sh', '/usr/bin/containerd-shim'],
    op: 'open',
    flags: 'O_RDONLY|O_CLOEXEC',
    access: 'read',
    count: 2,
    firstSeen: NOW - 30_000,
    lastSeen: NOW - 20_000,
    kill: null,
    io: { bytesRead: 2150, bytesWritten: 0, closes: 2 },
  });
  assert.equal(tee?.flags, 'O_WRONLY|O_TRUNC');
  assert.equal(tee?.access, 'write');
  assert.equal(tee?.io, null, 'no close reported for tee: no totals');
  assert.deepEqual(
    queryFileAccess(store, filters(), { path: null, pathPrefix: '/etc/' }).rows.map((r) => r.path).sort(),
    ['/etc/hosts', '/etc/passwd', '/etc/passwd'],
  );
  assert.equal(queryFileAccess(store, filters('pod=web-2'), { path: '/etc/passwd', pathPrefix: null }).rows.length, 0);
});

test('file access: a kill in the kernel and a kill by the pipeline show on their rows', () => {
  const store = newStore();
  const killedInKernel = event({ msAgo: 5000, binary: '/usr/bin/cat', pid: 300, kind: 'file', payload: fileOpen('/etc/shadow', 0), action: { kind: 'sigkill', policy: 'p1', rule: 'r1' } });
  const killedByPipeline = event({ msAgo: 4000, binary: '/usr/bin/less', pid: 301, kind: 'file', payload: fileOpen('/etc/shadow', 0) });
  store.ingestEvents([killedInKernel, killedByPipeline], NOW);
  store.ingestAlerts([alert({ id: 'a1', event: killedByPipeline, msAgo: 3900 })], NOW);
  store.ingestEnforcements([enforcement({ alertId: 'a1', outcome: 'killed', msAgo: 3800 })], NOW);
  const rows = queryFileAccess(store, filters(), { path: '/etc/shadow', pathPrefix: null }).rows;
  const byBinary = new Map(rows.map((r) => [r.binary, r.kill]));
  assert.deepEqual(byBinary.get('/usr/bin/cat'), { outcome: 'killed_in_kernel', time: NOW - 5000, policy: 'p1', rule: 'r1' });
  assert.deepEqual(byBinary.get('/usr/bin/less'), { outcome: 'killed', time: NOW - 3800, policy: 'pol', rule: 'rule' });
});

function alert(options: { id: string; event: Event; msAgo: number; severity?: Alert['severity'] }): Alert {
  return {
    id: options.id,
    time: ns(NOW - options.msAgo),
    node: options.event.node,
    policy: 'pol',
    policy_generation: 1n,
    rule: 'rule',
    mode: 'enforce',
    action: 'kill',
    severity: options.severity ?? 'high',
    tags: ['T1003'],
    message: 'read of a watched file',
    event: options.event,
    related_events: [],
    count: 1,
    first_seen_ns: null,
    group_key: null,
  };
}

function enforcement(options: { alertId: string; outcome: Enforcement['outcome']; msAgo: number }): Enforcement {
  return {
    alert_id: options.alertId,
    command_id: null,
    node: 'node-a',
    policy: 'pol',
    rule: 'rule',
    action: 'kill',
    outcome: options.outcome,
    target: null,
    requested_at_ns: ns(NOW - options.msAgo - 10),
    completed_at_ns: ns(NOW - options.msAgo),
    detail: null,
  };
}

test('a record delivered twice is stored once; the live rows returned are the new ones', () => {
  const store = newStore();
  const once = event({ msAgo: 1000, binary: '/usr/bin/id', pid: 400 });
  assert.equal(store.ingestEvents([once], NOW).length, 1);
  assert.deepEqual(store.ingestEvents([once], NOW), []);
  assert.equal(queryEvents(store, filters()).events.length, 1);
  const first = alert({ id: 'a2', event: once, msAgo: 900 });
  assert.equal(store.ingestAlerts([first, first], NOW).length, 1);
});

test('retention: records older than it are not stored; prune removes by age and keeps the newest maxEvents', () => {
  const store = newStore({ retentionMs: HOUR, maxEvents: 3 });
  const stored = store.ingestEvents([event({ msAgo: 2 * HOUR, binary: '/old', pid: 1 }), ...[5, 4, 3, 2, 1].map((m) => event({ msAgo: m * 60_000, binary: `/b${m}`, pid: 10 + m }))], NOW);
  assert.equal(stored.length, 5, 'the event older than the retention is skipped');
  const pruned = store.prune(NOW);
  assert.equal(pruned.events, 2);
  assert.deepEqual(queryEvents(store, filters()).events.map((e) => e.binary), ['/b1', '/b2', '/b3']);
  // An hour later everything has aged out.
  assert.equal(store.prune(NOW + HOUR).events, 3);
  assert.equal(queryEvents(store, filters(`from=0&to=${NOW + HOUR}`)).events.length, 0);
  assert.equal(store.isEmpty(), true);
});

test('events: newest first, filtered by kind, binary substring (wildcards literal), pod and node; rows carry summary and detail', () => {
  const store = newStore();
  store.ingestEvents(
    [
      event({ msAgo: 3000, binary: '/usr/bin/curl', pid: 500, args: ['-s', 'https://example.test/a b'] }),
      event({ msAgo: 2000, binary: '/usr/bin/cat', pid: 501, kind: 'file', payload: fileOpen('/etc/passwd', 0) }),
      event({ msAgo: 1000, binary: '/usr/bin/100%_sure', pid: 502, pod: null }),
    ],
    NOW,
  );
  const all = queryEvents(store, filters()).events;
  assert.deepEqual(all.map((e) => e.pid), [502, 501, 500]);
  const curl = all[2]!;
  assert.equal(curl.args, '-s "https://example.test/a b"');
  assert.equal(curl.parentBinary, '/bin/sh');
  assert.equal(curl.workload, 'web');
  assert.equal(curl.container, 'app');
  assert.match(curl.summary, /exec +pid=500 \/usr\/bin\/curl -s/);
  assert.equal((curl.detail['process'] as { pid: number }).pid, 500);
  assert.equal(all[0]?.namespace, null, 'a host process has no namespace');
  assert.deepEqual(queryEvents(store, filters('kind=file')).events.map((e) => e.pid), [501]);
  assert.deepEqual(queryEvents(store, filters('binary=%25_')).events.map((e) => e.pid), [502]);
  assert.deepEqual(queryEvents(store, filters('binary=c&limit=1')).events.map((e) => e.pid), [501]);
  assert.deepEqual(queryEvents(store, filters('namespace=shop&pod=web-1')).events.map((e) => e.pid), [501, 500]);
  assert.equal(queryEvents(store, filters('node=node-b')).events.length, 0);
  assert.equal(queryEvents(store, filters(`to=${NOW - 2500}`)).events.length, 1);
});

test('egress: connections per pod, command and destination, with the bytes of flows', () => {
  const store = newStore();
  store.ingestEvents(
    [
      event({ msAgo: 3000, binary: '/usr/bin/curl', pid: 600, kind: 'connect', payload: connect('10.1.0.9', 443), args: ['https://x'] }),
      event({ msAgo: 2000, binary: '/usr/bin/curl', pid: 600, kind: 'connect', payload: connect('10.1.0.9', 443), args: ['https://x'] }),
      event({ msAgo: 1000, binary: '/usr/bin/curl', pid: 600, kind: 'flow', payload: connect('10.1.0.9', 443, 5000n), args: ['https://x'] }),
      event({ msAgo: 1000, binary: '/usr/bin/nc', pid: 601, kind: 'connect', payload: connect('10.1.0.10', 22) }),
    ],
    NOW,
  );
  const rows = queryEgress(store, filters()).rows;
  assert.equal(rows.length, 2);
  assert.deepEqual(
    { ...rows[0] },
    {
      namespace: 'shop',
      pod: 'web-1',
      workload: 'web',
      node: 'node-a',
      binary: '/usr/bin/curl',
      args: 'https://x',
      ancestry: ['/bin/sh'],
      protocol: 'tcp',
      daddr: '10.1.0.9',
      dport: 443,
      connections: 2,
      bytes: 5000,
      firstSeen: NOW - 3000,
      lastSeen: NOW - 1000,
    },
  );
  assert.equal(rows[1]?.bytes, null);
  assert.deepEqual(queryTopTalkers(store, filters()).rows, [
    { namespace: 'shop', pod: 'web-1', binary: '/usr/bin/curl', connections: 2, bytes: 5000 },
    { namespace: 'shop', pod: 'web-1', binary: '/usr/bin/nc', connections: 1, bytes: null },
  ]);
});

test('process tree: a pod\'s processes under their parents, with exit codes, counts and their events; a host parent stays out', () => {
  const store = newStore();
  // The shell's own exec in the pod; its parent (the runtime's shim on the host) is not one of the pod's processes.
  const shellExec = sampleEvent({
    seq: 500_000n,
    time: ns(NOW - 6000),
    kind: 'exec',
    process: { pid: 100, binary: '/bin/sh', exec_id: 'node-a:100:sh', parent_exec_id: 'node-a:50:containerd-shim' },
    parent: { pid: 50, binary: '/usr/bin/containerd-shim', exec_id: 'node-a:50:containerd-shim' },
    pod: pod('web-1'),
  });
  store.ingestEvents(
    [
      shellExec,
      event({ msAgo: 5000, binary: '/usr/bin/cat', pid: 700 }),
      event({ msAgo: 4000, binary: '/usr/bin/cat', pid: 700, kind: 'file', payload: fileOpen('/etc/passwd', 0) }),
      event({ msAgo: 3500, binary: '/usr/bin/cat', pid: 700, kind: 'connect', payload: connect('10.0.0.1', 80) }),
      event({ msAgo: 3000, binary: '/usr/bin/cat', pid: 700, kind: 'exit', payload: { group: 'exit', code: 0, signal: 9 } }),
      event({ msAgo: 2000, binary: '/usr/bin/ls', pid: 701, pod: pod('other') }),
    ],
    NOW,
  );
  const { roots } = queryProcessTree(store, filters(), { namespace: 'shop', pod: 'web-1', node: null });
  assert.deepEqual(roots.map((r) => r.binary), ['/bin/sh']);
  const shell = roots[0]!;
  assert.equal(shell.start, NOW - 6000);
  assert.deepEqual(shell.children.map((c) => c.binary), ['/usr/bin/cat']);
  const cat = shell.children[0]!;
  assert.deepEqual([cat.pid, cat.binary, cat.exitCode, cat.start], [700, '/usr/bin/cat', 137, NOW - 5000]);
  assert.deepEqual(cat.counts, { file: 1, network: 1, privilege: 0 });
  assert.deepEqual(cat.events.map((e) => e.kind), ['exit', 'connect', 'file', 'exec']);
  // The shim is a host process of node-a, seen only as a parent.
  assert.deepEqual(queryProcessTree(store, filters(), { namespace: null, pod: null, node: 'node-a' }).roots.map((r) => r.binary), ['/usr/bin/containerd-shim']);
});

test('process tree: a forked child that then ran a program is one process, the program', () => {
  const store = newStore();
  const shell = { pid: 100, binary: '/bin/sh', exec_id: 'node-a:100:sh', parent_exec_id: 'node-a:50:containerd-shim' };
  const fork = sampleEvent({
    seq: 600_000n,
    time: ns(NOW - 5000), // the same millisecond as the child's exec, as is common
    kind: 'fork',
    process: shell,
    payload: { group: 'fork', child_pid: 700, child_exec_id: 'node-a:700:forked', clone_flags: 17n },
    pod: pod('web-1'),
  });
  store.ingestEvents([fork, event({ msAgo: 5000, binary: '/usr/bin/cat', pid: 700 }), event({ msAgo: 4000, binary: '/usr/bin/cat', pid: 700, kind: 'file', payload: fileOpen('/etc/passwd', 0) })], NOW);
  const { roots } = queryProcessTree(store, filters(), { namespace: 'shop', pod: 'web-1', node: null });
  const children = roots.flatMap((root) => root.children);
  assert.deepEqual(
    children.map((c) => [c.pid, c.binary]),
    [[700, '/usr/bin/cat']],
    'the fork child (the shell image) folds into the program it ran',
  );
  assert.deepEqual(children[0]!.counts, { file: 1, network: 0, privilege: 0 });
});

test('alerts: newest first with their enforcement outcome, filtered by severity', () => {
  const store = newStore();
  const e1 = event({ msAgo: 5000, binary: '/usr/bin/cat', pid: 800 });
  store.ingestEvents([e1], NOW);
  store.ingestEnforcements([enforcement({ alertId: 'b1', outcome: 'monitor_only', msAgo: 3000 })], NOW);
  const live = store.ingestAlerts([alert({ id: 'b1', event: e1, msAgo: 4000 }), alert({ id: 'b2', event: e1, msAgo: 2000, severity: 'low' })], NOW);
  assert.deepEqual(live[0]?.enforcement, { outcome: 'monitor_only', reason: null, time: NOW - 3000 }, 'an outcome that came first is joined');
  const later = store.ingestEnforcements([enforcement({ alertId: 'b2', outcome: 'killed', msAgo: 1000 })], NOW);
  assert.deepEqual(later, [{ alertId: 'b2', outcome: 'killed', reason: null, time: NOW - 1000 }]);
  const { alerts } = queryAlerts(store, filters());
  assert.deepEqual(alerts.map((a) => [a.id, a.enforcement?.outcome]), [['b2', 'killed'], ['b1', 'monitor_only']]);
  assert.deepEqual({ ...alerts[1], enforcement: null }, {
    id: 'b1', time: NOW - 4000, severity: 'high', policy: 'pol', rule: 'rule', message: 'read of a watched file', mode: 'enforce', action: 'kill',
    namespace: 'shop', pod: 'web-1', node: 'node-a', binary: '/usr/bin/cat', pid: 800, count: 1, tags: ['T1003'], enforcement: null,
  });
  assert.deepEqual(queryAlerts(store, filters('severity=high')).alerts.map((a) => a.id), ['b1']);
  assert.deepEqual(queryFacets(store, filters()).severities, ['high', 'low']);
});

test('charts and facets over the window', () => {
  const store = newStore();
  store.ingestEvents(
    [
      event({ msAgo: 59 * 60_000, binary: '/usr/bin/cat', pid: 900, kind: 'file', payload: fileOpen('/etc/passwd', 0) }),
      event({ msAgo: 30_000, binary: '/usr/bin/cat', pid: 901, kind: 'file', payload: fileOpen('/etc/passwd', 0), pod: pod('api-1', 'api') }),
      event({ msAgo: 20_000, binary: '/usr/bin/cat', pid: 902 }),
      event({ msAgo: 2 * HOUR, binary: '/usr/bin/cat', pid: 903 }),
    ],
    NOW,
  );
  const chart = queryEventsOverTime(store, filters());
  assert.equal(chart.bucketMs, 60_000);
  assert.equal(chart.buckets.length, 60);
  assert.deepEqual(chart.buckets[1]?.counts, { file: 1 });
  assert.deepEqual(chart.buckets[59]?.counts, { file: 1, exec: 1 });
  assert.deepEqual(queryTopFiles(store, filters()).rows, [{ path: '/etc/passwd', count: 2, pods: 2 }]);
  const facets = queryFacets(store, filters());
  assert.deepEqual(facets.namespaces, ['api', 'shop']);
  assert.deepEqual(facets.pods, [{ namespace: 'api', name: 'api-1' }, { namespace: 'shop', name: 'web-1' }]);
  assert.deepEqual(facets.workloads, [{ namespace: 'api', kind: 'Deployment', name: 'web' }, { namespace: 'shop', kind: 'Deployment', name: 'web' }]);
  assert.deepEqual(facets.kinds, ['exec', 'file']);
  assert.deepEqual(facets.nodes, ['node-a']);
});

test('agents: derived from events until the agent reports its health, then its report', () => {
  const store = newStore();
  store.ingestEvents([event({ msAgo: 30_000, binary: '/usr/bin/id', pid: 1000 }), event({ msAgo: 10_000, binary: '/usr/bin/id', pid: 1001 })], NOW);
  assert.deepEqual(queryAgents(store, NOW).agents, [
    { node: 'node-a', agentId: 'agent-node-a', lastSeen: NOW - 10_000, eventsPerSecond: 2 / 60, lost: null, spool: null, sensors: null, kernelFeatures: null },
  ]);
  store.ingestAgentHealth([
    {
      node: 'node-a',
      agentId: 'agent-2',
      time: NOW - 1000,
      eventsPerSecond: 12.5,
      lost: [{ cause: 'ring_full', sensor: 'file', count: 3 }],
      spool: { mode: 'direct', spooledBytes: 0 },
      sensors: [{ name: 'file', state: 'loaded', reason: null }],
      kernelFeatures: { ringbuf: true },
    },
  ]);
  const [agent] = queryAgents(store, NOW).agents;
  assert.equal(queryAgents(store, NOW, 'node-b').agents.length, 0);
  assert.equal(agent?.agentId, 'agent-2');
  assert.equal(agent?.lastSeen, NOW - 1000);
  assert.equal(agent?.eventsPerSecond, 12.5);
  assert.deepEqual(agent?.lost, [{ cause: 'ring_full', sensor: 'file', count: 3 }]);
  assert.deepEqual(agent?.kernelFeatures, { ringbuf: true });
});

test('the live stream\'s filters', () => {
  const store = newStore();
  const [row] = store.ingestEvents([event({ msAgo: 1000, binary: '/usr/bin/cat', pid: 1100, kind: 'file', payload: fileOpen('/etc/passwd', 0) })], NOW);
  assert.ok(row);
  assert.equal(eventMatches(row, filters('kind=file&binary=cat&namespace=shop')), true);
  assert.equal(eventMatches(row, filters('binary=CAT')), true, 'as LIKE: either case');
  assert.equal(eventMatches(row, filters('binary=dog')), false);
  assert.equal(eventMatches(row, filters('kind=exec')), false);
  assert.equal(eventMatches(row, filters('pod=web-2')), false);
  const [alertRow] = store.ingestAlerts([alert({ id: 'c1', event: event({ msAgo: 900, binary: '/usr/bin/cat', pid: 1100 }), msAgo: 900 })], NOW);
  assert.ok(alertRow);
  assert.equal(alertMatches(alertRow, filters('severity=high&pod=web-1')), true);
  assert.equal(alertMatches(alertRow, filters('severity=critical')), false);
});

test('a store on disk keeps its rows across reopening', () => {
  const dir = mkdtempSync(join(tmpdir(), 'console-store-'));
  try {
    const path = join(dir, 'nested', 'store.sqlite');
    const first = new ConsoleStore({ path, retentionMs: HOUR, maxEvents: 10 });
    first.ingestEvents([event({ msAgo: 1000, binary: '/usr/bin/id', pid: 1200 })], NOW);
    first.close();
    const second = new ConsoleStore({ path, retentionMs: HOUR, maxEvents: 10 });
    assert.equal(second.isEmpty(), false);
    assert.deepEqual(queryEvents(second, filters()).events.map((e) => e.pid), [1200]);
    second.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an AgentHealth record (the golden vector) becomes the agent row\'s health; feature entries are kernel features', () => {
  const hex = readFileSync(new URL('../../../schemas/golden/AgentHealth.v1.hex', import.meta.url), 'utf8').replace(/\s/g, '');
  const health = decodeAgentHealth(Buffer.from(hex, 'hex'));
  const report = agentHealthReport(health);
  assert.equal(report.node, health.node);
  assert.equal(report.time, Number(health.reported_at_ns / 1_000_000n));
  assert.deepEqual(report.kernelFeatures, health.kernel_features);
  assert.ok(report.sensors?.every((s) => !s.name.startsWith('feature:')));
  assert.deepEqual(report.spool, { mode: health.kafka_mode, spooledBytes: Number(health.spool_bytes) });
  const store = newStore({ retentionMs: 100 * 365 * 24 * HOUR });
  store.ingestAgentHealth([report]);
  const [agent] = queryAgents(store, report.time).agents;
  assert.equal(agent?.agentId, health.agent_id);
  assert.deepEqual(agent?.lost, report.lost);
});
