import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeCompiledPolicy, type PolicyStatus } from '@stinger/events';
import { createLogger } from '@stinger/log';
import { generateSigningKey, signedPolicyRecord, verifyPolicyRecord, type KeyRing } from '@stinger/trust';
import { policiesInForce } from './policies-in-force.ts';
import { PolicyController, type PolicyRecordToSend } from './policy-controller.ts';
import type { TracingPolicyStatus } from './policy-status.ts';
import { judgePolicyObject, type PolicyObject } from './reconcile.ts';

const logger = createLogger({ name: 'policy-controller-test', level: 'silent' });
const key = generateSigningKey();
const ring: KeyRing = new Map([[key.keyId, key.publicKey]]);

function policy(name: string, options: { generation?: number; uid?: string; mode?: string; path?: string } = {}): PolicyObject {
  return {
    apiVersion: 'stinger.io/v1alpha1',
    kind: 'TracingPolicy',
    metadata: { name, uid: options.uid ?? `uid-${name}`, generation: options.generation ?? 1 },
    spec: { mode: options.mode ?? 'enforce', rules: [{ name: 'r', event: 'file', match: { path: { equal: [options.path ?? `/etc/${name}`] } }, action: 'audit' }] },
  };
}

interface Harness {
  readonly controller: PolicyController;
  readonly published: PolicyRecordToSend[];
  readonly statuses: Array<{ name: string; status: TracingPolicyStatus }>;
  /** While true, publishing fails as with a broker away. */
  readonly broker: { away: boolean };
}

function harness(initial: PolicyRecordToSend[] = [], clockNs = 1_000n): Harness {
  const published: PolicyRecordToSend[] = [];
  const statuses: Harness['statuses'] = [];
  const broker = { away: false };
  const controller = new PolicyController({
    logger,
    initial: policiesInForce(initial, ring),
    publish: async (records) => {
      if (broker.away) throw new Error('broker away');
      published.push(...records);
    },
    writeStatus: async (object, status) => void statuses.push({ name: object.metadata.name, status }),
    signingKey: () => key,
    clock: () => clockNs,
    statusDelayMs: 1,
    retryDelayMs: 5,
  });
  return { controller, published, statuses, broker };
}

const lastStatus = (h: Harness, name: string) => h.statuses.filter((s) => s.name === name).at(-1)?.status;
const condition = (status: TracingPolicyStatus | undefined, type: string) => status?.conditions.find((c) => c.type === type);

test('a new object: one signed record at metadata.generation, status Accepted; the same object again publishes nothing', async () => {
  const h = harness();
  h.controller.upsert(policy('a', { generation: 3 }));
  await h.controller.settled();
  assert.equal(h.published.length, 1);
  const [record] = h.published;
  assert.equal(record?.key, 'a');
  assert.equal(verifyPolicyRecord({ key: 'a', value: record!.value, headers: record!.headers }, ring).ok, true);
  assert.equal(decodeCompiledPolicy(record!.value!).generation, 3n);
  assert.equal(condition(lastStatus(h, 'a'), 'Accepted')?.status, 'True');
  assert.equal(lastStatus(h, 'a')?.publishedGeneration, 3);

  // The informer's echo of the status write: nothing to publish, nothing to write.
  h.controller.upsert({ ...policy('a', { generation: 3 }), status: JSON.parse(JSON.stringify(lastStatus(h, 'a'))) });
  await h.controller.settled();
  assert.equal(h.published.length, 1);
  assert.equal(h.statuses.length, 1);
});

test('signed-at is strictly increasing and later than every record in force at start, even with a stopped clock', async () => {
  const compiled = judgePolicyObject(policy('old'), undefined);
  assert.ok(compiled.kind === 'valid');
  const h = harness([signedPolicyRecord('old', compiled.result.compiled, { key, signedAtNs: 5_000n })], 1_000n);
  h.controller.upsert(policy('old', { mode: 'monitor', generation: 2 }));
  h.controller.upsert(policy('old', { mode: 'enforce', generation: 3 }));
  await h.controller.settled();
  const signedAt = h.published.map((r) => BigInt(r.headers['stinger-signed-at']!.toString()));
  assert.deepEqual(signedAt, [5_001n, 5_002n]);
});

test('an invalid edit publishes nothing and the previous version stays in force; a delete publishes a signed tombstone', async () => {
  const h = harness();
  h.controller.upsert(policy('b'));
  h.controller.upsert(policy('b', { generation: 2, path: 'relative/path' }));
  await h.controller.settled();
  assert.equal(h.published.length, 1, 'only generation 1');
  const status = lastStatus(h, 'b');
  assert.equal(condition(status, 'Accepted')?.status, 'False');
  assert.ok(status?.errors.some((e) => e.field.startsWith('spec.rules[0].match.path')), JSON.stringify(status?.errors));
  assert.equal(status?.observedGeneration, 2);
  assert.equal(status?.publishedGeneration, 1);
  assert.equal(h.controller.inForceGeneration('b'), 1n);

  h.controller.remove(policy('b', { generation: 2 }));
  await h.controller.settled();
  const tombstone = h.published.at(-1);
  assert.equal(tombstone?.value, null);
  assert.equal(verifyPolicyRecord({ key: 'b', value: null, headers: tombstone!.headers }, ring).ok, true);
  assert.equal(h.controller.inForceGeneration('b'), null);
});

test('listed: keys in force without a custom resource get tombstones, the others stay', async () => {
  const kept = judgePolicyObject(policy('kept'), undefined);
  const gone = judgePolicyObject(policy('gone'), undefined);
  assert.ok(kept.kind === 'valid' && gone.kind === 'valid');
  const h = harness([
    signedPolicyRecord('kept', kept.result.compiled, { key, signedAtNs: 1n }),
    signedPolicyRecord('gone', gone.result.compiled, { key, signedAtNs: 2n }),
  ]);
  h.controller.upsert(policy('kept'));
  h.controller.listed([policy('kept')]);
  await h.controller.settled();
  assert.deepEqual(h.published.map((r) => [r.key, r.value]), [['gone', null]], 'kept was unchanged, gone was tombstoned');
});

test('a failed publication is shown and retried with the latest object', async () => {
  const h = harness();
  h.broker.away = true;
  h.controller.upsert(policy('c'));
  await h.controller.settled();
  assert.equal(condition(lastStatus(h, 'c'), 'Applied')?.reason, 'PublishFailed');
  h.broker.away = false;
  await new Promise((resolve) => setTimeout(resolve, 20));
  await h.controller.settled();
  assert.equal(h.published.length, 1);
  assert.equal(condition(lastStatus(h, 'c'), 'Applied')?.reason, 'NoReports');
});

test('agent reports update the status: Applied True when every reporting node applied the generation in force', async () => {
  const h = harness();
  h.controller.upsert(policy('d'));
  await h.controller.settled();
  const report: PolicyStatus = { policy: 'd', generation: 1n, node: 'n1', agent_id: 'x', state: 'applied', kernel_rules: 1, pipeline_rules: 0, messages: [], reported_at_ns: 1n };
  h.controller.nodeReport('n1/d', report);
  await new Promise((resolve) => setTimeout(resolve, 10));
  await h.controller.settled();
  const status = lastStatus(h, 'd');
  assert.equal(condition(status, 'Applied')?.status, 'True');
  assert.deepEqual(status?.nodes, { applied: 1, partial: 0, rejected: 0, pending: 0 });
  await h.controller.stop();
});
