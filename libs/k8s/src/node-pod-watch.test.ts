import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nodePodOf } from './node-pod-watch.ts';

test('nodePodOf: uid, namespace, name and labels (none: empty); a pod object without uid, name or namespace is skipped', () => {
  assert.deepEqual(nodePodOf({ metadata: { uid: 'u1', name: 'web-1', namespace: 'shop', labels: { app: 'web' } }, spec: { nodeName: 'n1' } }), {
    uid: 'u1',
    namespace: 'shop',
    name: 'web-1',
    labels: { app: 'web' },
  });
  assert.deepEqual(nodePodOf({ metadata: { uid: 'u2', name: 'bare', namespace: 'shop' } })?.labels, {});
  assert.equal(nodePodOf({ metadata: { name: 'no-uid', namespace: 'shop' } }), null);
  assert.equal(nodePodOf({}), null);
});
