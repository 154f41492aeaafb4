import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeDeadLetter, decodeEvent, encodeRawEvent } from '@stinger/events';
import { DisabledPodIndex, PodStore } from '@stinger/k8s';
import { createDeadLetterBuilder, planTransaction, type ConsumedRecord } from '@stinger/kafka';
import { silentLogger } from '@stinger/log';
import { rawIn, podPath, webPod } from './test-fixtures.ts';
import { createEnricher } from './enricher.ts';
import { createEnrichmentMetrics } from './metrics.ts';

function record(offset: number, value: Buffer | null): ConsumedRecord {
  return { topic: 'raw', partition: 0, offset: BigInt(offset), key: Buffer.from('n1'), value, headers: {}, timestampMs: 0 };
}

function clusterIndex(store: PodStore) {
  return { mode: 'cluster' as const, disabledReason: null, byContainerId: (id: string) => store.byContainerId(id), byPodUid: (uid: string) => store.byPodUid(uid), onChange: () => () => {} };
}

test('a batch: late pod waited for, host marked, undecodable dead-lettered, same key and order, metrics counted', async () => {
  const store = new PodStore();
  const metrics = createEnrichmentMetrics();
  const enricher = createEnricher({ index: clusterIndex(store), eventsTopic: 'events', logger: silentLogger(), metrics, maxWaitMs: 2000, pollIntervalMs: 10 });
  const records = [record(0, encodeRawEvent(rawIn(podPath, 0n))), record(1, Buffer.from('junk')), record(2, encodeRawEvent(rawIn('/system.slice/a.service', 2n))), record(3, null)];
  setTimeout(() => store.upsertPod(webPod()), 50);
  await enricher.prepareBatch(records);
  assert.equal(enricher.stats.held, 1);
  const plan = planTransaction(records, (r) => enricher.transform(r), createDeadLetterBuilder({ consumer: 'enricher', dlqTopic: 'dlq', now: () => 0n }));
  assert.equal(plan.rejected, 2);
  assert.equal(plan.nextOffset, 4n);
  assert.deepEqual(plan.outputs.map((o) => o.topic), ['events', 'dlq', 'events', 'dlq']);
  const events = plan.outputs.filter((o) => o.topic === 'events').map((o) => decodeEvent(o.value ?? Buffer.alloc(0)));
  assert.deepEqual(events.map((e) => [e.seq, e.enrichment.status]), [[0n, 'enriched'], [2n, 'host']]);
  assert.equal(events[0]?.pod?.workload, 'web');
  assert.ok(plan.outputs.filter((o) => o.topic === 'events').every((o) => o.key?.toString() === 'n1'));
  assert.deepEqual(plan.outputs.filter((o) => o.topic === 'dlq').map((o) => decodeDeadLetter(o.value ?? Buffer.alloc(0)).reason), ['truncated', 'tombstone']);
  const text = await metrics.registry.metrics();
  assert.match(text, /stinger_enricher_events_total\{status="enriched",reason=""\} 1/);
  assert.match(text, /stinger_enricher_late_metadata_events_total\{outcome="resolved"\} 1/);
  assert.match(text, /stinger_enricher_late_metadata_wait_seconds_count 1/);
});

test('a pod that never shows up: the batch is released at maxWaitMs and the event is not_enriched pod-not-found', async () => {
  const metrics = createEnrichmentMetrics();
  const enricher = createEnricher({ index: clusterIndex(new PodStore()), eventsTopic: 'events', logger: silentLogger(), metrics, maxWaitMs: 150, pollIntervalMs: 10 });
  const records = [record(0, encodeRawEvent(rawIn(podPath, 0n)))];
  const started = Date.now();
  await enricher.prepareBatch(records);
  const waited = Date.now() - started;
  assert.ok(waited >= 140 && waited < 1000, `waited ${waited} ms`);
  const [out] = enricher.transform(records[0] as ConsumedRecord);
  assert.deepEqual({ ...decodeEvent(out?.value ?? Buffer.alloc(0)).enrichment }, { status: 'not_enriched', reason: 'pod-not-found' });
  assert.match(await metrics.registry.metrics(), /stinger_enricher_late_metadata_events_total\{outcome="timed_out"\} 1/);
  assert.match(await metrics.registry.metrics(), /stinger_enricher_events_total\{status="not_enriched",reason="pod-not-found"\} 1/);
});

test('outside a cluster nothing waits; container events carry the id and reason "no cluster"', async () => {
  const enricher = createEnricher({ index: new DisabledPodIndex(), eventsTopic: 'events', logger: silentLogger(), maxWaitMs: 5000 });
  const records = [record(0, encodeRawEvent(rawIn(podPath, 0n)))];
  const started = Date.now();
  await enricher.prepareBatch(records);
  assert.ok(Date.now() - started < 100);
  const event = decodeEvent(enricher.transform(records[0] as ConsumedRecord)[0]?.value ?? Buffer.alloc(0));
  assert.deepEqual({ ...event.enrichment }, { status: 'not_enriched', reason: 'no cluster' });
  assert.equal(event.process.container_id, 'c'.repeat(64));
});
