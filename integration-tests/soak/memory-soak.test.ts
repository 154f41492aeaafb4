/**
 * Soak: the whole pipeline on the real kernel and broker (agent → enricher → detector → enforcer) under a steady event
 * stream, with the heap and RSS of every service sampled from its own metrics (prom-client's
 * nodejs_heap_size_used_bytes and process_resident_memory_bytes) every few seconds. After a warm-up third, memory
 * must be flat: the largest sample of the last third may exceed the largest of the middle third by at most
 * GROWTH_BOUND (a share) plus GROWTH_SLACK_MIB (GC timing). The stream must also have reached stinger.events.
 *
 * CI runs a bounded variant (SOAK_SECONDS, 120 s by default). The longer run is the same file with more time:
 *
 *   STINGER_SOAK_SECONDS=1200 npx stinger test --skip-static integration-tests/soak/memory-soak.test.ts
 *
 * Workload: 25 short processes a second (fork, exec, exit: 75 events/s), each a cat of a file an audit policy watches
 * (a file event and an alert for each), named after this test so no other test's rule matches them.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processEnvironment } from '@stinger/config';
import { bootstrapTopics, fetchTopicOffsets, topicName, type KafkaClient } from '@stinger/kafka';
import { buildBpf, freePort, startAgent, type RunningAgent } from '../helpers/agent.ts';
import { applyPolicy } from '../helpers/agent-events.ts';
import { runStinger } from '../helpers/cli.ts';
import { collectTopic, testBrokers, testClient, uniqueName, type Collector } from '../helpers/kafka.ts';
import { startPipeline, type Pipeline, type PipelineService } from '../helpers/pipeline.ts';

const SOAK_SECONDS = Number(processEnvironment()['STINGER_SOAK_SECONDS'] ?? 120);
const SAMPLE_MS = 3000;
const PROCESSES_PER_SECOND = 25;
/** Flat: the last third's peak may exceed the middle third's by this share, plus GROWTH_SLACK_MIB. */
const GROWTH_BOUND = 0.15;
const GROWTH_SLACK_MIB = 16;
const MIB = 1024 * 1024;

const tag = randomBytes(4).toString('hex');
const prefix = `${uniqueName('soak')}.`;
const nodeName = `soak-node-${tag}`;
const dir = mkdtempSync(join(tmpdir(), 'stinger-soak-'));
const cliEnv = () => ({ KAFKA_BROKERS: testBrokers(), STINGER_TOPIC_PREFIX: prefix });
const policyName = `it-soak-${tag}`;

let client: KafkaClient;
let agent: RunningAgent | undefined;
let pipeline: Pipeline | undefined;
let statuses: Collector | undefined;
let agentMetrics = '';
let applied = false;

before(async () => {
  assert.ok(Number.isFinite(SOAK_SECONDS) && SOAK_SECONDS >= 30, `STINGER_SOAK_SECONDS must be at least 30, not ${SOAK_SECONDS}`);
  buildBpf();
  client = testClient('soak-test');
  await bootstrapTopics({ client, prefix });
  statuses = await collectTopic(client, topicName('policyStatus', prefix));
  pipeline = await startPipeline({ brokers: testBrokers(), topicPrefix: prefix });
  agentMetrics = `127.0.0.1:${await freePort()}`;
  agent = await startAgent({ brokers: testBrokers(), topicPrefix: prefix, nodeName, extraEnv: { STINGER_AGENT_METRICS_ADDRESS: agentMetrics } });
});

after(async () => {
  if (applied) runStinger(['policy', 'delete', policyName], cliEnv());
  await agent?.stop();
  await pipeline?.stop();
  await statuses?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The metrics address a pipeline service logged with "<service> running" (it listens on a free port). */
function metricsAddressOf(service: PipelineService): string {
  const line = pipeline!.services[service].log.find((l) => l.includes(`"msg":"${service} running"`)) ?? '';
  const port = (JSON.parse(line) as { metricsPort?: number }).metricsPort;
  assert.ok(port, `${service} logged no metrics port: ${line}`);
  return `127.0.0.1:${port}`;
}

interface MemorySample {
  readonly heapMiB: number;
  readonly rssMiB: number;
}

async function memoryOf(address: string): Promise<MemorySample> {
  const text = await (await fetch(`http://${address}/metrics`)).text();
  const gauge = (name: string): number => {
    const value = Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
    assert.ok(Number.isFinite(value), `${address} has no ${name}`);
    return value / MIB;
  };
  return { heapMiB: gauge('nodejs_heap_size_used_bytes'), rssMiB: gauge('process_resident_memory_bytes') };
}

test(`memory of every service stays flat over a ${SOAK_SECONDS} s soak under a steady event stream`, { timeout: (SOAK_SECONDS + 240) * 1000 }, async (t) => {
  const watched = join(dir, `soak-watched-${tag}`);
  writeFileSync(watched, 'soak\n');
  applied = true; // deleted in after() whatever happens from here
  await applyPolicy({
    dir,
    name: policyName,
    rules: ['- name: soak-read', '  event: file', `  match: { path: { equal: ["${watched}"] }, op: [open] }`, '  action: audit'],
    env: cliEnv(),
    statuses: statuses!,
    node: nodeName,
  });

  const addresses: Record<string, string> = {
    agent: agentMetrics,
    enricher: metricsAddressOf('enricher'),
    detector: metricsAddressOf('detector'),
    enforcer: metricsAddressOf('enforcer'),
  };
  const samples = new Map<string, MemorySample[]>(Object.keys(addresses).map((name) => [name, []]));
  let started = 0;
  const workload = setInterval(() => {
    started += 1;
    spawn('/bin/cat', [watched], { stdio: 'ignore' }).on('error', () => undefined);
  }, 1000 / PROCESSES_PER_SECOND);
  try {
    const end = Date.now() + SOAK_SECONDS * 1000;
    while (Date.now() < end) {
      for (const [name, address] of Object.entries(addresses)) samples.get(name)?.push(await memoryOf(address));
      await new Promise((resolve) => setTimeout(resolve, SAMPLE_MS));
    }
  } finally {
    clearInterval(workload);
  }

  const enriched = (await fetchTopicOffsets(client, topicName('events', prefix))).partitions.reduce((sum, p) => sum + p.high, 0n);
  assert.ok(enriched > BigInt(started), `the stream reached stinger.events (${enriched} records for ${started} processes)`);
  for (const [name, series] of samples) {
    const third = Math.floor(series.length / 3);
    const middle = series.slice(third, 2 * third);
    const last = series.slice(2 * third);
    for (const measure of ['heapMiB', 'rssMiB'] as const) {
      const middlePeak = Math.max(...middle.map((s) => s[measure]));
      const lastPeak = Math.max(...last.map((s) => s[measure]));
      const bound = middlePeak * (1 + GROWTH_BOUND) + GROWTH_SLACK_MIB;
      t.diagnostic(`${name} ${measure}: first ${series[0]?.[measure].toFixed(0)}, middle-third peak ${middlePeak.toFixed(0)}, last-third peak ${lastPeak.toFixed(0)} (bound ${bound.toFixed(0)})`);
      assert.ok(lastPeak <= bound, `${name} ${measure} grew: last-third peak ${lastPeak.toFixed(0)} MiB over the middle third's ${middlePeak.toFixed(0)} (bound ${bound.toFixed(0)})`);
    }
  }
});
