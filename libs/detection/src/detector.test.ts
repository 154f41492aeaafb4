import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeAlert, encodeEvent, renderEventJson } from '@stinger/events';
import { RecordRejectedError, type ConsumedRecord } from '@stinger/kafka';
import { createLogger } from '@stinger/log';
import { sampleEvent } from '@stinger/testing';
import { createDetector } from './index.ts';
import { rulesOf } from './test-rules.ts';

const POLICY = `
apiVersion: stinger.io/v1alpha1
kind: TracingPolicy
metadata: { name: p }
spec:
  rules:
    - { name: shadow, event: file, match: { path: { equal: [/etc/shadow] } }, action: audit }
`;

const record = (value: Buffer, offset = 0n): ConsumedRecord => ({ topic: 'stinger.events', partition: 0, offset, key: Buffer.from('node-a'), value, headers: {}, timestampMs: 0 });

test('the live detector matches on summaries and publishes alerts carrying the whole event', () => {
  const detector = createDetector({ rules: rulesOf(POLICY), alertsTopic: 'stinger.alerts', logger: createLogger({ name: 'test', level: 'silent' }), readRange: async () => [] });
  const event = sampleEvent({
    kind: 'file',
    process: { args: ['/etc/shadow'], cwd: '/root', exec_id: 'node-a:42:7' },
    payload: { group: 'file', op: 'open', path: '/etc/shadow', path_as_given: '/etc/shadow', new_path: null, flags: 0, mode: null, result: 3, reached_by: null, io: null },
  });
  const [output] = detector.transform(record(encodeEvent(event)));
  assert.ok(output, 'an alert');
  const alert = decodeAlert(output.value!);
  assert.equal(alert.rule, 'shadow');
  assert.deepEqual(renderEventJson(alert.event), renderEventJson(event), 'fields detection skips (args, cwd, exec id, enrichment) are in the published alert');
  assert.throws(() => detector.transform(record(Buffer.from('not avro'), 1n)), RecordRejectedError, 'undecodable: rejected, for the dead-letter topic');
});

test('a batch that did not commit comes again: after resetPartition it raises its alert again, without it the grouping swallows it', async () => {
  const file = (offset: bigint) => {
    const event = sampleEvent({
      kind: 'file',
      time: 1_000_000_000n + offset,
      process: { pid: 40 + Number(offset) },
      payload: { group: 'file', op: 'open', path: '/etc/shadow', path_as_given: '/etc/shadow', new_path: null, flags: 0, mode: null, result: 3, reached_by: null, io: null },
    });
    return record(encodeEvent(event), offset);
  };
  const committed: ConsumedRecord[] = [];
  const detectorFor = () => createDetector({ rules: rulesOf(POLICY), alertsTopic: 'stinger.alerts', logger: createLogger({ name: 'test', level: 'silent' }), readRange: async () => committed });
  const batch = [file(0n)];
  for (const reset of [true, false]) {
    const detector = detectorFor();
    await detector.prepareBatch(batch);
    assert.equal(batch.flatMap((r) => detector.transform(r)).length, 1, 'the first attempt alerts');
    // Its transaction aborted: the same batch comes again.
    if (reset) detector.resetPartition(0);
    await detector.prepareBatch(batch);
    const again = batch.flatMap((r) => detector.transform(r)).length;
    assert.equal(again, reset ? 1 : 0, reset ? 'rebuilt from the committed input, the retry alerts again' : 'kept, the retry is a pending count of the open group');
  }
});
