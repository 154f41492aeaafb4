/**
 * End to end through the real parts: a TracingPolicy created in a real API server, published and signed by the real
 * policy-controller, verified and applied by the real node agent (eBPF, root), whose report on
 * stinger.policies.status shows in the custom resource's status (Applied True, the node's state and rule counts).
 * The rule audits one binary path unique to this test, so it changes nothing else on the machine.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { bootstrapTopics } from '@stinger/kafka';
import type { TracingPolicyStatus } from '@stinger/policy-control';
import { buildBpf, startAgent, type RunningAgent } from '../helpers/agent.ts';
import { startTestCluster, type TestCluster } from '../helpers/dev-cluster.ts';
import { testBrokers, testClient, uniqueName } from '../helpers/kafka.ts';
import { installPolicyCrds, kubeGet } from '../helpers/policy-crds.ts';
import { startPolicyController, type RunningPolicyController } from '../helpers/policy-controller.ts';

const TP = '/apis/stinger.io/v1alpha1/tracingpolicies';
const tag = randomBytes(4).toString('hex');
const nodeName = `status-node-${tag}`;
const name = `audit-status-${tag}`;

describe('a node agent’s report in the custom resource status', { timeout: 240_000 }, () => {
  let kube: TestCluster;
  let agent: RunningAgent | undefined;
  let controller: RunningPolicyController | undefined;

  before(async () => {
    buildBpf();
    kube = await startTestCluster();
    await installPolicyCrds(kube);
    const prefix = `${uniqueName('agent-status')}.`;
    await bootstrapTopics({ client: testClient('agent-status-test'), prefix });
    agent = await startAgent({ brokers: testBrokers(), topicPrefix: prefix, nodeName });
    controller = await startPolicyController({ brokers: testBrokers(), topicPrefix: prefix, kubeconfigPath: kube.kubeconfigPath });
  });

  after(async () => {
    await controller?.stop();
    const code = await agent?.stop();
    await kube?.stop();
    assert.equal(code, 0, 'the agent shuts down cleanly');
  });

  async function statusUntil(done: (status: TracingPolicyStatus) => boolean): Promise<TracingPolicyStatus> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const object = await kubeGet<{ status?: TracingPolicyStatus }>(kube, `${TP}/${name}`);
      if (object?.status && done(object.status)) return object.status;
      if (Date.now() > deadline) throw new Error(`status: ${JSON.stringify(object?.status)}\nagent:\n${agent?.log.slice(-10).join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  test('created → published → applied by the agent → Applied True with the node in the status', async () => {
    await kube.create(TP, {
      apiVersion: 'stinger.io/v1alpha1',
      kind: 'TracingPolicy',
      metadata: { name },
      spec: { rules: [{ name: 'audit-tool', event: 'exec', match: { binary: { equal: [`/usr/local/bin/stinger-status-${tag}`] } }, action: 'audit' }] },
    });
    const status = await statusUntil((s) => s.nodeStatuses.some((n) => n.node === nodeName));
    const mine = status.nodeStatuses.find((n) => n.node === nodeName);
    assert.equal(mine?.state, 'applied', JSON.stringify(mine));
    assert.equal(mine?.generation, 1);
    assert.equal(mine?.kernelRules, 1);
    assert.equal(status.nodes.applied, 1);
    assert.equal(status.conditions.find((c) => c.type === 'Applied')?.status, 'True');
  });
});
