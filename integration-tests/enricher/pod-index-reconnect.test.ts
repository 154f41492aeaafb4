/**
 * The pod index survives its API server going away: while kube-apiserver and etcd are stopped its watches
 * fail and are restarted with back-off; once the server is back (same address, same data) the index lists
 * again and resolves a pod created after the restart.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPodIndex, loadKubeConfig, type PodIndex } from '@stinger/k8s';
import { silentLogger } from '@stinger/log';
import { podObject, randomContainerId, runningStatus, startTestCluster, type TestCluster } from '../helpers/dev-cluster.ts';

const NS = 'reconnect-test';
let kube: TestCluster;
let index: PodIndex;

before(async () => {
  kube = await startTestCluster();
  await kube.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  const kubeConfig = loadKubeConfig({ kubeconfig: { kind: 'file', paths: [kube.kubeconfigPath] } });
  assert.ok(kubeConfig);
  index = createPodIndex({ kubeConfig, logger: silentLogger(), backoff: { initialMs: 200, maxMs: 2000 } });
  await index.start();
  assert.equal(await index.waitForSync(20_000), true);
});

after(async () => {
  await index?.stop();
  await kube?.stop();
});

test('after the API server restarts, a new pod is resolved and the reconnects are counted', { timeout: 120_000 }, async () => {
  await kube.restart();
  const id = randomContainerId();
  const name = 'after-restart';
  const container = { name: 'app', image: 'busybox:1.36' };
  await kube.create(`/api/v1/namespaces/${NS}/pods`, podObject({ namespace: NS, name, nodeName: 'n1', containers: [container] }));
  await kube.mergePatch(`/api/v1/namespaces/${NS}/pods/${name}/status`, runningStatus([{ ...container, id }]));
  const deadline = Date.now() + 60_000;
  while (index.byContainerId(id) === null && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(index.byContainerId(id)?.name, name);
  assert.ok(index.stats().reconnects > 0, `reconnects: ${index.stats().reconnects}`);
});
