/**
 * `stinger policy apply | list | delete` against the real broker: valid policies are published to the
 * compacted topic with generations, an unchanged re-apply publishes nothing, an invalid file is refused
 * field by field with nothing published, and delete leaves a tombstone.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeCompiledPolicy } from '@stinger/events';
import { bootstrapTopics, createProducer, readTopicToEnd, topicName } from '@stinger/kafka';
import { runStinger } from '../helpers/cli.ts';
import { testBrokers, testClient, uniqueName } from '../helpers/kafka.ts';
import { scratchDir } from '../helpers/scratch.ts';

const prefix = `${uniqueName('cli')}.`;
const env = () => ({ KAFKA_BROKERS: testBrokers(), STINGER_TOPIC_PREFIX: prefix });
const fixture = (name: string) => fileURLToPath(new URL(`../../libs/policy/testdata/${name}`, import.meta.url));
const client = testClient('cli-policy-test');

/** A record of the corrupt-record test decodes to null rather than failing the other tests' reads. */
function safeDecode(value: Buffer) {
  try {
    return decodeCompiledPolicy(value);
  } catch {
    return null;
  }
}

async function policyRecords() {
  return (await readTopicToEnd({ client, topic: topicName('policies', prefix) })).map((r) => ({
    key: r.key?.toString(),
    value: r.value ? safeDecode(r.value) : null,
  }));
}

before(async () => {
  await bootstrapTopics({ client, prefix, topics: ['policies', 'policyStatus'] });
});

test('apply publishes compiled policies; re-applying the same file publishes nothing', { timeout: 90_000 }, async () => {
  const first = runStinger(['policy', 'apply', fixture('deny-shadow-read.yaml'), fixture('deny-binary.yaml')], env());
  assert.equal(first.status, 0, first.stderr);
  assert.match(first.stdout, /deny-shadow-read: created \(generation 1, \d+ kernel rules/);
  assert.match(first.stdout, /deny-binary: created \(generation 1/);
  const again = runStinger(['policy', 'apply', fixture('deny-binary.yaml')], env());
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stdout, /deny-binary: unchanged \(generation 1\)/);
  const records = await policyRecords();
  assert.deepEqual(records.map((r) => r.key).sort(), ['deny-binary', 'deny-shadow-read']);
  assert.equal(records.find((r) => r.key === 'deny-shadow-read')?.value?.mode, 'enforce');

  const list = runStinger(['policy', 'list'], env());
  assert.equal(list.status, 0, list.stderr);
  assert.match(list.stdout, /deny-binary\s+mode=enforce\s+generation=1/);
});

test('an invalid file is refused field by field and nothing is published', { timeout: 60_000 }, async () => {
  const dir = scratchDir('stinger-policy-');
  const bad = join(dir, 'bad.yaml');
  writeFileSync(
    bad,
    ['apiVersion: stinger.io/v1alpha1', 'kind: TracingPolicy', 'metadata: {name: no-http}', 'spec:', '  rules:', '    - name: r', '      event: connect', '      match: {dport: [http]}', '      acton: audit', ''].join('\n'),
  );
  const before = (await policyRecords()).length;
  const result = runStinger(['policy', 'apply', bad], env());
  assert.equal(result.status, 1);
  assert.match(result.stderr, new RegExp(`${bad.replaceAll('/', '\\/')}:8:\\d+: spec\\.rules\\[0\\]\\.match\\.dport\\[0\\]: "http" is not a port number`));
  assert.match(result.stderr, /spec\.rules\[0\]\.acton: unknown key \(did you mean "action"\?\)/);
  assert.match(result.stderr, /nothing was applied/);
  assert.equal((await policyRecords()).length, before);
});

test('delete publishes a tombstone and the policy is gone from the list', { timeout: 60_000 }, async () => {
  const result = runStinger(['policy', 'delete', 'deny-binary'], env());
  assert.equal(result.status, 0, result.stderr);
  const records = await policyRecords();
  assert.deepEqual(records.at(-1), { key: 'deny-binary', value: null });
  const list = runStinger(['policy', 'list'], env());
  assert.doesNotMatch(list.stdout, /deny-binary/);
  assert.match(list.stdout, /deny-shadow-read/);
  const missing = runStinger(['policy', 'delete', 'no-such-policy'], env());
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /no such policy: no-such-policy/);
});

test('a corrupt record on the policies topic stops no command: list names it, apply and delete of its key replace it', { timeout: 90_000 }, async () => {
  // Compaction keeps such a record until its key is written again: it must not break the commands for everyone.
  const producer = createProducer({ client });
  await producer.connect();
  try {
    await producer.send(topicName('policies', prefix), [{ key: Buffer.from('corrupt-policy'), value: Buffer.from([0xc3, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 9]) }]);
  } finally {
    await producer.disconnect();
  }
  const list = runStinger(['policy', 'list'], env());
  assert.equal(list.status, 0, list.stderr);
  assert.match(list.stdout, /corrupt-policy\s+undecodable record on the topic/);
  assert.match(list.stdout, /deny-shadow-read\s+mode=enforce/, 'the other policies are still listed');
  const apply = runStinger(['policy', 'apply', fixture('deny-binary.yaml')], env());
  assert.equal(apply.status, 0, apply.stderr);
  const removed = runStinger(['policy', 'delete', 'corrupt-policy'], env());
  assert.equal(removed.status, 0, removed.stderr);
  assert.doesNotMatch(runStinger(['policy', 'list'], env()).stdout, /corrupt-policy/, 'the tombstone replaced it');
});
