/**
 * `stinger keys` and signed `stinger policy`: the real CLI on a temp keys directory and the real broker. Generate
 * refuses a second key, rotate keeps the old key trusted until retire, retire refuses the active key; without a key
 * `policy apply` publishes nothing and says how to make one; with one, every record it writes — tombstones too —
 * verifies against the trusted keys.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bootstrapTopics, readTopicToEnd, topicName } from '@stinger/kafka';
import { readKeyRing, verifyPolicyRecord } from '@stinger/trust';
import { runStinger } from '../helpers/cli.ts';
import { testBrokers, testClient, uniqueName } from '../helpers/kafka.ts';
import { scratchDir } from '../helpers/scratch.ts';

const prefix = `${uniqueName('keys')}.`;
const scratch = scratchDir('stinger-keys-cli-');
const client = testClient('cli-keys-test');

function keysDir(name: string): string {
  return join(scratch, name);
}

function stinger(args: readonly string[], keys: string) {
  return runStinger(args, { KAFKA_BROKERS: testBrokers(), STINGER_TOPIC_PREFIX: prefix, STINGER_KEYS_DIR: keys });
}

/** `stinger keys list` as { id: 'active' | 'trusted' }. */
function listed(keys: string): Record<string, string> {
  const result = stinger(['keys', 'list'], keys);
  assert.equal(result.status, 0, result.stderr);
  return Object.fromEntries(result.stdout.trim().split('\n').map((line) => line.split(/\s+/) as [string, string]));
}

before(async () => {
  await bootstrapTopics({ client, prefix, topics: ['policies', 'policyStatus'] });
});

test('generate makes one active key and refuses a second; rotate keeps the old key trusted until retire', () => {
  const keys = keysDir('rotation');
  assert.match(stinger(['keys', 'list'], keys).stdout, /no keys in .* \(run `stinger keys generate`\)/);
  const generated = stinger(['keys', 'generate'], keys);
  assert.equal(generated.status, 0, generated.stderr);
  const first = /generated key ([0-9a-f]{16}) \(active\)/.exec(generated.stdout)?.[1];
  assert.ok(first, generated.stdout);
  assert.deepEqual(listed(keys), { [first]: 'active' });

  const again = stinger(['keys', 'generate'], keys);
  assert.equal(again.status, 1);
  assert.match(again.stderr, new RegExp(`already holds key ${first}; \`stinger keys rotate\``));
  assert.deepEqual(listed(keys), { [first]: 'active' }, 'the refused generate changed nothing');

  const rotated = stinger(['keys', 'rotate'], keys);
  assert.equal(rotated.status, 0, rotated.stderr);
  const second = /generated key ([0-9a-f]{16}) \(active\)/.exec(rotated.stdout)?.[1];
  assert.ok(second && second !== first, rotated.stdout);
  assert.match(rotated.stdout, new RegExp(`key ${first} stays trusted until \`stinger keys retire ${first}\``));
  assert.deepEqual(listed(keys), { [first]: 'trusted', [second]: 'active' });

  const retireActive = stinger(['keys', 'retire', second], keys);
  assert.equal(retireActive.status, 1);
  assert.match(retireActive.stderr, /is the active signing key; rotate first/);
  const retired = stinger(['keys', 'retire', first], keys);
  assert.equal(retired.status, 0, retired.stderr);
  assert.deepEqual(listed(keys), { [second]: 'active' });
  assert.match(stinger(['keys', 'retire', first], keys).stderr, new RegExp(`key ${first} is not trusted`));
  assert.equal(stinger(['keys', 'retire'], keys).status, 2, 'retire without an id is a usage error');
});

test('policy apply without a key publishes nothing and names the file and `stinger keys generate`', async () => {
  const file = join(scratch, 'unsigned.yaml');
  const name = `unsigned-${Date.now().toString(36)}`;
  writeFileSync(file, `apiVersion: stinger.io/v1alpha1\nkind: TracingPolicy\nmetadata: { name: ${name} }\nspec:\n  rules:\n    - { name: r, event: exec, match: { binary: { equal: [/usr/bin/${name}] } }, action: audit }\n`);
  const result = stinger(['policy', 'apply', file], keysDir('empty'));
  assert.equal(result.status, 1);
  assert.match(result.stderr, new RegExp(`^stinger: ${file}: cannot sign: no signing key at .*signing\\.key \\(run \`stinger keys generate\`\\)`));
  const records = await readTopicToEnd({ client, topic: topicName('policies', prefix) });
  assert.equal(records.filter((r) => r.key?.toString() === name).length, 0);
});

test('every record policy apply and delete write is signed by the active key, tombstones too', async () => {
  const keys = keysDir('signing');
  assert.equal(stinger(['keys', 'generate'], keys).status, 0);
  const name = `signed-${Date.now().toString(36)}`;
  const file = join(scratch, 'signed.yaml');
  writeFileSync(file, `apiVersion: stinger.io/v1alpha1\nkind: TracingPolicy\nmetadata: { name: ${name} }\nspec:\n  rules:\n    - { name: r, event: exec, match: { binary: { equal: [/usr/bin/${name}] } }, action: audit }\n`);
  const applied = stinger(['policy', 'apply', file], keys);
  assert.equal(applied.status, 0, applied.stderr);
  const deleted = stinger(['policy', 'delete', name], keys);
  assert.equal(deleted.status, 0, deleted.stderr);

  const records = (await readTopicToEnd({ client, topic: topicName('policies', prefix) })).filter((r) => r.key?.toString() === name);
  assert.deepEqual(records.map((r) => r.value === null), [false, true], 'the policy, then its tombstone');
  const ring = readKeyRing(keys);
  const verdicts = records.map((r) => verifyPolicyRecord({ key: name, value: r.value, headers: r.headers }, ring));
  for (const verdict of verdicts) assert.equal(verdict.ok, true, verdict.ok ? "" : `${verdict.reason}: ${verdict.detail}`);
  const [policy, tombstone] = verdicts;
  assert.ok(policy?.ok && tombstone?.ok && tombstone.signedAtNs > policy.signedAtNs, 'the tombstone is signed after the policy');
  // A key this directory does not trust does not verify: the check above can fail.
  assert.equal(verifyPolicyRecord({ key: name, value: records[0]!.value, headers: records[0]!.headers }, readKeyRing(keysDir('rotation'))).ok, false);
});
