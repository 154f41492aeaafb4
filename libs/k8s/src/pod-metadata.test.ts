import { test } from 'node:test';
import assert from 'node:assert/strict';
import { podMetadataFromPod, resolveWorkload, stripRuntimePrefix, type OwnerLookup, type PodLike } from './pod-metadata.ts';

const noOwners: OwnerLookup = () => null;
const idA = 'a'.repeat(64);
const idB = 'b'.repeat(64);
const idC = 'c'.repeat(64);

function pod(overrides: Partial<PodLike> = {}): PodLike {
  return {
    metadata: { uid: 'uid-1', name: 'web-7d9f8-xk2p1', namespace: 'shop', labels: { app: 'web', 'pod-template-hash': '7d9f8' }, annotations: { note: 'x' } },
    spec: { nodeName: 'node-1', containers: [{ name: 'app', image: 'nginx:1.27' }], initContainers: [{ name: 'init', image: 'busybox' }] },
    status: {
      containerStatuses: [{ name: 'app', containerID: `containerd://${idA}`, image: 'docker.io/library/nginx:1.27' }],
      initContainerStatuses: [{ name: 'init', containerID: `cri-o://${idB}`, image: '' }],
      ephemeralContainerStatuses: [{ name: 'debug', containerID: `docker://${idC}`, image: 'busybox:1' }],
    },
    ...overrides,
  };
}

test('stripRuntimePrefix removes containerd, CRI-O and Docker prefixes', () => {
  assert.equal(stripRuntimePrefix(`containerd://${idA}`), idA);
  assert.equal(stripRuntimePrefix(`cri-o://${idA}`), idA);
  assert.equal(stripRuntimePrefix(`docker://${idA}`), idA);
  assert.equal(stripRuntimePrefix(idA), idA);
});

test('podMetadataFromPod: identity, node, labels, containers from regular, init and ephemeral statuses', () => {
  const meta = podMetadataFromPod(pod(), noOwners);
  assert.ok(meta);
  assert.equal(meta.uid, 'uid-1');
  assert.equal(meta.namespace, 'shop');
  assert.equal(meta.node, 'node-1');
  assert.deepEqual(meta.labels, { app: 'web', 'pod-template-hash': '7d9f8' });
  assert.deepEqual(meta.containers, [
    { id: idA, name: 'app', image: 'docker.io/library/nginx:1.27' },
    { id: idB, name: 'init', image: 'busybox' },
    { id: idC, name: 'debug', image: 'busybox:1' },
  ]);
});

test('podMetadataFromPod: containers without an id yet are left out; large annotations dropped; incomplete objects refused', () => {
  const meta = podMetadataFromPod(
    pod({
      metadata: { uid: 'u', name: 'n', namespace: 'ns', annotations: { small: 'ok', 'kubectl.kubernetes.io/last-applied-configuration': 'x'.repeat(2000) } },
      status: { containerStatuses: [{ name: 'app', image: 'nginx' }] },
    }),
    noOwners,
  );
  assert.deepEqual(meta?.containers, []);
  assert.deepEqual(meta?.annotations, { small: 'ok' });
  assert.equal(podMetadataFromPod({ metadata: { name: 'n', namespace: 'ns' } }, noOwners), null);
});

test('resolveWorkload: ReplicaSet → Deployment, Job → CronJob, StatefulSet and DaemonSet direct, bare pod', () => {
  const owners: OwnerLookup = (kind, namespace, name) => {
    if (namespace !== 'shop') return null;
    if (kind === 'ReplicaSet' && name === 'web-7d9f8') return [{ kind: 'Deployment', name: 'web', controller: true }];
    if (kind === 'Job' && name === 'backup-2890') return [{ kind: 'CronJob', name: 'backup', controller: true }];
    if (kind === 'Job' && name === 'once') return [];
    return null;
  };
  const owned = (kind: string, name: string): PodLike => ({ metadata: { uid: 'u', name: 'p', namespace: 'shop', ownerReferences: [{ kind, name, controller: true }] } });
  assert.deepEqual(resolveWorkload(owned('ReplicaSet', 'web-7d9f8'), owners), { name: 'web', kind: 'Deployment' });
  assert.deepEqual(resolveWorkload(owned('Job', 'backup-2890'), owners), { name: 'backup', kind: 'CronJob' });
  assert.deepEqual(resolveWorkload(owned('Job', 'once'), owners), { name: 'once', kind: 'Job' });
  assert.deepEqual(resolveWorkload(owned('StatefulSet', 'db'), owners), { name: 'db', kind: 'StatefulSet' });
  assert.deepEqual(resolveWorkload(owned('DaemonSet', 'agent'), owners), { name: 'agent', kind: 'DaemonSet' });
  assert.deepEqual(resolveWorkload({ metadata: { uid: 'u', name: 'lonely', namespace: 'shop' } }, owners), { name: 'lonely', kind: 'Pod' });
});

test('resolveWorkload: an unknown ReplicaSet falls back to the pod-template-hash naming; the controller reference wins', () => {
  const p: PodLike = {
    metadata: {
      uid: 'u',
      name: 'api-5c6d7-q',
      namespace: 'x',
      labels: { 'pod-template-hash': '5c6d7' },
      ownerReferences: [{ kind: 'Other', name: 'not-controller' }, { kind: 'ReplicaSet', name: 'api-5c6d7', controller: true }],
    },
  };
  assert.deepEqual(resolveWorkload(p, noOwners), { name: 'api', kind: 'Deployment' });
  const noHash: PodLike = { metadata: { uid: 'u', name: 'p', namespace: 'x', ownerReferences: [{ kind: 'ReplicaSet', name: 'rs-1', controller: true }] } };
  assert.deepEqual(resolveWorkload(noHash, noOwners), { name: 'rs-1', kind: 'ReplicaSet' });
});
