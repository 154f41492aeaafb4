/**
 * A refused output schema ends a service (issue 12, the evolution drill's other side), on the real broker, a real
 * Apicurio Registry and the real enricher. The enricher first runs without a registry and commits what it reads; then
 * the subject of stinger.events holds a version the enricher's Event schema is not BACKWARD compatible with, and the
 * enricher restarts in registry mode. Given new raw events it must log one fatal line naming the topic, the subject
 * and the registry's reason, exit non-zero (a supervisor then shows a crash loop with that line), and leave its
 * group's committed offsets before the records it could not write: none is lost, none written.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { loadConfig, requireBrokers } from '@stinger/config';
import { codecs, encodeRawEvent } from '@stinger/events';
import { bootstrapTopics, createKafkaClient, createProducer, fetchConsumerLag, topicName, type KafkaClient } from '@stinger/kafka';
import { createLogger } from '@stinger/log';
import { startLocalRegistry, type LocalRegistry } from '@stinger/local-registry';
import { valueSubject } from '@stinger/schema-registry';
import { sampleRawEvent } from '@stinger/testing';
import { collectTopic, testBrokers, uniqueName, type Collector } from '../helpers/kafka.ts';
import { pipelineEnvironment, startPipelineService, type RunningService } from '../helpers/pipeline.ts';
import { scratchDir } from '../helpers/scratch.ts';

const prefix = `${uniqueName('refused')}.`;
const rawTopic = topicName('eventsRaw', prefix);
const eventsTopic = topicName('events', prefix);
const groupId = `${prefix}stinger.enricher`;
const dir = scratchDir('stinger-refused-schema-test-');
const config = loadConfig();
const logger = createLogger({ name: 'refused-schema-test', level: config.logLevel === 'info' ? 'warn' : config.logLevel });

let registry: LocalRegistry | undefined;
let client: KafkaClient;
let events: Collector | undefined;
let enricher: RunningService | undefined;
let seq = 0n;

before(async () => {
  registry = await startLocalRegistry({ cacheDir: config.cacheDir, dataDir: join(dir, 'registry'), logger });
  client = createKafkaClient({ brokers: requireBrokers(config), connection: config.kafka, role: 'refused-schema-test', logger });
  await bootstrapTopics({ client, prefix });
  events = await collectTopic(client, eventsTopic);
});

after(async () => {
  await enricher?.stop();
  await events?.stop();
  await registry?.stop();
});

async function startEnricher(registryUrl: string | null): Promise<RunningService> {
  const extraEnv: Record<string, string> = registryUrl === null ? {} : { STINGER_SCHEMA_REGISTRY_URL: registryUrl };
  return startPipelineService('enricher', pipelineEnvironment({ brokers: testBrokers(), topicPrefix: prefix, extraEnv }));
}

/** Writes `count` raw exec events (single-object encoded, as an agent without a registry writes them). */
async function writeRawEvents(count: number): Promise<void> {
  const producer = createProducer({ client });
  await producer.connect();
  try {
    const records = Array.from({ length: count }, () => {
      seq += 1n;
      return { key: 'refused-node', value: encodeRawEvent({ ...sampleRawEvent({ node: 'refused-node', seq, binary: '/usr/bin/refused' }), id: randomUUID() }) };
    });
    await producer.send(rawTopic, records);
  } finally {
    await producer.disconnect();
  }
}

async function registryAnswer(path: string, init: { method: string; body: unknown }): Promise<unknown> {
  const response = await fetch(`${registry!.url}${path}`, {
    method: init.method,
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify(init.body),
  });
  const text = await response.text();
  assert.ok(response.ok, `${init.method} ${path}: ${response.status} ${text}`);
  return JSON.parse(text) as unknown;
}

test('an enricher whose Event schema the registry refuses logs one fatal line (topic, subject, reason), exits 1, and commits nothing it did not write', { timeout: 300_000 }, async (t) => {
  // 1. No registry: the enricher writes and commits what it reads.
  enricher = await startEnricher(null);
  await writeRawEvents(3);
  await events!.waitFor(3, 60_000);
  const deadline = Date.now() + 30_000;
  let caughtUp = await fetchConsumerLag(client, groupId, rawTopic);
  while (caughtUp.lag > 0n && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    caughtUp = await fetchConsumerLag(client, groupId, rawTopic);
  }
  assert.ok(caughtUp.committed, 'the enricher committed its first batches');
  await enricher.stop();

  // 2. The subject's latest version lacks a field the current Event requires (no default): BACKWARD refuses the current.
  const current = codecs.Event.current.schema as { fields: { name: string; default?: unknown }[] };
  const required = current.fields.find((field) => !('default' in field));
  assert.ok(required, 'Event has a field without a default');
  const older = { ...current, fields: current.fields.filter((field) => field !== required) };
  const subject = valueSubject(eventsTopic);
  await registryAnswer(`/subjects/${encodeURIComponent(subject)}/versions`, { method: 'POST', body: { schema: JSON.stringify(older) } });
  await registryAnswer(`/config/${encodeURIComponent(subject)}`, { method: 'PUT', body: { compatibility: 'BACKWARD' } });

  // 3. Registry mode: the first batch's events are refused; the enricher stops instead of retrying forever.
  enricher = await startEnricher(registry!.url);
  const child = enricher.child;
  const closed = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  await writeRawEvents(3);
  const timeout = new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), 90_000).unref());
  const code = await Promise.race([closed, timeout]);
  assert.equal(code, 1, `the enricher exits 1 (got ${String(code)})\n${enricher.log.slice(-15).join('\n')}`);

  const fatal = enricher.log.flatMap((line) => (line.startsWith('{') ? [JSON.parse(line) as { level: number; msg: string }] : [])).filter((line) => line.level === 60);
  assert.equal(fatal.length, 1, `one fatal line\n${enricher.log.slice(-15).join('\n')}`);
  t.diagnostic(`fatal line: ${fatal[0]!.msg}`);
  const escaped = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  assert.match(
    fatal[0]!.msg,
    new RegExp(`^cannot write ${escaped(eventsTopic)}: schema registry refused io\\.stinger\\.v1\\.Event for subject ${escaped(subject)}: \\S.*; stopped without committing the batch`),
  );
  assert.equal(
    enricher.log.some((line) => line.includes('Restarting the consumer')),
    false,
    'no consumer restart',
  );
  // It closed what it had open (consumer group left, metrics server stopped) in time, not by the shutdown timeout.
  assert.equal(
    enricher.log.some((line) => line.includes('"msg":"shutdown was not clean"')),
    false,
    `clean close\n${enricher.log.slice(-15).join('\n')}`,
  );

  // Offsets stayed before the three unwritten records, and nothing of them reached stinger.events.
  const stopped = await fetchConsumerLag(client, groupId, rawTopic);
  assert.equal(stopped.lag, caughtUp.lag + 3n, 'the group committed nothing past the records it could not write');
  await new Promise((resolve) => setTimeout(resolve, 2000));
  assert.equal(events!.records.length, 3, 'no event of the refused batch was written');
});
