/**
 * createPodIndex (@stinger/k8s) against a real kube-apiserver (one dev cluster for this file): objects are created
 * through the API as controllers and kubelet would (this cluster runs neither), and the index's informers must
 * resolve container ids to pods with their workload — Deployment through its ReplicaSet, CronJob through its Job, a
 * bare pod as 'Pod' — keep a deleted pod as a tombstone, and pick up a pod that appears after the index synced.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPodIndex, loadKubeConfig, type PodIndex, type PodMetadata } from '@stinger/k8s';
import { silentLogger } from '@stinger/log';
import { podObject, randomContainerId, runningStatus, startTestCluster, type TestCluster } from '../helpers/dev-cluster.ts';

const NODE = 'worker-1';
const NS = 'pod-index-test';

/** Polls the index (informer delivery is asynchronous) until `id` resolves and `accept` holds, or `timeoutMs`. */
async function resolved(index: PodIndex, id: string, accept: (meta: PodMetadata) => boolean = () => true): Promise<PodMetadata> {
  const timeoutMs = 10_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const meta = index.byContainerId(id);
    if (meta && accept(meta)) return meta;
    if (Date.now() > deadline) throw new Error(`container ${id} not resolved after ${timeoutMs} ms (last: ${JSON.stringify(meta)})`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('createPodIndex against a real API server', { timeout: 180_000 }, () => {
  let kube: TestCluster;
  let index: PodIndex;

  before(async () => {
    kube = await startTestCluster();
    await kube.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    const kubeConfig = loadKubeConfig({ kubeconfig: { kind: 'file', paths: [kube.kubeconfigPath] } });
    assert.ok(kubeConfig);
    index = createPodIndex({ kubeConfig, logger: silentLogger(), tombstoneTtlMs: 60_000 });
    await index.start();
    assert.equal(await index.waitForSync(20_000), true, 'informers synced');
  });

  after(async () => {
    await index?.stop();
    await kube?.stop();
  });

  /** Creates a pod, then sets its running status through the status subresource; returns its uid. */
  async function runPod(options: Parameters<typeof podObject>[0], containerIds: readonly string[]): Promise<string> {
    const pod = await kube.create(`/api/v1/namespaces/${options.namespace}/pods`, podObject(options));
    const statuses = options.containers.map((c, i) => ({ ...c, id: containerIds[i] ?? '' }));
    await kube.mergePatch(`/api/v1/namespaces/${options.namespace}/pods/${options.name}/status`, runningStatus(statuses));
    return pod.metadata.uid;
  }

  test('a Deployment pod: identity, labels, annotations, workload through its ReplicaSet, container, node', async () => {
    const labels = { app: 'web', 'pod-template-hash': '7d9f8c6b5' };
    const deployment = await kube.create(`/apis/apps/v1/namespaces/${NS}/deployments`, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'web' } },
        template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.27' }] } },
      },
    });
    // Named unlike `<deployment>-<pod-template-hash>`, so the name-derivation fallback cannot produce the answer:
    // only the informer's ReplicaSet → Deployment owner reference can.
    const replicaSet = await kube.create(`/apis/apps/v1/namespaces/${NS}/replicasets`, {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: 'web-rs',
        labels,
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: deployment.metadata.uid, controller: true, blockOwnerDeletion: true }],
      },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: { metadata: { labels }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.27' }] } },
      },
    });
    const nginxId = randomContainerId();
    const sidecarId = randomContainerId();
    const uid = await runPod(
      {
        namespace: NS,
        name: 'web-rs-abcde',
        nodeName: NODE,
        labels,
        annotations: { 'example.com/team': 'payments' },
        owner: { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-rs', uid: replicaSet.metadata.uid },
        containers: [
          { name: 'nginx', image: 'nginx:1.27' },
          { name: 'sidecar', image: 'busybox:1.36' },
        ],
      },
      [nginxId, sidecarId],
    );

    const meta = await resolved(index, nginxId);
    assert.deepEqual(
      { uid: meta.uid, namespace: meta.namespace, name: meta.name, node: meta.node },
      { uid, namespace: NS, name: 'web-rs-abcde', node: NODE },
    );
    assert.deepEqual({ ...meta.labels }, labels);
    assert.deepEqual({ ...meta.annotations }, { 'example.com/team': 'payments' });
    assert.deepEqual({ ...meta.workload }, { name: 'web', kind: 'Deployment' });
    assert.deepEqual(
      meta.containers.map((c) => ({ ...c })),
      [
        { id: nginxId, name: 'nginx', image: 'nginx:1.27' },
        { id: sidecarId, name: 'sidecar', image: 'busybox:1.36' },
      ],
    );
    assert.equal(index.byContainerId(sidecarId)?.uid, uid, 'every container of the pod resolves');
    assert.equal(index.byPodUid(uid)?.name, 'web-rs-abcde');
    assert.equal(index.byContainerId(randomContainerId()), null, 'an unknown id misses');
  });

  test('a Job owned by a CronJob resolves to the CronJob', async () => {
    const template = { spec: { restartPolicy: 'Never', containers: [{ name: 'backup', image: 'restic:0.17' }] } };
    const cronJob = await kube.create(`/apis/batch/v1/namespaces/${NS}/cronjobs`, {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: 'nightly' },
      spec: { schedule: '0 3 * * *', jobTemplate: { spec: { template } } },
    });
    const job = await kube.create(`/apis/batch/v1/namespaces/${NS}/jobs`, {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        name: 'nightly-29000000',
        ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'nightly', uid: cronJob.metadata.uid, controller: true, blockOwnerDeletion: true }],
      },
      spec: { template },
    });
    const id = randomContainerId();
    await runPod(
      {
        namespace: NS,
        name: 'nightly-29000000-xyz12',
        nodeName: NODE,
        owner: { apiVersion: 'batch/v1', kind: 'Job', name: 'nightly-29000000', uid: job.metadata.uid },
        containers: [{ name: 'backup', image: 'restic:0.17' }],
      },
      [id],
    );
    const meta = await resolved(index, id, (m) => m.workload.kind === 'CronJob');
    assert.deepEqual({ ...meta.workload }, { name: 'nightly', kind: 'CronJob' });
    assert.equal(meta.containers[0]?.name, 'backup');
  });

  test('a bare pod is its own workload, kind Pod', async () => {
    const id = randomContainerId();
    await runPod({ namespace: NS, name: 'debug', nodeName: NODE, containers: [{ name: 'shell', image: 'alpine:3.20' }] }, [id]);
    const meta = await resolved(index, id);
    assert.deepEqual({ ...meta.workload }, { name: 'debug', kind: 'Pod' });
    assert.deepEqual(meta.containers.map((c) => ({ ...c })), [{ id, name: 'shell', image: 'alpine:3.20' }]);
  });

  test('a deleted pod still resolves from its tombstone', async () => {
    const id = randomContainerId();
    const uid = await runPod({ namespace: NS, name: 'short-lived', nodeName: NODE, labels: { app: 'once' }, containers: [{ name: 'main', image: 'alpine:3.20' }] }, [id]);
    await resolved(index, id);
    const before = index.stats();

    let sawDelete = false;
    const unsubscribe = index.onChange(() => (sawDelete ||= index.stats().pods < before.pods));
    await kube.remove(`/api/v1/namespaces/${NS}/pods/short-lived`);
    const deadline = Date.now() + 10_000;
    while (!sawDelete && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    unsubscribe();
    assert.ok(sawDelete, 'the informer delivered the deletion');
    assert.equal(index.stats().pods, before.pods - 1);
    assert.ok(index.stats().tombstones > before.tombstones, 'a tombstone was kept');

    const meta = index.byContainerId(id);
    assert.deepEqual({ uid: meta?.uid, name: meta?.name, namespace: meta?.namespace, labels: { ...meta?.labels } }, { uid, name: 'short-lived', namespace: NS, labels: { app: 'once' } });
    assert.equal(index.byPodUid(uid)?.name, 'short-lived');
  });

  test('a pod created after the sync is found once the informer delivers it (onChange fires)', async () => {
    const id = randomContainerId();
    assert.equal(index.byContainerId(id), null);
    let changes = 0;
    let resolvedAtChange = false;
    const unsubscribe = index.onChange(() => {
      changes += 1;
      resolvedAtChange ||= index.byContainerId(id) !== null;
    });
    try {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      await runPod({ namespace: NS, name: 'late', nodeName: NODE, containers: [{ name: 'app', image: 'app:2' }] }, [id]);
      const meta = await resolved(index, id);
      assert.equal(meta.name, 'late');
      assert.equal(meta.containers[0]?.image, 'app:2');
      assert.ok(changes >= 2, `onChange ran for the add and the status update (ran ${changes} times)`);
      assert.ok(resolvedAtChange, 'the id resolved by the time an onChange listener ran');
    } finally {
      unsubscribe();
    }
  });
});
