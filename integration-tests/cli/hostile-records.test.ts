/**
 * The CLI's readers survive hostile records: seeded mutations of a valid Event (bits flipped, truncated, extended,
 * random bytes) on stinger.events and stinger.alerts, around one valid Event. `stinger events` and `stinger alerts`
 * exit 0, say on stderr which record each skipped and why (one line per undecodable record), and `stinger events`
 * still prints the valid one.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeAlert, decodeEvent, encodeEvent } from '@stinger/events';
import { bootstrapTopics, createProducer, topicName } from '@stinger/kafka';
import { sampleEvent } from '@stinger/testing';
import { runStinger } from '../helpers/cli.ts';
import { testBrokers, testClient, uniqueName } from '../helpers/kafka.ts';
import { mutations } from '../helpers/mutations.ts';

const SEED = 0xc11;
const COUNT = 60;
const prefix = `${uniqueName('cli-hostile')}.`;
const env = () => ({ KAFKA_BROKERS: testBrokers(), STINGER_TOPIC_PREFIX: prefix });
const valid = sampleEvent({ node: 'cli-hostile-node', seq: 777n });
const golden = encodeEvent(valid);
const hostileEvents = mutations(golden, COUNT, SEED);
const hostileAlerts = mutations(golden, COUNT, SEED + 1);

function undecodable(decode: (value: Buffer) => unknown, values: readonly Buffer[]): number {
  return values.filter((value) => {
    try {
      decode(value);
      return false;
    } catch {
      return true;
    }
  }).length;
}

before(async () => {
  const client = testClient('cli-hostile-test');
  await bootstrapTopics({ client, prefix, topics: ['events', 'alerts', 'enforcements'] });
  const producer = createProducer({ client, compression: 'none' });
  await producer.connect();
  try {
    const half = COUNT / 2;
    const records = [...hostileEvents.slice(0, half), golden, ...hostileEvents.slice(half)].map((value) => ({ key: valid.node, value }));
    await producer.send(topicName('events', prefix), records);
    await producer.send(topicName('alerts', prefix), hostileAlerts.map((value) => ({ key: valid.node, value })));
  } finally {
    await producer.disconnect();
  }
});

test('stinger events skips each undecodable record with its reason and prints the valid one', { timeout: 90_000 }, () => {
  const result = runStinger(['events', '--from', '30m', '-o', 'json'], env());
  assert.equal(result.status, 0, result.stderr);
  const skipped = result.stderr.split('\n').filter((line) => /^stinger: skipped .*stinger\.events\[\d+\]@\d+: \S+/.test(line));
  assert.equal(skipped.length, undecodable(decodeEvent, hostileEvents), result.stderr);
  assert.ok(result.stdout.includes(valid.id), `the valid event ${valid.id} is printed:\n${result.stdout.slice(0, 2000)}`);
});

test('stinger alerts skips each undecodable record with its reason and exits 0', { timeout: 90_000 }, () => {
  const result = runStinger(['alerts', '--from', '30m'], env());
  assert.equal(result.status, 0, result.stderr);
  const skipped = result.stderr.split('\n').filter((line) => /^stinger: skipped .*stinger\.alerts\[\d+\]@\d+: \S+/.test(line));
  assert.equal(skipped.length, undecodable(decodeAlert, hostileAlerts), result.stderr);
});
