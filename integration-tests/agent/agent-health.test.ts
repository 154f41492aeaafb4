/**
 * The real agent publishes its health on the agents topic, keyed by its node: one record at start, one every
 * STINGER_AGENT_HEALTH_INTERVAL_MS, and a last one at clean shutdown, each decodable with its loaded sensors.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeAgentHealth, type AgentHealth } from '@stinger/events';
import { bootstrapTopics, topicName, type KafkaClient } from '@stinger/kafka';
import { buildBpf, startAgent, type RunningAgent } from '../helpers/agent.ts';
import { collectTopic, testBrokers, testClient, uniqueName, type Collector } from '../helpers/kafka.ts';

const INTERVAL_MS = 2000;
const NODE = 'health-node';
let client: KafkaClient;
let agent: RunningAgent | undefined;
let collector: Collector;
const prefix = `${uniqueName('agent-health')}.`;

before(async () => {
  buildBpf();
  client = testClient('agent-health-test');
  await bootstrapTopics({ client, prefix });
  collector = await collectTopic(client, topicName('agents', prefix));
});

after(async () => {
  await agent?.stop();
  await collector?.stop();
});

function reports(): { key: string; health: AgentHealth }[] {
  return collector.records.map((r) => ({ key: r.key?.toString('utf8') ?? '', health: decodeAgentHealth(r.value ?? Buffer.alloc(0)) }));
}

async function untilReports(count: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (reports().length < count) {
    if (Date.now() > deadline) throw new Error(`${reports().length} of ${count} health reports after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

test('the agent publishes its health, keyed by node, at start, every interval and at shutdown', { timeout: 120_000 }, async () => {
  agent = await startAgent({ brokers: testBrokers(), topicPrefix: prefix, nodeName: NODE, extraEnv: { STINGER_AGENT_HEALTH_INTERVAL_MS: String(INTERVAL_MS) } });
  // The first report follows the producer's connection; the second comes one interval later.
  await untilReports(2, INTERVAL_MS + 15_000);
  const [first, second] = reports();
  assert.ok(first && second);
  assert.equal(first.key, NODE);
  assert.equal(first.health.node, NODE);
  assert.equal(first.health.agent_id, second.health.agent_id);
  assert.ok(second.health.reported_at_ns > first.health.reported_at_ns);
  const sensors = new Map(first.health.sensors.map((s) => [s.name, s.state]));
  assert.equal(sensors.get('process'), 'loaded', JSON.stringify(first.health.sensors));
  assert.ok(Object.keys(first.health.kernel_features).length > 0, 'the probed kernel features');
  // The first report may come while the (empty) spool drains; the next one is in direct mode.
  assert.equal(second.health.kafka_mode, 'direct');
  assert.ok(first.health.started_at_ns <= first.health.reported_at_ns);
  assert.ok(first.health.agent_version.length > 0);

  const stoppingAtNs = BigInt(Date.now()) * 1_000_000n;
  assert.equal(await agent.stop(), 0, 'the agent shuts down cleanly');
  agent = undefined;
  const deadline = Date.now() + 10_000;
  const lastReport = () => reports().find((r) => r.health.reported_at_ns >= stoppingAtNs);
  while (!lastReport() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(lastReport()?.health.agent_id, first.health.agent_id, 'a last report, made after SIGTERM');
});
