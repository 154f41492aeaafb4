import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PodLike } from './pod-metadata.ts';
import { PodStore } from './pod-store.ts';

const id = (c: string) => c.repeat(64);

function webPod(uid: string, containerIds: readonly string[]): PodLike {
  return {
    metadata: { uid, name: `web-${uid}`, namespace: 'shop', labels: { 'pod-template-hash': 'h1' }, ownerReferences: [{ kind: 'ReplicaSet', name: 'web-h1', controller: true }] },
    spec: { nodeName: 'n1' },
    status: { containerStatuses: containerIds.map((cid, i) => ({ name: `c${i}`, containerID: `containerd://${cid}`, image: 'img' })) },
  };
}

test('lookups by container id and pod uid; unknown ids miss', () => {
  const store = new PodStore();
  store.upsertPod(webPod('u1', [id('a'), id('b')]));
  assert.equal(store.byContainerId(id('a'))?.uid, 'u1');
  assert.equal(store.byContainerId(id('b'))?.name, 'web-u1');
  assert.equal(store.byPodUid('u1')?.namespace, 'shop');
  assert.equal(store.byContainerId(id('c')), null);
  assert.equal(store.byPodUid('u2'), null);
  assert.deepEqual(store.stats(), { pods: 1, containers: 2, tombstones: 0 });
});

test('a ReplicaSet arriving after its pod re-resolves the workload (a Deployment not named by the hash convention)', () => {
  const store = new PodStore();
  store.upsertPod(webPod('u1', [id('a')]));
  assert.deepEqual(store.byContainerId(id('a'))?.workload, { name: 'web', kind: 'Deployment' });
  store.upsertOwner('ReplicaSet', { metadata: { name: 'web-h1', namespace: 'shop', ownerReferences: [{ kind: 'Rollout', name: 'web-rollout', controller: true }] } });
  assert.deepEqual(store.byContainerId(id('a'))?.workload, { name: 'web-rollout', kind: 'Rollout' });
});

test('deleted pods and replaced containers resolve from tombstones until they expire or are evicted', () => {
  let now = 0;
  const store = new PodStore({ tombstoneCapacity: 10, tombstoneTtlMs: 1000, now: () => now });
  store.upsertPod(webPod('u1', [id('a')]));
  // The container restarts: a new id; the old one is still answered.
  store.upsertPod(webPod('u1', [id('b')]));
  assert.equal(store.byContainerId(id('a'))?.uid, 'u1');
  assert.equal(store.byContainerId(id('b'))?.uid, 'u1');
  store.deletePod(webPod('u1', [id('b')]));
  assert.equal(store.stats().pods, 0);
  assert.equal(store.byContainerId(id('b'))?.uid, 'u1');
  assert.equal(store.byPodUid('u1')?.uid, 'u1');
  now = 1000;
  assert.equal(store.byContainerId(id('b')), null);
  assert.equal(store.byPodUid('u1'), null);
});

test('the tombstone cache is bounded', () => {
  const store = new PodStore({ tombstoneCapacity: 2, tombstoneTtlMs: 60_000 });
  for (const c of ['a', 'b', 'c']) {
    store.upsertPod(webPod(`u-${c}`, [id(c)]));
    store.deletePod(webPod(`u-${c}`, [id(c)]));
  }
  assert.ok(store.stats().tombstones <= 2);
  assert.equal(store.byContainerId(id('a')), null);
  assert.equal(store.byPodUid('u-c')?.uid, 'u-c');
});

test('replaceAll: pods missing from a relist are deleted into tombstones, listed ones upserted', () => {
  const store = new PodStore();
  store.upsertPod(webPod('u1', [id('a')]));
  store.upsertPod(webPod('u2', [id('b')]));
  store.replaceAll({ pods: [webPod('u2', [id('b')]), webPod('u3', [id('c')])], replicaSets: [], jobs: [] });
  assert.equal(store.stats().pods, 2);
  assert.equal(store.byContainerId(id('c'))?.uid, 'u3');
  assert.equal(store.byContainerId(id('a'))?.uid, 'u1'); // from the tombstone
  assert.equal(store.byPodUid('u1') !== null && store.stats().tombstones > 0, true);
});
