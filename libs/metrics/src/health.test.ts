import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deferredCheck, evaluateHealth, type HealthCheck } from './health.ts';

const ok: HealthCheck = { live: true, ready: true, detail: {} };

test('evaluateHealth: ready and live only when every check is; a throwing check is unready but live', () => {
  assert.deepEqual(evaluateHealth({}), { live: true, ready: true, checks: {} });
  const starting = evaluateHealth({ a: () => ok, b: () => ({ live: true, ready: false, detail: { joined: false } }) });
  assert.equal(starting.ready, false);
  assert.equal(starting.live, true);
  assert.deepEqual(starting.checks['b']?.detail, { joined: false });
  assert.equal(evaluateHealth({ a: () => ok, b: () => ({ live: false, ready: true, detail: {} }) }).live, false);
  const broken = evaluateHealth({
    a: () => {
      throw new Error('boom');
    },
  });
  assert.deepEqual(broken, { live: true, ready: false, checks: { a: { live: true, ready: false, detail: { error: 'boom' } } } });
});

test('deferredCheck: not started (unready, live) until set', () => {
  const deferred = deferredCheck();
  assert.deepEqual(deferred.check(), { live: true, ready: false, detail: { started: false } });
  deferred.set(() => ok);
  assert.equal(deferred.check(), ok);
});
