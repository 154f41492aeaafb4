/**
 * `stinger policy apply | list | delete` in a cluster (KUBECONFIG names a real kube-apiserver with the CRDs, the real
 * policy-controller running): apply creates and updates TracingPolicy custom resources (the controller publishes
 * them, signed), an object the API server refuses is reported by field and nothing of the run is applied, list shows
 * each policy with the status the controller wrote, and delete removes the custom resources.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeCompiledPolicy, encodePolicyStatus } from '@stinger/events';
import { bootstrapTopics, createProducer, topicName, type KafkaClient } from '@stinger/kafka';
import { readKeyRing, verifyPolicyRecord } from '@stinger/trust';
import { runStinger } from '../helpers/cli.ts';
import { startTestCluster, type TestCluster } from '../helpers/dev-cluster.ts';
import { collectTopic, testBrokers, testClient, uniqueName, type Collector } from '../helpers/kafka.ts';
import { testKeysDir } from '../helpers/keys.ts';
import { installPolicyCrds, kubeGet } from '../helpers/policy-crds.ts';
import { startPolicyController, type RunningPolicyController } from '../helpers/policy-controller.ts';
import { scratchDir } from '../helpers/scratch.ts';

const TP = '/apis/stinger.io/v1alpha1/tracingpolicies';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function policyYaml(name: string, binaries: readonly string[], extraMetadata = ''): string {
  return [
    'apiVersion: stinger.io/v1alpha1',
    'kind: TracingPolicy',
    `metadata: { name: ${name}${extraMetadata} }`,
    'spec:',
    '  rules:',
    `    - { name: no-tool, event: exec, match: { binary: { equal: [${binaries.join(', ')}] } }, action: kill-in-kernel }`,
    '',
  ].join('\n');
}

describe('stinger policy against a real API server', { timeout: 240_000 }, () => {
  let kube: TestCluster;
  let client: KafkaClient;
  let prefix: string;
  let policies: Collector;
  let controller: RunningPolicyController | undefined;
  const dir = scratchDir('stinger-policy-cluster-');
  const stinger = (args: readonly string[]) => runStinger(args, { KAFKA_BROKERS: testBrokers(), STINGER_TOPIC_PREFIX: prefix, KUBECONFIG: kube.kubeconfigPath });
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  before(async () => {
    kube = await startTestCluster();
    await installPolicyCrds(kube);
    prefix = `${uniqueName('cli-cluster')}.`;
    client = testClient('cli-cluster-test');
    await bootstrapTopics({ client, prefix, topics: ['policies', 'policyStatus'] });
    policies = await collectTopic(client, topicName('policies', prefix));
    controller = await startPolicyController({ brokers: testBrokers(), topicPrefix: prefix, kubeconfigPath: kube.kubeconfigPath });
  });

  after(async () => {
    await controller?.stop();
    await policies?.stop();
    await kube?.stop();
  });

  async function publishedGenerations(key: string, count: number): Promise<bigint[]> {
    const deadline = Date.now() + 20_000;
    const ring = readKeyRing(testKeysDir());
    for (;;) {
      const mine = policies.records.filter((r) => r.key?.toString() === key);
      if (mine.length >= count) {
        for (const r of mine) assert.ok(verifyPolicyRecord({ key, value: r.value, headers: r.headers }, ring).ok, 'signed by the controller');
        return mine.map((r) => (r.value ? decodeCompiledPolicy(r.value).generation : -1n));
      }
      if (Date.now() > deadline) throw new Error(`${mine.length} of ${count} records of ${key}`);
      await sleep(100);
    }
  }

  test('apply creates a TracingPolicy, the controller publishes it; the same file again is unchanged; an edit updates it', async () => {
    const created = stinger(['policy', 'apply', file('tool.yaml', policyYaml('cli-tool', ['/usr/bin/cli-tool']))]);
    assert.equal(created.status, 0, created.stderr);
    assert.match(created.stdout, /^cli-tool: created \(TracingPolicy, generation 1, 1 kernel rules, 0 pipeline rules, 1 file identity rules\)$/m);
    assert.ok(await kubeGet(kube, `${TP}/cli-tool`), 'the custom resource exists');
    assert.deepEqual(await publishedGenerations('cli-tool', 1), [1n]);

    const again = stinger(['policy', 'apply', join(dir, 'tool.yaml')]);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /^cli-tool: unchanged \(TracingPolicy, generation 1\)$/m);

    const updated = stinger(['policy', 'apply', file('tool.yaml', policyYaml('cli-tool', ['/usr/bin/cli-tool', '/usr/bin/cli-tool2']))]);
    assert.equal(updated.status, 0, updated.stderr);
    assert.match(updated.stdout, /^cli-tool: updated \(TracingPolicy, generation 2/m);
    assert.deepEqual(await publishedGenerations('cli-tool', 2), [1n, 2n]);
  });

  test('an object the API server refuses is named by field, and nothing of the run is applied', async () => {
    const path = file('two.yaml', `${policyYaml('cli-fine', ['/usr/bin/fine'])}---\n${policyYaml('cli-bad-label', ['/usr/bin/bad'], ', labels: { team: "not valid!" }')}`);
    const result = stinger(['policy', 'apply', path]);
    assert.equal(result.status, 1, result.stdout);
    assert.match(result.stderr, new RegExp(`^${path}: cli-bad-label: metadata\\.labels: Invalid value: "not valid!"`, 'm'));
    assert.match(result.stderr, /the API server refused 1 field\(s\); nothing was applied/);
    assert.equal(await kubeGet(kube, `${TP}/cli-fine`), null, 'the valid policy of the same run was not applied either');
  });

  test('list shows each policy with the status the controller wrote, agents included', async () => {
    const producer = createProducer({ client });
    await producer.connect();
    await producer.send(topicName('policyStatus', prefix), [
      {
        key: 'node-1/cli-tool',
        value: encodePolicyStatus({ policy: 'cli-tool', generation: 2n, node: 'node-1', agent_id: 'a', state: 'partial', kernel_rules: 1, pipeline_rules: 0, messages: ['one path not loaded'], reported_at_ns: 1n }),
      },
    ]);
    await producer.disconnect();
    const deadline = Date.now() + 20_000;
    let listed = stinger(['policy', 'list']);
    while (!listed.stdout.includes('node-1: partial') && Date.now() < deadline) {
      await sleep(200);
      listed = stinger(['policy', 'list']);
    }
    assert.equal(listed.status, 0, listed.stderr);
    assert.match(listed.stdout, /^cli-tool {2}TracingPolicy {2}mode=enforce {2}generation=2 {2}rules=1$/m);
    assert.match(listed.stdout, /^ {2}in force: generation 2, 2 kernel rules, 0 pipeline rules$/m, "one kernel rule per binary");
    assert.match(listed.stdout, /^ {2}node-1: partial, 1 kernel rules, 0 pipeline rules\n {4}one path not loaded$/m);
  });

  test('delete removes the custom resource; the controller tombstones it; a missing name deletes nothing', async () => {
    const missing = stinger(['policy', 'delete', 'cli-tool', 'no-such-policy']);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /no such policy: no-such-policy/);
    assert.ok(await kubeGet(kube, `${TP}/cli-tool`), 'nothing was deleted');

    const deleted = stinger(['policy', 'delete', 'cli-tool']);
    assert.equal(deleted.status, 0, deleted.stderr);
    assert.match(deleted.stdout, /^cli-tool: deleted \(TracingPolicy\)$/m);
    assert.equal(await kubeGet(kube, `${TP}/cli-tool`), null);
    assert.equal((await publishedGenerations('cli-tool', 3)).at(-1), -1n, 'a tombstone');
    assert.match(stinger(['policy', 'list']).stdout, /^no policies$/m);
  });
});
