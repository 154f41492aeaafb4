/**
 * Kill-in-kernel rules scoped by pod label, decided in the kernel: the agent watches its node's pods in a real
 * kube-apiserver (hand-made Pod objects bound to the test's node name) and finds their cgroups (hand-made, as kubelet's
 * systemd driver and containerd lay them out, under the real cgroup2 mount). A TracingPolicy whose podSelector names
 * one pod's label kills, in the kernel, a `cat` of the denied file run in that pod's container (SIGKILL before a byte
 * is printed; the kill record carries the rule as its action), while the same `cat` in another pod of the node and on
 * the host reads the file. Relabelling moves the kill: the other pod's `cat` dies once it carries the label, the
 * first pod's reads once it no longer does; a labelled pod created afterwards has its first process killed. No detector or enforcer runs here, so a kill can only be the kernel's;
 * the agent's status counts the rule a kernel rule and says it is pod-scoped.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootstrapTopics, topicName, type KafkaClient } from '@stinger/kafka';
import { buildBpf, startAgent, type RunningAgent } from '../helpers/agent.ts';
import { eventsMatching, policyStatusOf, runChild, type ChildResult } from '../helpers/agent-events.ts';
import { runStinger } from '../helpers/cli.ts';
import { podObject, randomContainerId, startTestCluster, type TestCluster } from '../helpers/dev-cluster.ts';
import { collectTopic, testBrokers, testClient, uniqueName, type Collector } from '../helpers/kafka.ts';
import { podCgroups } from '../helpers/pod-cgroup.ts';

const tag = randomBytes(4).toString('hex');
const prefix = `${uniqueName('pod-scope')}.`;
// A node name no other test (and no kubelet) uses: the agent watches the pods bound to it.
const nodeName = `pod-scope-node-${tag}`;
const namespace = `pod-scope-${tag}`;
const policyName = `it-pod-scope-${tag}`;
const dir = mkdtempSync(join(tmpdir(), 'stinger-pod-scope-'));
const secret = join(dir, 'secret');
const cliEnv = () => ({ KAFKA_BROKERS: testBrokers(), STINGER_TOPIC_PREFIX: prefix });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let kube: TestCluster | undefined;
let client: KafkaClient;
let agent: RunningAgent | undefined;
let raw: Collector | undefined;
let statuses: Collector | undefined;
let applied = false;
const cgroups = podCgroups();
/** Each pod's name → the cgroup.procs of its one container. */
const procs = new Map<string, string>();

async function createPod(name: string, role: string): Promise<void> {
  const pod = await kube!.create(
    `/api/v1/namespaces/${namespace}/pods`,
    podObject({ namespace, name, nodeName, labels: { app: `pod-scope-${tag}`, role }, containers: [{ name: 'main', image: 'busybox:test' }] }),
  );
  procs.set(name, cgroups.procsOf(cgroups.container(pod.metadata.uid, randomContainerId())));
}

async function relabel(name: string, role: string): Promise<void> {
  await kube!.mergePatch(`/api/v1/namespaces/${namespace}/pods/${name}`, { metadata: { labels: { role } } });
}

/** `cat secret` in the pod's container: the shell joins the container's cgroup, then becomes cat. */
function catIn(pod: string): Promise<ChildResult> {
  return runChild('/bin/sh', ['-c', `echo $$ > ${procs.get(pod)} && exec cat ${secret}`]);
}

/**
 * Runs `cat` in `pod` until it ends as `expected` (the agent learns pods and labels from the API server's watch: a
 * moment after the test's change); fails with the last outcome after 15 s.
 */
async function catUntil(pod: string, expected: 'killed' | 'reads'): Promise<ChildResult> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const result = await catIn(pod);
    const killed = result.signal === 'SIGKILL' && result.stdout === '';
    const reads = result.code === 0 && result.stdout === 'pod-secret\n';
    if ((expected === 'killed' && killed) || (expected === 'reads' && reads)) return result;
    if (Date.now() > deadline) assert.fail(`cat in ${pod} should have ${expected === 'killed' ? 'been killed' : 'read the file'}: ${JSON.stringify(result)}`);
    await sleep(200);
  }
}

before(async () => {
  buildBpf();
  writeFileSync(secret, 'pod-secret\n');
  kube = await startTestCluster();
  await kube.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  await createPod('target', 'target');
  await createPod('bystander', 'other');
  client = testClient('pod-scope-test');
  await bootstrapTopics({ client, prefix });
  raw = await collectTopic(client, topicName('eventsRaw', prefix));
  statuses = await collectTopic(client, topicName('policyStatus', prefix));
  agent = await startAgent({ brokers: testBrokers(), topicPrefix: prefix, nodeName, extraEnv: { KUBECONFIG: kube.kubeconfigPath } });
});

after(async () => {
  if (applied) runStinger(['policy', 'delete', policyName], cliEnv());
  const code = await agent?.stop();
  await raw?.stop();
  await statuses?.stop();
  cgroups.remove();
  await kube?.stop();
  rmSync(dir, { recursive: true, force: true });
  assert.equal(code, 0, 'the agent shuts down cleanly on SIGTERM');
});

test('a kill-in-kernel rule with a podSelector kills in the kernel in the labelled pod only, and follows label changes', { timeout: 120_000 }, async () => {
  const file = join(dir, `${policyName}.yaml`);
  writeFileSync(
    file,
    [
      'apiVersion: stinger.io/v1alpha1',
      'kind: TracingPolicy',
      `metadata: { name: ${policyName} }`,
      'spec:',
      `  selector: { podSelector: { matchLabels: { app: pod-scope-${tag}, role: target } } }`,
      '  rules:',
      '    - name: no-secret',
      '      event: file',
      `      match: { path: { equal: ["${secret}"] }, op: [open] }`,
      '      action: kill-in-kernel',
      '',
    ].join('\n'),
  );
  const result = runStinger(['policy', 'apply', file], cliEnv());
  assert.equal(result.status, 0, result.stderr);
  applied = true;
  assert.match(result.stdout, /kill-in-kernel is enforced in the kernel by agents that know their node's pods/);
  const status = await policyStatusOf(statuses!, { node: nodeName, key: policyName }, { accept: (s) => s !== null && s.generation === 1n });
  assert.equal(status?.state, 'applied', status?.messages.join('; '));
  assert.deepEqual([status?.kernel_rules, status?.pipeline_rules], [1, 0]);
  assert.match(status?.messages.join('\n') ?? '', /no-secret: enforced in the kernel for this node's pods its selector names \(pod scope\)/);

  const killed = await catUntil('target', 'killed');
  const [event] = await eventsMatching(raw!, (e) => e.kind === 'file' && e.process.pid === killed.pid && e.action !== null, { what: 'the kill record of the target pod\'s cat' });
  assert.deepEqual({ ...event?.action }, { kind: 'sigkill', policy: policyName, rule: 'no-secret' }, 'killed in the kernel, by this rule');
  assert.match(event?.process.cgroup_path ?? '', new RegExp(`kubepods-besteffort-pod.*\\.slice/cri-containerd-`), 'in the pod\'s container');

  const spared = await catIn('bystander');
  assert.deepEqual([spared.code, spared.stdout], [0, 'pod-secret\n'], 'a pod without the label reads the file');
  const onHost = await runChild('cat', [secret]);
  assert.deepEqual([onHost.code, onHost.stdout], [0, 'pod-secret\n'], 'the host reads the file');

  // The label moves: the bystander now carries it, the target no longer does.
  await relabel('bystander', 'target');
  await catUntil('bystander', 'killed');
  await relabel('target', 'other');
  await catUntil('target', 'reads');
  const still = await catIn('bystander');
  assert.equal(still.signal, 'SIGKILL', 'the relabelled pod stays in scope');

  // A new pod with the label: kubelet makes the pod's cgroup before its first container runs. Here the pod object
  // comes first, then its cgroup, and 300 ms later its first process (the agent looks for a known pod's missing cgroup
  // every 100 ms): killed on its first try, with no retry.
  await createPod('newcomer', 'target');
  await sleep(300);
  const first = await catIn('newcomer');
  assert.deepEqual([first.signal, first.stdout], ['SIGKILL', ''], 'the new labelled pod\'s first process is covered');

  // Deleting the policy takes the rule out of the kernel.
  assert.equal(runStinger(['policy', 'delete', policyName], cliEnv()).status, 0);
  applied = false;
  await policyStatusOf(statuses!, { node: nodeName, key: policyName }, { accept: (s) => s === null });
  await catUntil('bystander', 'reads');
});
