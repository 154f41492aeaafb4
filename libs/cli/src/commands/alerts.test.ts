import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildAlert, DetectionRules } from '@stinger/detection';
import type { Enforcement } from '@stinger/events';
import { compilePolicy, parsePolicies } from '@stinger/policy';
import { sampleEvent } from '@stinger/testing';
import { AlertJoiner } from './alerts.ts';

const rules = new DetectionRules();
const [policy] = parsePolicies('apiVersion: stinger.io/v1alpha1\nkind: TracingPolicy\nmetadata: { name: p }\nspec:\n  rules: [{ name: r, event: exec, action: kill }]\n', { source: 't' }).policies;
rules.set('p', compilePolicy(policy!).compiled);
const alert = (id: string) => ({ ...buildAlert({ rule: rules.find('p', 'r')!, event: sampleEvent(), related: [], count: 1, firstSeenNs: null, groupKey: null, nowNs: 1n }), id });
const outcome = (alertId: string): Enforcement => ({
  alert_id: alertId,
  command_id: null,
  node: 'n',
  policy: 'p',
  rule: 'r',
  action: 'kill',
  outcome: 'killed',
  target: null,
  requested_at_ns: 1n,
  completed_at_ns: null,
  detail: null,
});

test('AlertJoiner: each alert printed once, with its outcome whichever comes first, or pending after the hold time', () => {
  const joiner = new AlertJoiner(1000);
  assert.deepEqual(joiner.alert(alert('a'), 0), []);
  assert.deepEqual(joiner.enforcement(outcome('a')).map(([a, e]) => [a.id, e?.outcome]), [['a', 'killed']]);
  assert.deepEqual(joiner.enforcement(outcome('b')), []);
  assert.deepEqual(joiner.alert(alert('b'), 0).map(([a, e]) => [a.id, e?.outcome]), [['b', 'killed']]);
  assert.deepEqual(joiner.alert(alert('b'), 0), [], 'a redelivered alert is not printed again');
  joiner.alert(alert('c'), 0);
  assert.deepEqual(joiner.due(999), []);
  assert.deepEqual(joiner.due(1000).map(([a, e]) => [a.id, e]), [['c', null]]);
  assert.deepEqual(joiner.enforcement(outcome('c')), [], 'a late outcome of a printed alert is dropped');
});
