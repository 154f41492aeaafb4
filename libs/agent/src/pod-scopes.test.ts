import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KernelPodScope } from '@stinger/policy';
import { podInScope, podScopeBits, PodScopes, type NodePod } from './pod-scopes.ts';

function fakeMap(): { set(id: bigint, bits: bigint): void; entries: Map<bigint, bigint>; writes: number } {
  const entries = new Map<bigint, bigint>();
  const fake = {
    entries,
    writes: 0,
    set(id: bigint, bits: bigint) {
      fake.writes += 1;
      if (bits === 0n) entries.delete(id);
      else entries.set(id, bits);
    },
  };
  return fake;
}

const pod = (uid: string, labels: Record<string, string>, cgroupId: bigint | null): NodePod => ({ uid, name: `pod-${uid}`, namespace: 'shop', labels, cgroupId });

test('podInScope: every label equal, the namespace one of those named (none named: any)', () => {
  const web = { namespace: 'shop', labels: { app: 'web', tier: 'front' } };
  assert.equal(podInScope({ labels: { app: 'web' }, namespaces: [] }, web), true);
  assert.equal(podInScope({ labels: { app: 'web', tier: 'back' }, namespaces: [] }, web), false);
  assert.equal(podInScope({ labels: { app: 'web' }, namespaces: ['other'] }, web), false);
  assert.equal(podInScope({ labels: {}, namespaces: ['shop'] }, web), true);
  assert.equal(podInScope({ labels: { missing: '' }, namespaces: [] }, web), false);
});

test('podScopeBits: one bit per slot whose selector the pod matches', () => {
  const scopes = new Map<number, KernelPodScope>([
    [0, { labels: { app: 'web' }, namespaces: [] }],
    [3, { labels: {}, namespaces: ['shop'] }],
    [5, { labels: { app: 'db' }, namespaces: [] }],
  ]);
  assert.equal(podScopeBits(scopes, { namespace: 'shop', labels: { app: 'web' } }), 0b1001n);
  assert.equal(podScopeBits(scopes, { namespace: 'kube-system', labels: { app: 'db' } }), 0b100000n);
});

test('a selector takes a slot and its matching pods get the bit before the slot is returned; the last holder frees it', () => {
  const map = fakeMap();
  const scopes = new PodScopes({ map, slots: 64 });
  scopes.setPods([pod('a', { app: 'web' }, 11n), pod('b', { app: 'db' }, 12n), pod('c', { app: 'web' }, null)]);
  assert.deepEqual([...map.entries], [], 'no slot in use: nothing in the kernel');
  const slot = scopes.acquire('entry-1', { labels: { app: 'web' }, namespaces: [] });
  assert.equal(slot, 0);
  assert.deepEqual([...map.entries], [[11n, 1n]], 'only the matching pod whose cgroup is known');
  assert.equal(scopes.acquire('entry-2', { labels: { app: 'web' }, namespaces: [] }), 0, 'the same selector shares the slot');
  assert.equal(scopes.acquire('entry-3', { labels: { app: 'db' }, namespaces: ['shop'] }), 1);
  assert.deepEqual([...map.entries].sort(), [[11n, 1n], [12n, 2n]]);
  assert.deepEqual(scopes.podsIn(0), ['shop/pod-a']);
  scopes.release('entry-1');
  assert.equal(map.entries.get(11n), 1n, 'entry-2 still holds slot 0');
  scopes.release('entry-2');
  scopes.release('entry-3');
  assert.deepEqual([...map.entries], [], 'every slot freed: every entry removed');
});

test('pod changes rewrite only what changed: a relabelled pod leaves or joins, a new cgroup joins, a gone pod is removed', () => {
  const map = fakeMap();
  const scopes = new PodScopes({ map, slots: 64 });
  scopes.acquire('entry', { labels: { app: 'web' }, namespaces: [] });
  scopes.setPods([pod('a', { app: 'web' }, 11n), pod('b', { app: 'db' }, 12n)]);
  assert.deepEqual([...map.entries], [[11n, 1n]]);
  const writes = map.writes;
  scopes.setPods([pod('a', { app: 'web' }, 11n), pod('b', { app: 'db' }, 12n)]);
  assert.equal(map.writes, writes, 'nothing changed: no write');
  scopes.setPods([pod('a', { app: 'api' }, 11n), pod('b', { app: 'web' }, 12n)]);
  assert.deepEqual([...map.entries], [[12n, 1n]], 'a left the scope, b joined it');
  scopes.setPods([pod('b', { app: 'web' }, 12n), pod('c', { app: 'web' }, null)]);
  assert.deepEqual([...map.entries], [[12n, 1n]], 'c has no cgroup yet');
  scopes.setPods([pod('b', { app: 'web' }, 12n), pod('c', { app: 'web' }, 13n)]);
  assert.deepEqual([...map.entries].sort(), [[12n, 1n], [13n, 1n]], 'c covered once its cgroup is found');
  scopes.setPods([pod('c', { app: 'web' }, 13n)]);
  assert.deepEqual([...map.entries], [[13n, 1n]], 'b left the node');
});

test('every slot taken: the next selector is refused with the reason, the others stay', () => {
  const map = fakeMap();
  const scopes = new PodScopes({ map, slots: 2 });
  scopes.acquire('x', { labels: { a: '1' }, namespaces: [] });
  scopes.acquire('y', { labels: { a: '2' }, namespaces: [] });
  assert.throws(() => scopes.acquire('z', { labels: { a: '3' }, namespaces: [] }), /all 2 slots are taken/);
  assert.deepEqual([...scopes.slotsInUse().keys()].sort(), [0, 1]);
});
