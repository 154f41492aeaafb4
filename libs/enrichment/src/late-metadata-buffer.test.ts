import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PodStore } from '@stinger/k8s';
import { containerIdentityOf } from './enrich-event.ts';
import { containerId, podPath, rawIn, webPod } from './test-fixtures.ts';
import { LateMetadataBuffer } from './late-metadata-buffer.ts';

function notifyingStore() {
  const store = new PodStore();
  const listeners = new Set<() => void>();
  return {
    store,
    lookup: {
      byContainerId: (id: string) => store.byContainerId(id),
      byPodUid: (uid: string) => store.byPodUid(uid),
      onChange(listener: () => void) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
    },
    notify: () => listeners.forEach((l) => l()),
    listenerCount: () => listeners.size,
  };
}

test('host processes and known pods never wait', async () => {
  const { store, lookup } = notifyingStore();
  store.upsertPod(webPod());
  const buffer = new LateMetadataBuffer({ lookup, maxWaitMs: 5000 });
  const started = Date.now();
  const result = await buffer.hold([containerIdentityOf(rawIn('/system.slice/x.service')), containerIdentityOf(rawIn(podPath))]);
  assert.deepEqual(result, { waitMs: 0, pending: 0, resolved: 0 });
  assert.ok(Date.now() - started < 100);
});

test('a late pod releases the batch as soon as the index has it (woken by the change notification)', async () => {
  const { store, lookup, notify, listenerCount } = notifyingStore();
  const buffer = new LateMetadataBuffer({ lookup, maxWaitMs: 5000, pollIntervalMs: 10_000 });
  setTimeout(() => {
    store.upsertPod(webPod());
    notify();
  }, 100);
  const started = Date.now();
  const result = await buffer.hold([containerIdentityOf(rawIn(podPath)), containerIdentityOf(rawIn(podPath, 2n))]);
  const elapsed = Date.now() - started;
  assert.equal(result.pending, 1, 'one distinct identity');
  assert.equal(result.resolved, 1);
  assert.ok(elapsed >= 90 && elapsed < 1000, `released after ${elapsed} ms`);
  assert.equal(listenerCount(), 0, 'unsubscribed');
});

test('the wait is bounded; an identity that timed out does not stall later batches until giveUpTtlMs', async () => {
  let now = 0;
  const { lookup } = notifyingStore();
  const clockBuffer = new LateMetadataBuffer({ lookup, maxWaitMs: 60, pollIntervalMs: 10, giveUpTtlMs: 1000, now: () => now });
  // Drive the fake clock from real timers: each poll advances it by 10 ms.
  const ticker = setInterval(() => (now += 10), 5);
  try {
    const first = await clockBuffer.hold([containerIdentityOf(rawIn(podPath))]);
    assert.equal(first.pending, 1);
    assert.equal(first.resolved, 0);
    assert.ok(first.waitMs >= 60, `waited ${first.waitMs}`);
    const again = await clockBuffer.hold([containerIdentityOf(rawIn(podPath))]);
    assert.deepEqual(again, { waitMs: 0, pending: 0, resolved: 0 });
    now += 1000;
    const afterTtl = await clockBuffer.hold([containerIdentityOf(rawIn(podPath))]);
    assert.equal(afterTtl.pending, 1);
  } finally {
    clearInterval(ticker);
  }
  assert.equal(containerId.length, 64);
});

test('a pod known without this container still waits until kubelet reports the container', async () => {
  const { store, lookup, notify } = notifyingStore();
  store.upsertPod(webPod([])); // the pod exists, its new container's id is not in its status yet
  const buffer = new LateMetadataBuffer({ lookup, maxWaitMs: 5000, pollIntervalMs: 10_000 });
  const identity = containerIdentityOf(rawIn(podPath));
  assert.equal(buffer.needsWait(identity), true);
  setTimeout(() => {
    store.upsertPod(webPod());
    notify();
  }, 50);
  const result = await buffer.hold([identity]);
  assert.deepEqual([result.pending, result.resolved], [1, 1]);
  assert.equal(buffer.needsWait(identity), false);
  assert.ok(lookup.byContainerId(containerId));
});
