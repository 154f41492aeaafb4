import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeAgentHealth, encodeAgentHealth } from '@stinger/events';
import type { AgentHealth as AgentHealthView, PolicyStatusView } from '@stinger/agent-api';
import { silentLogger } from '@stinger/log';
import { AgentHealthReporter, agentHealthRecord, eventsPerSecond, type AgentHealthRecord, type AgentHealthSample } from './agent-health.ts';

const view = (acknowledged = 90): AgentHealthView => ({
  agentId: 'agent-1',
  node: 'worker-1',
  uptimeSeconds: 12,
  sensors: [
    { name: 'process', state: 'loaded', reason: null, mode: 'tracepoint' },
    { name: 'feature:lsm', state: 'unavailable', reason: 'BPF_PROG_LOAD: EPERM', mode: null },
  ],
  lostRecords: [
    { sensor: 'process', cause: 'ring_full', count: 3 },
    { sensor: 'file', cause: 'shed', count: 48_210 },
    { sensor: 'publisher', cause: 'spool_full', count: 0 },
  ],
  queueDepth: 10,
  kafka: { mode: 'spooling', published: 100, acknowledged, spooled: 7, spoolBytes: 4096 },
  processCache: { live: 42, exited: 5, misses: 1 },
});

const policy = (name: string, state: PolicyStatusView['state']): PolicyStatusView => ({ name, generation: 1, mode: null, state, kernelRules: 1, pipelineRules: 0, messages: [] });

const sample = (acknowledged = 90): AgentHealthSample => ({
  version: '0.1.0',
  startedAtNs: 1_000_000_000n,
  health: view(acknowledged),
  features: { ringbuf: { available: true }, lsm: { available: false, reason: 'lockdown' } },
  policies: [policy('a', 'applied'), policy('b', 'applied'), policy('c', 'partial'), policy('d', 'rejected')],
});

test('agentHealthRecord carries the API health view, the features and the policy counts, and encodes', () => {
  const record = agentHealthRecord({ ...sample(), reportedAtNs: 5_000_000_000n, eventsPerSecond: 12.5 });
  assert.deepEqual(record, {
    node: 'worker-1',
    agent_id: 'agent-1',
    agent_version: '0.1.0',
    reported_at_ns: 5_000_000_000n,
    started_at_ns: 1_000_000_000n,
    events_published: 100n,
    events_acknowledged: 90n,
    events_spooled: 7n,
    events_per_second: 12.5,
    lost_records: [
      { sensor: 'process', cause: 'ring_full', count: 3n },
      { sensor: 'file', cause: 'shed', count: 48_210n },
      { sensor: 'publisher', cause: 'spool_full', count: 0n },
    ],
    kafka_mode: 'spooling',
    spool_bytes: 4096n,
    sensors: [
      { name: 'process', state: 'loaded', reason: null, mode: 'tracepoint' },
      { name: 'feature:lsm', state: 'unavailable', reason: 'BPF_PROG_LOAD: EPERM', mode: null },
    ],
    kernel_features: { ringbuf: true, lsm: false },
    policies_applied: 2,
    policies_partial: 1,
    policies_rejected: 1,
    process_cache_size: 42n,
  } satisfies AgentHealthRecord);
  // Decoded records are avro-js class instances: compared as plain data.
  assert.deepEqual(structuredClone(decodeAgentHealth(encodeAgentHealth(record))), record);
});

test('eventsPerSecond: acknowledged events over the elapsed time; 0 for the first sample or no time', () => {
  assert.equal(eventsPerSecond(null, { acknowledged: 50, atNs: 1n }), 0);
  assert.equal(eventsPerSecond({ acknowledged: 50, atNs: 0n }, { acknowledged: 250, atNs: 2_000_000_000n }), 100);
  assert.equal(eventsPerSecond({ acknowledged: 50, atNs: 5n }, { acknowledged: 60, atNs: 5n }), 0);
});

test('the reporter sends at start, every interval and once at stop; a failed send does not stop it', async (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] });
  const sent: AgentHealthRecord[] = [];
  let acknowledged = 0;
  let nowNs = 0n;
  let failNext = false;
  const reporter = new AgentHealthReporter({
    sample: () => sample(acknowledged),
    send: async (record) => {
      if (failNext) {
        failNext = false;
        throw new Error('broker away');
      }
      sent.push(record);
    },
    intervalMs: 1000,
    logger: silentLogger(),
    nowNs: () => nowNs,
  });
  await reporter.start();
  assert.equal(sent.length, 1, 'one report at start');
  assert.equal(sent[0]?.events_per_second, 0);

  acknowledged = 500;
  nowNs = 1_000_000_000n;
  failNext = true;
  t.mock.timers.tick(1000);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(sent.length, 1, 'the failed report is not retried');

  acknowledged = 700;
  nowNs = 2_000_000_000n;
  t.mock.timers.tick(1000);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(sent.length, 2);
  assert.equal(sent[1]?.events_per_second, 200, 'the rate is over the last interval, failed report included');

  nowNs = 2_500_000_000n;
  await reporter.stop();
  assert.equal(sent.length, 3, 'a last report at stop');
  t.mock.timers.tick(5000);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(sent.length, 3, 'nothing after stop');
});

test('stop() does not wait past stopTimeoutMs for a broker that never answers', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
  let sends = 0;
  const reporter = new AgentHealthReporter({
    sample: () => sample(),
    send: () => {
      sends += 1;
      return new Promise<void>(() => undefined);
    },
    intervalMs: 1000,
    stopTimeoutMs: 3000,
    logger: silentLogger(),
  });
  let stopped = false;
  const stopping = reporter.stop().then(() => (stopped = true));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(sends, 1, 'the last report is sent');
  t.mock.timers.tick(2999);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(stopped, false);
  t.mock.timers.tick(1);
  await stopping;
  assert.equal(stopped, true);
});
