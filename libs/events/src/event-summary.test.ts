import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readFileSync } from 'node:fs';
import { codecs } from './codec.ts';
import { DecodeError, decodeEvent, decodeEventSummary, encodeAlert, encodeEvent, fullEvent, keepEvent, renderEventJson } from './index.ts';

/** The value as plain JSON data (decoded records are instances of avsc's record classes). */
const plain = (value: unknown): unknown => JSON.parse(JSON.stringify(value, (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)));
/** The golden Event (schemas/golden): a process in a pod, with a parent, args, labels and annotations. */
const event = codecs.Event.fromJson(readFileSync(new URL('../../../schemas/golden/Event.v1.json', import.meta.url), 'utf8'));

test('decodeEventSummary keeps what detection reads and skips the rest; fullEvent gives back the whole event', () => {
  const bytes = encodeEvent(event);
  const summary = decodeEventSummary(bytes);
  assert.equal(summary.id, event.id);
  assert.equal(summary.time, event.time);
  assert.deepEqual([summary.process.pid, summary.process.start_time, summary.process.binary, summary.process.uid, summary.process.container_id], [event.process.pid, event.process.start_time, event.process.binary, event.process.uid, event.process.container_id]);
  assert.deepEqual(plain(summary.payload), plain(event.payload));
  assert.ok(event.pod !== null && event.parent !== null);
  assert.deepEqual(plain([summary.pod?.uid, summary.pod?.namespace, summary.pod?.name, summary.pod?.labels, summary.pod?.container?.name]), plain([event.pod.uid, event.pod.namespace, event.pod.name, event.pod.labels, event.pod.container?.name]));
  assert.deepEqual([summary.parent?.pid, summary.parent?.binary], [event.parent.pid, event.parent.binary]);
  for (const absent of [summary.process.args, summary.process.exec_id, summary.pod?.annotations, summary.pod?.container?.image, summary.seq, summary.enrichment]) assert.equal(absent, undefined);
  assert.deepEqual(fullEvent(summary), decodeEvent(bytes));
  assert.deepEqual(plain(fullEvent(summary)), plain(event));
  assert.deepEqual(renderEventJson(fullEvent(summary)), renderEventJson(event));
  assert.equal(fullEvent(event), event, 'a complete event is itself');
});

test('keepEvent: a kept summary owns its bytes, so it no longer refers to the buffer it was decoded from', () => {
  const batch = Buffer.concat([Buffer.alloc(100), encodeEvent(event)]);
  const summary = decodeEventSummary(batch.subarray(100));
  assert.equal(keepEvent(summary), summary);
  batch.fill(0);
  assert.deepEqual(plain(fullEvent(summary)), plain(event));
});

test('decodeEventSummary refuses what decodeEvent refuses, with the same reasons', () => {
  const reason = (bytes: Buffer) => {
    try {
      decodeEventSummary(bytes);
      return 'decoded';
    } catch (error) {
      return error instanceof DecodeError ? error.reason : 'other';
    }
  };
  const bytes = encodeEvent(event);
  assert.equal(reason(bytes.subarray(0, 5)), 'truncated');
  assert.equal(reason(Buffer.concat([Buffer.from([7, 1]), bytes.subarray(2)])), 'bad-magic');
  // 00 starts the registry wire format: an id this process was not taught.
  assert.equal(reason(Buffer.concat([Buffer.from([0, 1]), bytes.subarray(2)])), 'unknown-schema-id');
  assert.equal(reason(bytes.subarray(0, bytes.length - 3)), 'truncated');
  assert.equal(reason(Buffer.concat([bytes, Buffer.from([0])])), 'invalid-body');
  const alert = encodeAlert({ id: 'a', time: 1n, node: 'n', policy: 'p', policy_generation: 1n, rule: 'r', mode: 'monitor', action: 'audit', severity: 'low', tags: [], message: 'm', event, related_events: [], count: 1, first_seen_ns: null, group_key: null });
  assert.equal(reason(alert), 'wrong-schema');
});
