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
