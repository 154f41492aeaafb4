import { test } from 'node:test';
import assert from 'node:assert/strict';
import { judgePolicyObject, objectPolicyKey, orphanedKeys, ruleCountsOfRecord, sameCompiledPolicy, type PolicyObject } from './reconcile.ts';

/** A TracingPolicy object as the API server returns it (defaults filled in, server metadata). */
function object(overrides: { generation?: number; uid?: string; rules?: unknown[]; mode?: string; namespace?: string } = {}): PolicyObject {
  return {
    apiVersion: 'stinger.io/v1alpha1',
    kind: overrides.namespace ? 'TracingPolicyNamespaced' : 'TracingPolicy',
    metadata: {
      name: 'deny-tool',
      ...(overrides.namespace ? { namespace: overrides.namespace } : {}),
      uid: overrides.uid ?? 'uid-1',
      generation: overrides.generation ?? 1,
      resourceVersion: '42',
      creationTimestamp: '2026-01-01T00:00:00Z',
    } as PolicyObject['metadata'],
    spec: {
      mode: overrides.mode ?? 'enforce',
      rules: overrides.rules ?? [{ name: 'no-tool', event: 'exec', match: { binary: { equal: ['/usr/bin/tool'] } }, action: 'kill-in-kernel', severity: 'high' }],
    },
  };
}

test('objectPolicyKey: name, or namespace/name', () => {
  assert.equal(objectPolicyKey(object()), 'deny-tool');
  assert.equal(objectPolicyKey(object({ namespace: 'shop' })), 'shop/deny-tool');
});

test('a new valid object is published at metadata.generation, with its uid and rule counts', () => {
  const verdict = judgePolicyObject(object({ generation: 3 }), undefined);
  assert.equal(verdict.kind, 'valid');
  assert.ok(verdict.kind === 'valid');
  assert.equal(verdict.publish, true);
  assert.equal(verdict.result.compiled.generation, 3n);
  assert.equal(verdict.result.compiled.uid, 'uid-1');
  assert.equal(verdict.result.kernelRules.length, 1);
});

test('the same object again (restart, status change) publishes nothing and keeps the record in force', () => {
  const first = judgePolicyObject(object({ generation: 2 }), undefined);
  assert.ok(first.kind === 'valid');
  const again = judgePolicyObject({ ...object({ generation: 2 }), status: { observedGeneration: 2 } }, first.result.compiled);
  assert.ok(again.kind === 'valid');
  assert.equal(again.publish, false);
  assert.deepEqual(again.result.compiled, first.result.compiled, 'the record in force, compile time included');
});

test('a changed spec (monitor ↔ enforce, rules) publishes the new generation', () => {
  const first = judgePolicyObject(object({ generation: 1 }), undefined);
  assert.ok(first.kind === 'valid');
  const monitor = judgePolicyObject(object({ generation: 2, mode: 'monitor' }), first.result.compiled);
  assert.ok(monitor.kind === 'valid' && monitor.publish);
  assert.equal(monitor.result.compiled.generation, 2n);
  assert.equal(monitor.result.compiled.mode, 'monitor');
});

test('a re-created object (new uid, generation 1) is published past the generation in force', () => {
  const old = judgePolicyObject(object({ generation: 5, uid: 'old' }), undefined);
  assert.ok(old.kind === 'valid');
  const recreated = judgePolicyObject(object({ generation: 1, uid: 'new' }), old.result.compiled);
  assert.ok(recreated.kind === 'valid' && recreated.publish, 'a new uid is a new policy even with the same rules');
  assert.equal(recreated.result.compiled.generation, 6n);
  assert.equal(recreated.result.compiled.uid, 'new');
});

test('an invalid object is refused field by field, whatever is in force', () => {
  const verdict = judgePolicyObject(
    object({
      generation: 4,
      rules: [
        { name: 'bad-path', event: 'file', match: { path: { prefix: ['etc/'] } }, action: 'audit' },
        { name: 'bad-field', event: 'exec', match: { colour: { equal: ['red'] } }, action: 'audit' },
      ],
    }),
    undefined,
  );
  assert.ok(verdict.kind === 'invalid');
  assert.equal(verdict.generation, 4);
  const fields = verdict.errors.map((e) => e.field);
  assert.ok(fields.some((f) => f.startsWith('spec.rules[0].match.path')), fields.join(', '));
  assert.ok(fields.includes('spec.rules[1].match.colour'), fields.join(', '));
});

test('sameCompiledPolicy ignores generation and compile time, not uid', () => {
  const a = judgePolicyObject(object({ generation: 1 }), undefined);
  const b = judgePolicyObject(object({ generation: 9 }), undefined);
  const c = judgePolicyObject(object({ generation: 1, uid: 'other' }), undefined);
  assert.ok(a.kind === 'valid' && b.kind === 'valid' && c.kind === 'valid');
  assert.equal(sameCompiledPolicy(a.result.compiled, b.result.compiled), true);
  assert.equal(sameCompiledPolicy(a.result.compiled, c.result.compiled), false);
});

test('ruleCountsOfRecord compiles a record again; orphanedKeys are the keys in force without an object', () => {
  const verdict = judgePolicyObject(object(), undefined);
  assert.ok(verdict.kind === 'valid');
  assert.deepEqual(ruleCountsOfRecord(verdict.result.compiled), { total: 1, kernel: 1, pipeline: 0 });
  assert.deepEqual(orphanedKeys(['b', 'a', 'shop/c'], new Set(['a'])), ['b', 'shop/c']);
});
