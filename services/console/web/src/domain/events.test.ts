import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AlertRow } from '@stinger/console-api';
import { applyEnforcement, kindGroup, orderedChoices, prependNewest, SEVERITIES, severityRank } from './events.ts';

test('each kind belongs to the group that colours it; unknown kinds are other', () => {
  assert.equal(kindGroup('exec'), 'process');
  assert.equal(kindGroup('file'), 'file');
  assert.equal(kindGroup('flow'), 'network');
  assert.equal(kindGroup('capset'), 'privilege');
  assert.equal(kindGroup('mount'), 'namespace');
  assert.equal(kindGroup('bpf'), 'kernel');
  assert.equal(kindGroup('teleport'), 'other');
});

test('severities are listed worst first and ranked', () => {
  assert.deepEqual(SEVERITIES, ['critical', 'high', 'medium', 'low', 'info']);
  assert.ok(severityRank('critical') > severityRank('high'));
  assert.equal(severityRank('unknown'), -1);
  assert.deepEqual(orderedChoices(['b', 'a'], ['z', 'a', 'c']), ['b', 'a', 'c', 'z']);
});

test('streamed rows are added newest first, once each, up to the limit', () => {
  const row = (id: string, time: number) => ({ id, time });
  const list = [row('b', 20), row('a', 10)];
  assert.deepEqual(prependNewest(list, [row('c', 30), row('b', 20), row('c', 30)], 10).map((r) => r.id), ['c', 'b', 'a']);
  assert.deepEqual(prependNewest(list, [row('d', 15)], 10).map((r) => r.id), ['b', 'd', 'a']);
  assert.deepEqual(prependNewest(list, [row('c', 30)], 2).map((r) => r.id), ['c', 'b']);
  assert.equal(prependNewest(list, [], 10).length, 2);
});

test('an enforcement message fills in its alert and no other', () => {
  const alert = (id: string): AlertRow => ({
    id,
    time: 1,
    severity: 'high',
    policy: 'p',
    rule: 'r',
    message: 'm',
    mode: 'enforce',
    action: 'kill',
    namespace: null,
    pod: null,
    node: 'n',
    binary: '/bin/cat',
    pid: 1,
    count: 1,
    tags: [],
    enforcement: null,
  });
  const updated = applyEnforcement([alert('a'), alert('b')], { alertId: 'b', outcome: 'killed', reason: null, time: 5 });
  assert.equal(updated[0]?.enforcement, null);
  assert.deepEqual(updated[1]?.enforcement, { outcome: 'killed', reason: null, time: 5 });
});
