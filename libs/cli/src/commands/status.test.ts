import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AgentHealth } from '@stinger/events';
import type { GroupMember } from '@stinger/kafka';
import { connectedClients, lostBy, reportedAgents, statusLines, type StatusReport } from './status.ts';

const STINGER_TOPICS = new Set(['stinger.events', 'stinger.events.raw', 'stinger.policies', 'stinger.control', 'stinger.alerts']);
/** A group member: `clientId@clientHost` in group `groupId`, subscribed to `topics`. */
const member = (client: string, groupId: string, topics: string[]): GroupMember => {
  const [clientId = '', clientHost = ''] = client.split('@');
  return { groupId, clientId, clientHost, topics };
};

test("connected clients: each service's pods by their client ids, an agent's two tails as one client, other readers of Stinger's topics by client id", () => {
  const members = [
    member('stinger-enricher-stinger-enricher-7d9f-abcde@10.88.0.7', 'stinger.enricher', ['stinger.events.raw']),
    member('stinger-policy-controller-stinger-policy-controller-5c-x1@10.88.0.9', 'stinger-tail-1', ['stinger.policies.status']),
    member('stinger-agent-node-a@10.88.0.1', 'stinger-tail-2', ['stinger.policies']),
    member('stinger-agent-node-a@10.88.0.1', 'stinger-tail-3', ['stinger.control']),
    member('stinger-agent-node-b@10.88.0.2', 'stinger-tail-4', ['stinger.policies']),
    member('siem-forwarder@10.1.2.3', 'siem', ['stinger.alerts']),
    member('billing-7@10.1.2.4', 'billing', ['invoices']),
  ];
  assert.deepEqual(connectedClients(members, 'stinger', STINGER_TOPICS), [
    { service: 'agent', instance: 'node-a', host: '10.88.0.1', topics: ['stinger.control', 'stinger.policies'] },
    { service: 'agent', instance: 'node-b', host: '10.88.0.2', topics: ['stinger.policies'] },
    { service: 'enricher', instance: 'stinger-enricher-7d9f-abcde', host: '10.88.0.7', topics: ['stinger.events.raw'] },
    // Named by its client id though its topic is not in the set given.
    { service: 'policy-controller', instance: 'stinger-policy-controller-5c-x1', host: '10.88.0.9', topics: ['stinger.policies.status'] },
    { service: null, instance: 'siem-forwarder', host: '10.1.2.3', topics: ['stinger.alerts'] },
  ]);
});

test('connected clients: a service is recognised under the configured client id only; under another one it is an other client of its topics', () => {
  const members = [member('acme-detector-d1@h', 'acme.detector', ['stinger.events']), member('stinger-detector-d2@h', 'x', ['stinger.events'])];
  assert.deepEqual(
    connectedClients(members, 'acme', STINGER_TOPICS).map((c) => [c.service, c.instance]),
    [['detector', 'd1'], [null, 'stinger-detector-d2']],
  );
});

const NOW_MS = 1_800_000_000_000;
const ms = (value: number): bigint => BigInt(value) * 1_000_000n;

function health(node: string, reportedMsAgo: number): AgentHealth {
  return {
    node,
    agent_id: `agent-${node}`,
    agent_version: '0.1.0',
    reported_at_ns: ms(NOW_MS - reportedMsAgo),
    started_at_ns: ms(NOW_MS - reportedMsAgo - 60_000),
    events_published: 120n,
    events_acknowledged: 118n,
    events_spooled: 0n,
    events_per_second: 2,
    lost_records: [
      { sensor: 'process', cause: 'ring_full', count: 2n },
      { sensor: 'file', cause: 'user_space', count: 1n },
    ],
    kafka_mode: 'direct',
    spool_bytes: 0n,
    sensors: [
      { name: 'process', state: 'loaded', reason: null, mode: 'tracepoint' },
      { name: 'file', state: 'loaded', reason: null, mode: 'tracepoint' },
      { name: 'feature:lsm', state: 'unavailable', reason: 'lockdown', mode: null },
    ],
    kernel_features: { lsm: false },
    policies_applied: 3,
    policies_partial: 1,
    policies_rejected: 0,
    process_cache_size: 400n,
  };
}

test("reported agents: each node's latest report with its age and uptime, sensors without the kernel features, losses summed and by sensor and cause", () => {
  const agents = reportedAgents([health('node-b', 2_400), health('node-a', 61_000)], NOW_MS);
  assert.deepEqual(agents[0], {
    node: 'node-a',
    version: '0.1.0',
    reportedSecondsAgo: 61,
    uptimeSeconds: 60,
    sensors: [
      { name: 'process', state: 'loaded', mode: 'tracepoint' },
      { name: 'file', state: 'loaded', mode: 'tracepoint' },
    ],
    kafka: { mode: 'direct', acknowledged: 118, published: 120, spooled: 0 },
    lost: 3,
    lostBy: [
      { sensor: 'process', cause: 'ring_full', count: 2 },
      { sensor: 'file', cause: 'user_space', count: 1 },
    ],
    policies: { applied: 3, partial: 1, rejected: 0 },
  });
  assert.equal(agents[1]?.node, 'node-b');
  assert.equal(agents[1]?.reportedSecondsAgo, 2);
});

const base: StatusReport = {
  localBroker: null,
  brokers: '10.88.0.1:9092',
  services: [],
  agent: null,
  connected: [],
  agents: [],
  consumers: [],
  topics: [],
};

test('status lines: one per connected client and one per reporting agent; what the broker could not tell is said', () => {
  const lines = statusLines({
    ...base,
    connected: [
      { service: 'detector', instance: 'stinger-detector-6b-q', host: '10.88.0.8', topics: ['stinger.events'] },
      { service: null, instance: 'siem-forwarder', host: '10.1.2.3', topics: [] },
    ],
    agents: reportedAgents([health('node-a', 5_000)], NOW_MS),
  });
  assert.deepEqual(lines.slice(2), [
    'connected: detector stinger-detector-6b-q from 10.88.0.8, reading stinger.events',
    'connected: client siem-forwarder from 10.1.2.3',
    'agent on node-a: reported 5 s ago (0.1.0, up 60 s); sensors process:loaded(tracepoint) file:loaded(tracepoint); kafka direct, 118 of 120 events acknowledged, 0 spooled, 3 lost (process ring_full 2, file user_space 1); policies 3 applied, 1 partial, 0 rejected',
  ]);
  assert.deepEqual(statusLines(base).slice(2), ['connected: no client consumes from the broker']);
  assert.deepEqual(statusLines({ ...base, connected: { error: 'broker away' }, agents: { error: 'timed out' } }).slice(2), ['connected: unknown (broker away)', 'agents: unknown (timed out)']);
});

test('losses by sensor list only counts above zero; a line says where records were lost only when some were', () => {
  const counts = [
    { sensor: 'process', cause: 'ring_full', count: 0n },
    { sensor: 'file', cause: 'ring_full', count: 428_834n },
    { sensor: 'file', cause: 'shed', count: 0n },
    { sensor: 'privilege', cause: 'shed', count: 61_002n },
    { sensor: 'publisher', cause: 'spool_full', count: 13_752n },
  ];
  assert.deepEqual(lostBy(counts), [
    { sensor: 'file', cause: 'ring_full', count: 428_834 },
    { sensor: 'privilege', cause: 'shed', count: 61_002 },
    { sensor: 'publisher', cause: 'spool_full', count: 13_752 },
  ]);
  const quiet = { ...health('node-a', 5_000), lost_records: [{ sensor: 'process', cause: 'ring_full' as const, count: 0n }] };
  const line = statusLines({ ...base, agents: reportedAgents([quiet], NOW_MS) }).find((l) => l.startsWith('agent on node-a:'));
  assert.match(line ?? '', /, 0 spooled, 0 lost; policies/);
  const shedding = {
    ...health('node-a', 5_000),
    lost_records: [
      { sensor: 'file', cause: 'ring_full' as const, count: 0n },
      { sensor: 'file', cause: 'shed' as const, count: 40_000n },
    ],
  };
  const shedLine = statusLines({ ...base, agents: reportedAgents([shedding], NOW_MS) }).find((l) => l.startsWith('agent on node-a:'));
  assert.match(shedLine ?? '', /, 0 spooled, 40000 lost \(file shed 40000\); policies/, 'audit records the kernel shed are named by sensor and cause');
});
