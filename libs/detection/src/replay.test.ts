import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeEvent, decodeEventSummary, encodeEvent, renderAlertJson, type Event } from '@stinger/events';
import { sampleEvent } from '@stinger/testing';
import { PartitionDetector, replayAlerts, ReplayDetector } from './index.ts';
import { rulesOf } from './test-rules.ts';

const SECOND = 1_000_000_000n;
const T0 = 1_800_000_000n * SECOND;

const rules = rulesOf(
  `apiVersion: stinger.io/v1alpha1
kind: TracingPolicy
metadata: { name: p }
spec:
  rules:
    - { name: shadow, event: file, match: { path: { equal: [/etc/shadow] } }, action: audit }
    - name: dropped
      sequence:
        by: pod
        within: 60s
        steps:
          - { event: file, match: { path: { prefix: [/tmp/] }, access: [write] } }
          - { event: exec, sameAs: { binary: path } }
      action: audit
`,
);

let seq = 0n;
const file = (node: string, path: string, at: { seconds: number; flags?: number }): Event =>
  sampleEvent({ node, seq: (seq += 1n), time: T0 + BigInt(at.seconds) * SECOND, kind: 'file', payload: { group: 'file', op: 'open', path, path_as_given: path, new_path: null, flags: at.flags ?? 0, mode: null, result: 3, reached_by: null, io: null } });
const exec = (node: string, binary: string, seconds: number): Event =>
  sampleEvent({ node, seq: (seq += 1n), time: T0 + BigInt(seconds) * SECOND, kind: 'exec', process: { binary }, payload: { group: 'exec', filename: binary, euid: 0n, egid: 0n, secure_exec: false, args_truncated: false, sha256: null, reached_by: null } });

test('replay: a partition per detector, so interleaved partitions keep their own sequences; alerts carry the event time', () => {
  const events = [
    { partition: 0, event: file('a', '/tmp/x', { seconds: 0, flags: 0o101 }) },
    { partition: 1, event: file('a', '/tmp/y', { seconds: 0, flags: 0o101 }) },
    { partition: 1, event: exec('a', '/tmp/x', 1) }, // /tmp/x was written in partition 0: no sequence here
    { partition: 0, event: exec('a', '/tmp/x', 2) },
  ];
  const alerts = replayAlerts(events, rules);
  assert.deepEqual(alerts.map((a) => [a.rule, a.node, a.time]), [['dropped', 'a', T0 + 2n * SECOND]]);
});

test('replay: grouped repeats still held at the end of the range are reported by finish', () => {
  const replay = new ReplayDetector({ rules, groupWindowNs: 10n * SECOND });
  const raised = [0, 1, 2].flatMap((s) => replay.observe(0, file('a', '/etc/shadow', { seconds: s })));
  assert.deepEqual(raised.map((a) => a.count), [1]);
  assert.deepEqual(replay.finish().map((a) => [a.count, a.first_seen_ns]), [[2, T0 + SECOND]]);
  assert.deepEqual(replay.stats, { events: 3, alerts: 2 });
});

test('replay: alert ids are the live detector\'s for the same input', () => {
  const event = file('a', '/etc/shadow', { seconds: 5 });
  const live = new PartitionDetector({ rules }).observe(event, { emit: true });
  const replayed = replayAlerts([{ partition: 3, event }], rules);
  assert.deepEqual(replayed.map((a) => a.id), live.map((a) => a.id));
  assert.equal(replayed.length, 1);
});

test('replay over event summaries raises the same alerts, carrying complete events', () => {
  const events = [
    { partition: 0, event: file('a', '/tmp/x', { seconds: 0, flags: 0o101 }) },
    { partition: 0, event: file('a', '/etc/shadow', { seconds: 1 }) },
    { partition: 0, event: file('a', '/etc/shadow', { seconds: 2 }) },
    { partition: 0, event: exec('a', '/tmp/x', 3) },
  ];
  const bytes = events.map(({ partition, event }) => ({ partition, bytes: encodeEvent(event) }));
  const replayed = (decode: (b: Buffer) => Event) => replayAlerts(bytes.map(({ partition, bytes: b }) => ({ partition, event: decode(b) })), rules).map((a) => JSON.stringify(renderAlertJson(a, null)));
  const complete = replayed(decodeEvent);
  assert.equal(complete.length, 3, 'the shadow read, its held repeat, the sequence');
  assert.deepEqual(replayed(decodeEventSummary), complete);
});
