import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PodStore } from '@stinger/k8s';
import { enrichEvent } from './enrich-event.ts';
import { containerId, podPath, podUid, rawIn, webPod } from './test-fixtures.ts';

test('host process: status host, no pod, no container id', () => {
  const event = enrichEvent(rawIn('/system.slice/sshd.service'), new PodStore());
  assert.deepEqual({ ...event.enrichment }, { status: 'host', reason: null });
  assert.equal(event.pod, null);
  assert.equal(event.process.container_id, null);
  assert.equal(enrichEvent(rawIn(null), new PodStore()).enrichment.status, 'host');
});

test('known pod: enriched with pod, workload and container; every raw field kept', () => {
  const store = new PodStore();
  store.upsertPod(webPod());
  const raw = rawIn(podPath);
  const event = enrichEvent(raw, store);
  assert.deepEqual({ ...event.enrichment }, { status: 'enriched', reason: null });
  assert.deepEqual(event.pod, {
    namespace: 'shop',
    name: 'web-h1-x',
    uid: podUid,
    labels: { app: 'web', 'pod-template-hash': 'h1' },
    annotations: {},
    workload: 'web',
    workload_kind: 'Deployment',
    container: { id: containerId, name: 'app', image: 'nginx:1.27' },
  });
  assert.equal(event.process.container_id, containerId);
  assert.equal(event.seq, raw.seq);
  assert.equal(event.id, raw.id);
  assert.deepEqual(event.payload, raw.payload);
});

test('pod known by uid but not the container yet: enriched with container null; bare pods have no workload', () => {
  const store = new PodStore();
  store.upsertPod({ ...webPod([]), metadata: { uid: podUid, name: 'lonely', namespace: 'shop' } });
  const event = enrichEvent(rawIn(podPath), store);
  assert.equal(event.enrichment.status, 'enriched');
  assert.equal(event.pod?.container, null);
  assert.equal(event.pod?.workload, null);
  assert.equal(event.pod?.workload_kind, null);
});

test('unknown pod: not_enriched pod-not-found; a container outside kubelet: container-without-pod; no cluster: its reason', () => {
  assert.deepEqual(enrichEvent(rawIn(podPath), new PodStore()).enrichment, { status: 'not_enriched', reason: 'pod-not-found' });
  const docker = enrichEvent(rawIn(`/docker/${containerId}`), new PodStore());
  assert.deepEqual({ ...docker.enrichment }, { status: 'not_enriched', reason: 'container-without-pod' });
  const store = new PodStore();
  store.upsertPod(webPod());
  const outside = enrichEvent(rawIn(podPath), store, { unavailableReason: 'no cluster' });
  assert.deepEqual({ ...outside.enrichment }, { status: 'not_enriched', reason: 'no cluster' });
  assert.equal(outside.pod, null);
  assert.equal(outside.process.container_id, containerId);
});

test("the agent's container_id wins over the cgroup path", () => {
  const other = 'd'.repeat(64);
  const raw = rawIn(podPath);
  const event = enrichEvent({ ...raw, process: { ...raw.process, container_id: other } }, new PodStore());
  assert.equal(event.process.container_id, other);
});
