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
  const enricher = createEnricher({ index: clusterIndex(store), eventsTopic: 'events', logger: silentLogger(), readRange: async () => [], metrics, maxWaitMs: 2000, pollIntervalMs: 10 });
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
  const enricher = createEnricher({ index: clusterIndex(new PodStore()), eventsTopic: 'events', logger: silentLogger(), readRange: async () => [], metrics, maxWaitMs: 150, pollIntervalMs: 10 });
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
  const enricher = createEnricher({ index: new DisabledPodIndex(), eventsTopic: 'events', logger: silentLogger(), readRange: async () => [], maxWaitMs: 5000 });
  const records = [record(0, encodeRawEvent(rawIn(podPath, 0n)))];
  const started = Date.now();
  await enricher.prepareBatch(records);
  assert.ok(Date.now() - started < 100);
  const event = decodeEvent(enricher.transform(records[0] as ConsumedRecord)[0]?.value ?? Buffer.alloc(0));
  assert.deepEqual({ ...event.enrichment }, { status: 'not_enriched', reason: 'no cluster' });
  assert.equal(event.process.container_id, 'c'.repeat(64));
});

test('repeats of (agent_id, seq) give no output; the filter is rebuilt from the records before a batch after a reset', async () => {
  const metrics = createEnrichmentMetrics();
  const reads: { partition: number; sinceOffset: bigint; untilOffset: bigint }[] = [];
  let earlier: ConsumedRecord[] = [];
  const enricher = createEnricher({
    index: new DisabledPodIndex(),
    eventsTopic: 'events',
    logger: silentLogger(),
    metrics,
    readRange: async (range) => (reads.push({ ...range }), earlier),
  });
  const raw = (offset: number, seq: bigint, agent = 'agent-1') => record(offset, encodeRawEvent({ ...rawIn('/system.slice/a.service', seq), agent_id: agent }));
  const run = async (records: ConsumedRecord[]) => {
    await enricher.prepareBatch(records);
    return planTransaction(records, (r) => enricher.transform(r), createDeadLetterBuilder({ consumer: 'enricher', dlqTopic: 'dlq', now: () => 0n })).outputs.map((o) => decodeEvent(o.value ?? Buffer.alloc(0))).map((e) => `${e.agent_id}/${e.seq}`);
  };

  assert.deepEqual(await run([raw(0, 0n), raw(1, 1n), raw(2, 0n), raw(3, 0n, 'agent-2')]), ['agent-1/0', 'agent-1/1', 'agent-2/0']);
  assert.deepEqual(reads, [], 'a partition read from offset 0 has nothing before it to re-read');
  assert.deepEqual(await run([raw(4, 1n), raw(5, 2n)]), ['agent-1/2']);
  assert.equal(enricher.stats.repeats, 2);
  assert.match(await metrics.registry.metrics(), /stinger_enricher_repeats_total 2/);

  // The batch at 6 was not committed: the filter of partition 0 is dropped, and rebuilt from what came before 6.
  enricher.resetPartition(0);
  earlier = [raw(0, 0n), raw(1, 1n), record(2, Buffer.from('junk')), raw(5, 2n)];
  assert.deepEqual(await run([raw(6, 2n), raw(7, 3n), raw(8, 1n, 'agent-2')]), ['agent-1/3', 'agent-2/1']);
  assert.deepEqual(reads, [{ partition: 0, sinceOffset: 0n, untilOffset: 6n }]);
  assert.deepEqual([enricher.stats.replays, enricher.stats.replayedRecords], [1, 4]);

  enricher.resetPartitions();
  earlier = [];
  assert.deepEqual(await run([raw(30_000, 3n)]), ['agent-1/3'], 'after a rebalance with nothing re-read, a repeat passes (never lost)');
  assert.deepEqual(reads.at(-1), { partition: 0, sinceOffset: 10_000n, untilOffset: 30_000n }, 'the last 20,000 records are re-read');
});
