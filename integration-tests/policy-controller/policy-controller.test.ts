/**
 * The policy-controller service against a real kube-apiserver (the generated CRDs installed) and the shared broker:
 * custom resources become signed records on stinger.policies, edits publish new generations, invalid objects publish
 * nothing and say why in their status, deletes publish signed tombstones, records without a custom resource are
 * tombstoned when the controller starts, and agents' reports on stinger.policies.status show in the status.
 *
 * Every record is checked against the trusted keys of the test's keys directory, as agents check them.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeCompiledPolicy, encodePolicyStatus, type CompiledPolicy, type PolicyStatus } from '@stinger/events';
import { bootstrapTopics, createProducer, topicName, type KafkaClient } from '@stinger/kafka';
import type { TracingPolicyStatus } from '@stinger/policy-control';
import { readKeyRing, signedPolicyRecord, verifyPolicyRecord } from '@stinger/trust';
import { startTestCluster, type TestCluster } from '../helpers/dev-cluster.ts';
import { collectTopic, testBrokers, testClient, uniqueName, type Collector } from '../helpers/kafka.ts';
import { testKeysDir, testSigningKey } from '../helpers/keys.ts';
import { installPolicyCrds, kubeGet } from '../helpers/policy-crds.ts';
import { startPolicyController, type RunningPolicyController } from '../helpers/policy-controller.ts';

const TP = '/apis/stinger.io/v1alpha1/tracingpolicies';
const TPN = (namespace: string) => `/apis/stinger.io/v1alpha1/namespaces/${namespace}/tracingpoliciesnamespaced`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface StoredPolicy {
  readonly metadata: { readonly name: string; readonly uid: string; readonly generation: number };
  readonly status?: TracingPolicyStatus;
}

function rule(overrides: Record<string, unknown> = {}) {
  return { name: 'no-tool', event: 'exec', match: { binary: { equal: ['/usr/bin/forbidden-tool'] } }, action: 'kill-in-kernel', ...overrides };
}

function tracingPolicy(name: string, spec: Record<string, unknown>) {
  return { apiVersion: 'stinger.io/v1alpha1', kind: 'TracingPolicy', metadata: { name }, spec };
}

describe('the policy-controller against a real API server and broker', { timeout: 300_000 }, () => {
  let kube: TestCluster;
  let client: KafkaClient;
  let prefix: string;
  let policies: Collector;
  let controller: RunningPolicyController | undefined;

  const start = async () => {
    controller = await startPolicyController({ brokers: testBrokers(), topicPrefix: prefix, kubeconfigPath: kube.kubeconfigPath });
  };

  before(async () => {
    kube = await startTestCluster();
    await installPolicyCrds(kube);
    prefix = `${uniqueName('policy-controller')}.`;
    client = testClient('policy-controller-test');
    await bootstrapTopics({ client, prefix, topics: ['policies', 'policyStatus'] });
    policies = await collectTopic(client, topicName('policies', prefix));
    await start();
  });

  after(async () => {
    const code = await controller?.stop();
    await policies?.stop();
    await kube?.stop();
    assert.equal(code, 0, `clean shutdown:\n${controller?.log.slice(-5).join('\n')}`);
  });

  /** The records of `key` so far, each verified against the test's trusted keys (a failure fails the test). */
  function recordsOf(key: string): Array<CompiledPolicy | null> {
    const ring = readKeyRing(testKeysDir());
    return policies.records
      .filter((r) => r.key?.toString() === key)
      .map((r) => {
        const verdict = verifyPolicyRecord({ key, value: r.value, headers: r.headers }, ring);
        assert.ok(verdict.ok, `record of ${key} at offset ${r.offset}: ${verdict.ok ? '' : `${verdict.reason}: ${verdict.detail}`}`);
        return r.value === null ? null : decodeCompiledPolicy(r.value);
      });
  }

  async function recordsUntil(key: string, done: (records: Array<CompiledPolicy | null>) => boolean, timeoutMs = 20_000): Promise<Array<CompiledPolicy | null>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const records = recordsOf(key);
      if (done(records)) return records;
      if (Date.now() > deadline) throw new Error(`records of ${key} after ${timeoutMs} ms: ${records.map((r) => (r ? `generation ${r.generation} ${r.mode}` : 'tombstone')).join(', ')}`);
      await sleep(100);
    }
  }

  /** The object at `path` once its status satisfies `done`. */
  async function statusUntil(path: string, done: (status: TracingPolicyStatus) => boolean, timeoutMs = 20_000): Promise<StoredPolicy & { status: TracingPolicyStatus }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const object = await kubeGet<StoredPolicy>(kube, path);
      if (object?.status && done(object.status)) return object as StoredPolicy & { status: TracingPolicyStatus };
      if (Date.now() > deadline) throw new Error(`status of ${path} after ${timeoutMs} ms: ${JSON.stringify(object?.status)}\n${controller?.log.slice(-10).join('\n')}`);
      await sleep(100);
    }
  }

  const condition = (status: TracingPolicyStatus, type: string) => status.conditions.find((c) => c.type === type);

  test('a created TracingPolicy: one signed record at its generation, with its uid; status Accepted with the rule counts', async () => {
    const created = await kube.create(TP, tracingPolicy('deny-tool', { rules: [rule()] }));
    const [record] = await recordsUntil('deny-tool', (r) => r.length >= 1);
    assert.equal(record?.generation, 1n);
    assert.equal(record?.uid, created.metadata.uid);
    assert.equal(record?.mode, 'enforce');
    const { status } = await statusUntil(`${TP}/deny-tool`, (s) => s.observedGeneration === 1 && s.publishedGeneration === 1);
    assert.equal(condition(status, 'Accepted')?.status, 'True');
    assert.deepEqual(status.rules, { total: 1, kernel: 1, pipeline: 0 });
    assert.equal(condition(status, 'Applied')?.reason, 'NoReports');
  });

  test('editing the spec publishes the new generation; monitor ↔ enforce publishes too; a status-only change publishes nothing', async () => {
    await kube.mergePatch(`${TP}/deny-tool`, { spec: { rules: [rule({ match: { binary: { equal: ['/usr/bin/forbidden-tool', '/usr/bin/other-tool'] } } })] } });
    const edited = await recordsUntil('deny-tool', (r) => r.length >= 2);
    assert.equal(edited[1]?.generation, 2n);
    assert.deepEqual(edited[1]?.rules[0]?.match[0]?.values, ['/usr/bin/forbidden-tool', '/usr/bin/other-tool']);

    await kube.mergePatch(`${TP}/deny-tool`, { spec: { mode: 'monitor' } });
    const monitor = await recordsUntil('deny-tool', (r) => r.length >= 3);
    assert.deepEqual([monitor[2]?.generation, monitor[2]?.mode], [3n, 'monitor']);
    await kube.mergePatch(`${TP}/deny-tool`, { spec: { mode: 'enforce' } });
    const enforce = await recordsUntil('deny-tool', (r) => r.length >= 4);
    assert.deepEqual([enforce[3]?.generation, enforce[3]?.mode], [4n, 'enforce']);
    await statusUntil(`${TP}/deny-tool`, (s) => s.observedGeneration === 4 && s.publishedGeneration === 4);

    // A label (metadata only, same generation) changes nothing on the topic.
    const labelled = await kube.mergePatch(`${TP}/deny-tool`, { metadata: { labels: { team: 'security' } } });
    await sleep(1500);
    assert.equal(recordsOf('deny-tool').length, 4);
    // Nor does the controller keep rewriting the status (its own write's update event ends there).
    const settled = await kubeGet<StoredPolicy & { metadata: { resourceVersion: string } }>(kube, `${TP}/deny-tool`);
    await sleep(1000);
    const later = await kubeGet<StoredPolicy & { metadata: { resourceVersion: string } }>(kube, `${TP}/deny-tool`);
    assert.equal(later?.metadata.resourceVersion, settled?.metadata.resourceVersion, `no status writes while nothing changes (labelled at ${labelled.metadata.resourceVersion})`);
  });

  test('an invalid TracingPolicy: Accepted False naming each field, and nothing published', async () => {
    await kube.create(
      TP,
      tracingPolicy('broken', {
        rules: [
          { name: 'relative', event: 'file', match: { path: { prefix: ['etc/shadow'] } }, action: 'audit' },
          // daddr is a match field, but not one an exec event has.
          { name: 'wrong-field', event: 'exec', match: { daddr: ['10.0.0.0/8'] }, action: 'audit' },
        ],
      }),
    );
    const { status } = await statusUntil(`${TP}/broken`, (s) => s.observedGeneration === 1);
    const accepted = condition(status, 'Accepted');
    assert.equal(accepted?.status, 'False');
    assert.equal(accepted?.reason, 'Invalid');
    const fields = status.errors.map((e) => e.field);
    assert.ok(fields.some((f) => f.startsWith('spec.rules[0].match.path')), fields.join(', '));
    assert.ok(fields.includes('spec.rules[1].match.daddr'), fields.join(', '));
    assert.match(accepted?.message ?? '', /nothing is in force/);
    assert.equal(status.publishedGeneration, undefined);
    assert.equal(recordsOf('broken').length, 0, 'nothing was published');
  });

  test('an invalid edit of a valid policy publishes nothing: the previous generation stays in force', async () => {
    const before = recordsOf('deny-tool').length;
    await kube.mergePatch(`${TP}/deny-tool`, { spec: { rules: [rule({ match: { binary: { prefix: ['relative/'] } } })] } });
    const { status } = await statusUntil(`${TP}/deny-tool`, (s) => s.observedGeneration === 5);
    assert.equal(condition(status, 'Accepted')?.status, 'False');
    assert.ok(status.errors.some((e) => e.field.startsWith('spec.rules[0].match.binary')), JSON.stringify(status.errors));
    assert.equal(status.publishedGeneration, 4);
    assert.match(condition(status, 'Accepted')?.message ?? '', /generation 4 stays in force/);
    assert.equal(recordsOf('deny-tool').length, before);
    // Fixing it publishes again.
    await kube.mergePatch(`${TP}/deny-tool`, { spec: { rules: [rule()] } });
    const fixed = await recordsUntil('deny-tool', (r) => r.length > before);
    assert.equal(fixed.at(-1)?.generation, 6n);
  });

  test("agents' reports show in the status: per-node state and messages, counts, Applied", async () => {
    const key = 'deny-tool';
    const producer = createProducer({ client });
    await producer.connect();
    const report = (node: string, state: PolicyStatus['state'], messages: string[]): PolicyStatus => ({
      policy: key,
      generation: 6n,
      node,
      agent_id: `agent-${node}`,
      state,
      kernel_rules: state === 'applied' ? 1 : 0,
      pipeline_rules: 0,
      messages,
      reported_at_ns: BigInt(Date.now()) * 1_000_000n,
    });
    try {
      await producer.send(topicName('policyStatus', prefix), [{ key: `node-a/${key}`, value: encodePolicyStatus(report('node-a', 'applied', [])) }]);
      const applied = await statusUntil(`${TP}/${key}`, (s) => s.nodes.applied === 1);
      assert.equal(condition(applied.status, 'Applied')?.status, 'True');
      assert.deepEqual(applied.status.nodeStatuses.map((n) => [n.node, n.state, n.generation]), [['node-a', 'applied', 6]]);

      await producer.send(topicName('policyStatus', prefix), [{ key: `node-b/${key}`, value: encodePolicyStatus(report('node-b', 'partial', ['exec map full: 1 rule not loaded'])) }]);
      const partial = await statusUntil(`${TP}/${key}`, (s) => s.nodes.partial === 1);
      assert.deepEqual(partial.status.nodes, { applied: 1, partial: 1, rejected: 0, pending: 0 });
      assert.equal(condition(partial.status, 'Applied')?.reason, 'Partial');
      assert.deepEqual(partial.status.nodeStatuses.find((n) => n.node === 'node-b')?.messages, ['exec map full: 1 rule not loaded']);

      await producer.send(topicName('policyStatus', prefix), [{ key: `node-b/${key}`, value: null }]);
      await statusUntil(`${TP}/${key}`, (s) => s.nodes.partial === 0 && s.nodeStatuses.length === 1);
    } finally {
      await producer.disconnect();
    }
  });

  test('a TracingPolicyNamespaced is published under namespace/name', async () => {
    await kube.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } });
    await kube.create(TPN('shop'), { ...tracingPolicy('shop-tool', { rules: [rule({ action: 'audit' })] }), kind: 'TracingPolicyNamespaced' });
    const [record] = await recordsUntil('shop/shop-tool', (r) => r.length >= 1);
    assert.equal(record?.namespace, 'shop');
    await statusUntil(`${TPN('shop')}/shop-tool`, (s) => condition(s, 'Accepted')?.status === 'True');
  });

  test('deleting a custom resource publishes a signed tombstone', async () => {
    await kube.remove(`${TP}/deny-tool`);
    const records = await recordsUntil('deny-tool', (r) => r.at(-1) === null);
    assert.equal(records.at(-1), null);
  });

  test('at start, records whose custom resource is gone are tombstoned; the others are left alone', async () => {
    await kube.create(TP, tracingPolicy('deleted-while-down', { rules: [rule({ action: 'audit' })] }));
    await recordsUntil('deleted-while-down', (r) => r.length === 1);
    assert.equal(await controller?.stop(), 0);
    controller = undefined;

    await kube.remove(`${TP}/deleted-while-down`);
    // A record written around the API server (as `stinger policy apply` does without a cluster).
    const producer = createProducer({ client });
    await producer.connect();
    const stray = recordsOf('shop/shop-tool')[0]!;
    await producer.send(topicName('policies', prefix), [signedPolicyRecord('stray', { ...stray, name: 'stray', namespace: null }, { key: testSigningKey(), signedAtNs: BigInt(Date.now()) * 1_000_000n })]);
    await producer.disconnect();
    const shopRecords = recordsOf('shop/shop-tool').length;

    await start();
    await recordsUntil('deleted-while-down', (r) => r.at(-1) === null);
    await recordsUntil('stray', (r) => r.at(-1) === null);
    await sleep(1000);
    assert.equal(recordsOf('shop/shop-tool').length, shopRecords, 'an unchanged policy is not published again');
  });
});
