/**
 * Hostile records on the pipeline's topics: seeded, bounded mutations of a valid record (bits flipped, truncated,
 * extended, random bytes of every length up to twice its size) written to stinger.events.raw (read by the enricher),
 * stinger.events (the detector) and stinger.alerts (the enforcer; there, mutated Events: a record of the wrong schema).
 * Every record its reader cannot decode goes to stinger.dlq with the source topic, the reader and a reason; each
 * service keeps running, its RSS stays bounded, and a valid record written afterwards still goes through the enricher.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { decodeAlert, decodeDeadLetter, decodeEvent, decodeRawEvent, encodeEvent, encodeRawEvent } from '@stinger/events';
import { bootstrapTopics, createProducer, topicName, type KafkaClient } from '@stinger/kafka';
import { sampleEvent, sampleRawEvent } from '@stinger/testing';
import { collectTopic, testBrokers, testClient, uniqueName, type Collector } from '../helpers/kafka.ts';
import { mutations } from '../helpers/mutations.ts';
import { startPipeline, type Pipeline, type PipelineService } from '../helpers/pipeline.ts';

const SEED = 0x0bad;
const PER_TOPIC = 80;
const RSS_GROWTH_BOUND_MIB = 64;
const NODE = 'hostile-node';

const prefix = `${uniqueName('hostile')}.`;
let client: KafkaClient;
let pipeline: Pipeline | undefined;
let dlq: Collector | undefined;
let events: Collector | undefined;

before(async () => {
  client = testClient('hostile-test');
  await bootstrapTopics({ client, prefix });
  dlq = await collectTopic(client, topicName('dlq', prefix));
  events = await collectTopic(client, topicName('events', prefix));
  pipeline = await startPipeline({ brokers: testBrokers(), topicPrefix: prefix });
});

after(async () => {
  await pipeline?.stop();
  await dlq?.stop();
  await events?.stop();
});

function rssMiB(pid: number): number {
  return Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;
}

/** Whether `decode` refuses `value` (what its reader must dead-letter). */
function refused(decode: (value: Buffer) => unknown, value: Buffer): boolean {
  try {
    decode(value);
    return false;
  } catch {
    return true;
  }
}

test('undecodable records on events.raw, events and alerts are dead-lettered with their reason; every reader keeps running', { timeout: 240_000 }, async (t) => {
  const cases = [
    { service: 'enricher', topic: topicName('eventsRaw', prefix), golden: encodeRawEvent(sampleRawEvent({ node: NODE, seq: 0n })), decode: decodeRawEvent },
    { service: 'detector', topic: topicName('events', prefix), golden: encodeEvent(sampleEvent({ node: NODE })), decode: decodeEvent },
    { service: 'enforcer', topic: topicName('alerts', prefix), golden: encodeEvent(sampleEvent({ node: NODE })), decode: decodeAlert },
  ] as const;
  const services: readonly PipelineService[] = ['enricher', 'detector', 'enforcer'];
  const rssBefore = new Map(services.map((s) => [s, rssMiB(pipeline!.services[s].child.pid!)]));
  const expected = new Map<string, number>();
  const producer = createProducer({ client, compression: 'none' });
  await producer.connect();
  try {
    for (const [index, c] of cases.entries()) {
      const hostile = mutations(c.golden, PER_TOPIC, SEED + index);
      expected.set(c.topic, hostile.filter((value) => refused(c.decode, value)).length);
      await producer.send(c.topic, hostile.map((value) => ({ key: NODE, value })));
    }
  } finally {
    await producer.disconnect();
  }

  const dead = () => dlq!.records.map((r) => decodeDeadLetter(r.value ?? Buffer.alloc(0)));
  const deadline = Date.now() + 90_000;
  for (const c of cases) {
    const want = expected.get(c.topic) ?? 0;
    assert.ok(want > PER_TOPIC / 2, `most mutations of ${c.topic} are undecodable (${want} of ${PER_TOPIC})`);
    for (;;) {
      const got = dead().filter((d) => d.source_topic === c.topic);
      if (got.length >= want) {
        assert.ok(got.every((d) => d.reason.length > 0 && d.consumer.length > 0), `${c.topic}: every dead letter names its reader and reason`);
        t.diagnostic(`${c.service}: ${got.length} dead letters for ${want} undecodable records of ${PER_TOPIC}; reasons ${[...new Set(got.map((d) => d.reason))].join(', ')}`);
        break;
      }
      assert.ok(Date.now() < deadline, `${c.topic}: ${got.length} of ${want} undecodable records dead-lettered by the ${c.service}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  for (const service of services) {
    const child = pipeline!.services[service].child;
    assert.equal(child.exitCode, null, `the ${service} is still running`);
    const growth = rssMiB(child.pid!) - (rssBefore.get(service) ?? 0);
    t.diagnostic(`${service}: RSS +${growth.toFixed(0)} MiB`);
    assert.ok(growth < RSS_GROWTH_BOUND_MIB, `${service} RSS grew by ${growth.toFixed(0)} MiB (bound ${RSS_GROWTH_BOUND_MIB})`);
  }

  // A valid record after the hostile ones still goes through the enricher.
  const after = createProducer({ client, compression: 'none' });
  await after.connect();
  try {
    await after.send(topicName('eventsRaw', prefix), [{ key: NODE, value: encodeRawEvent(sampleRawEvent({ node: NODE, seq: 424242n })) }]);
  } finally {
    await after.disconnect();
  }
  const validDeadline = Date.now() + 60_000;
  // The collector also holds the hostile records this test wrote to stinger.events: only decodable ones are looked at.
  const isTheValidOne = (value: Buffer | null) => value !== null && !refused(decodeEvent, value) && decodeEvent(value).seq === 424242n;
  while (!events!.records.some((r) => isTheValidOne(r.value))) {
    assert.ok(Date.now() < validDeadline, 'the valid record after the hostile ones reached stinger.events');
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
});
