/**
 * End to end through the real parts: a TracingPolicy created in a real API server, published and signed by the real
 * policy-controller, verified and applied by the real node agent (eBPF, root), whose report on
 * stinger.policies.status shows in the custom resource's status (Applied True, the node's state and rule counts).
 * Then a custom resource with a kill rule takes effect in the kernel without restarting anything; switched to
 * monitor it stops killing but the detector still alerts; deleted, its kernel rule is gone.
 * The rules name paths unique to this test, so they change nothing else on the machine.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeAlert, decodeEnforcement, decodeRawEvent } from '@stinger/events';
import { bootstrapTopics, topicName } from '@stinger/kafka';
import type { TracingPolicyStatus } from '@stinger/policy-control';
import { buildBpf, startAgent, type RunningAgent } from '../helpers/agent.ts';
import { startTestCluster, type TestCluster } from '../helpers/dev-cluster.ts';
import { policyStatusOf, runChild } from '../helpers/agent-events.ts';
import { collectTopic, testBrokers, testClient, uniqueName, type Collector } from '../helpers/kafka.ts';
import { startPipeline, type Pipeline } from '../helpers/pipeline.ts';
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
  let pipeline: Pipeline | undefined;
  const collectors: Collector[] = [];
  let raw: Collector;
  let alerts: Collector;
  let enforcements: Collector;
  let statuses: Collector;
  const dir = mkdtempSync(join(tmpdir(), 'stinger-cr-kill-'));

  before(async () => {
    buildBpf();
    kube = await startTestCluster();
    await installPolicyCrds(kube);
    const prefix = `${uniqueName('agent-status')}.`;
    const client = testClient('agent-status-test');
    await bootstrapTopics({ client, prefix });
    raw = await collectTopic(client, topicName('eventsRaw', prefix));
    alerts = await collectTopic(client, topicName('alerts', prefix));
    enforcements = await collectTopic(client, topicName('enforcements', prefix));
    statuses = await collectTopic(client, topicName('policyStatus', prefix));
    collectors.push(raw, alerts, enforcements, statuses);
    agent = await startAgent({ brokers: testBrokers(), topicPrefix: prefix, nodeName });
    controller = await startPolicyController({ brokers: testBrokers(), topicPrefix: prefix, kubeconfigPath: kube.kubeconfigPath });
    pipeline = await startPipeline({ brokers: testBrokers(), topicPrefix: prefix });
  });

  after(async () => {
    await pipeline?.stop();
    await controller?.stop();
    const code = await agent?.stop();
    for (const collector of collectors) await collector.stop();
    await kube?.stop();
    rmSync(dir, { recursive: true, force: true });
    assert.equal(code, 0, 'the agent shuts down cleanly');
  });

  async function statusUntil(done: (status: TracingPolicyStatus) => boolean, policy = name): Promise<TracingPolicyStatus> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const object = await kubeGet<{ status?: TracingPolicyStatus }>(kube, `${TP}/${policy}`);
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

  test('a kill rule as a custom resource acts in the kernel at once; switched to monitor it alerts without killing; deleted, it is gone', async () => {
    const secret = join(dir, 'secret');
    writeFileSync(secret, 'secret\n');
    const killer = `kill-secret-${tag}`;
    const appliedAt = async (generation: number) => {
      const status = await statusUntil((s) => s.nodeStatuses.some((n) => n.node === nodeName && n.generation === generation), killer);
      assert.equal(status.nodeStatuses.find((n) => n.node === nodeName)?.state, 'applied');
    };
    await kube.create(TP, {
      apiVersion: 'stinger.io/v1alpha1',
      kind: 'TracingPolicy',
      metadata: { name: killer },
      spec: { mode: 'enforce', rules: [{ name: 'no-secret', event: 'file', match: { path: { equal: [secret] }, op: ['open'] }, action: 'kill-in-kernel' }] },
    });
    await appliedAt(1);
    const killed = await runChild('cat', [secret]);
    assert.equal(killed.signal, 'SIGKILL', 'killed in the kernel, no restart of anything');
    assert.equal(killed.stdout, '');

    await kube.mergePatch(`${TP}/${killer}`, { spec: { mode: 'monitor' } });
    await appliedAt(2);
    const read = await runChild('cat', [secret]);
    assert.deepEqual([read.code, read.stdout], [0, 'secret\n'], 'monitor: not killed');
    const deadline = Date.now() + 30_000;
    let outcome: string | undefined;
    while (outcome === undefined && Date.now() < deadline) {
      const alert = alerts.records.map((r) => decodeAlert(r.value ?? Buffer.alloc(0))).find((a) => a.event.process.pid === read.pid && a.policy === killer);
      if (alert) {
        assert.equal(alert.mode, 'monitor');
        outcome = enforcements.records.map((r) => decodeEnforcement(r.value ?? Buffer.alloc(0))).find((e) => e.alert_id === alert.id)?.outcome;
      }
      if (outcome === undefined) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.equal(outcome, 'monitor_only', 'the monitored read is alerted, and nothing acts on it');

    await kube.remove(`${TP}/${killer}`);
    await policyStatusOf(statuses, { node: nodeName, key: killer }, { accept: (status) => status === null });
    const after = await runChild('cat', [secret]);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    assert.equal(after.code, 0);
    assert.equal(raw.records.map((r) => decodeRawEvent(r.value ?? Buffer.alloc(0))).filter((e) => e.kind === 'file' && e.process.pid === after.pid).length, 0, 'deleted: the kernel no longer watches the path');
  });
});
