import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Event } from '@stinger/events';
import { sampleEvent, sampleRawEvent } from '@stinger/testing';
import { matchesAlert, matchesEvent, NO_EVENT_FILTER, type AlertFilter } from './record-filter.ts';

const pod = (namespace: string, name: string): NonNullable<Event['pod']> => ({
  namespace,
  name,
  uid: `${namespace}-${name}`,
  labels: {},
  annotations: {},
  workload: null,
  workload_kind: null,
  container: null,
});
const inPod = sampleEvent({ node: 'n1', kind: 'exec', process: { binary: '/usr/bin/curl' }, pod: pod('shop', 'web-7d9f8c-x2k4q') });
const onHost = sampleEvent({ node: 'n2', kind: 'exec', process: { binary: '/usr/bin/curl' } });

test('event filters: kind, node exact; binary substring; pod by name start or namespace/name; all must hold', () => {
  const only = (extra: Partial<typeof NO_EVENT_FILTER>) => [inPod, onHost].filter((e) => matchesEvent(e, { ...NO_EVENT_FILTER, ...extra })).map((e) => e.node);
  assert.deepEqual(only({}), ['n1', 'n2']);
  assert.deepEqual(only({ nodes: ['n2'] }), ['n2']);
  assert.deepEqual(only({ kinds: ['file'] }), []);
  assert.deepEqual(only({ binary: 'curl' }), ['n1', 'n2']);
  assert.deepEqual(only({ binary: 'wget' }), []);
  assert.deepEqual(only({ pods: ['web'] }), ['n1']);
  assert.deepEqual(only({ pods: ['shop/web-7d9f8c-x2k4q'] }), ['n1']);
  assert.deepEqual(only({ pods: ['other/web-7d9f8c-x2k4q'] }), []);
  assert.deepEqual(only({ namespaces: ['shop', 'dev'] }), ['n1']);
  assert.deepEqual(only({ namespaces: ['shop'], pods: ['api'] }), []);
  assert.equal(matchesEvent(sampleRawEvent({ node: 'n1', seq: 1n }), { ...NO_EVENT_FILTER, namespaces: ['shop'] }), false, 'a raw event has no pod');
});

test('alert filters: severity and policy exact, then the event filters on the alert\'s event', () => {
  const alert = { severity: 'high', policy: 'p', event: inPod } as unknown as Parameters<typeof matchesAlert>[0];
  const filter = (extra: Partial<AlertFilter>): AlertFilter => ({ ...NO_EVENT_FILTER, severities: [], policies: [], ...extra });
  assert.equal(matchesAlert(alert, filter({ severities: ['high', 'critical'] })), true);
  assert.equal(matchesAlert(alert, filter({ severities: ['low'] })), false);
  assert.equal(matchesAlert(alert, filter({ policies: ['q'] })), false);
  assert.equal(matchesAlert(alert, filter({ policies: ['p'], namespaces: ['shop'] })), true);
  assert.equal(matchesAlert(alert, filter({ nodes: ['n2'] })), false);
});
