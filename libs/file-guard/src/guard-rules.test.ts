import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decide, targetCovers, type GuardRule, type OpenerFacts } from './guard-rules.ts';

const base: GuardRule = { ruleId: 7, policy: 'p', rule: 'no-shadow', scope: 'all', event: 'file', action: 'deny', targets: [], sha256: [], exclude: {} };
const path = '/etc/shadow';

function opener(facts: { binary?: string | null; uid?: number | null; inPod?: boolean | null; access?: { read: boolean; write: boolean } | null }): OpenerFacts {
  return { binary: () => facts.binary ?? null, uid: () => facts.uid ?? null, inPod: () => facts.inPod ?? null, access: () => facts.access ?? null };
}

test('scope: host-only rules spare pods, pod rules spare the host', () => {
  assert.equal(decide([{ rule: { ...base, scope: 'host' }, path }], opener({ inPod: true })).kind, 'allow');
  assert.equal(decide([{ rule: { ...base, scope: 'host' }, path }], opener({ inPod: false })).kind, 'deny');
  assert.equal(decide([{ rule: { ...base, scope: 'pods' }, path }], opener({ inPod: false })).kind, 'allow');
});

test('conditions and exclusions on binary, uid and access', () => {
  const sshdSpared: GuardRule = { ...base, exclude: { binary: { equal: ['/usr/sbin/sshd'], prefix: [], suffix: [] } } };
  assert.equal(decide([{ rule: sshdSpared, path }], opener({ binary: '/usr/sbin/sshd' })).kind, 'allow');
  assert.equal(decide([{ rule: sshdSpared, path }], opener({ binary: '/usr/bin/cat' })).kind, 'deny');
  const writesOnly: GuardRule = { ...base, access: ['write'] };
  assert.equal(decide([{ rule: writesOnly, path }], opener({ access: { read: true, write: false } })).kind, 'allow');
  assert.equal(decide([{ rule: writesOnly, path }], opener({ access: { read: true, write: true } })).kind, 'deny');
  const nonRoot: GuardRule = { ...base, uid: [{ low: 1000, high: 60000 }] };
  assert.equal(decide([{ rule: nonRoot, path }], opener({ uid: 0 })).kind, 'allow');
  assert.equal(decide([{ rule: nonRoot, path }], opener({ uid: 1000 })).kind, 'deny');
});

test('facts that cannot be read never spare a process (fail closed)', () => {
  const sshdSpared: GuardRule = { ...base, scope: 'host', exclude: { binary: { equal: ['/usr/sbin/sshd'], prefix: [], suffix: [] } }, uid: [{ low: 1000, high: 1000 }] };
  assert.equal(decide([{ rule: sshdSpared, path }], opener({})).kind, 'deny');
});

test('kill wins over deny, then the lowest rule id', () => {
  const deny: GuardRule = { ...base, ruleId: 1 };
  const kill: GuardRule = { ...base, ruleId: 9, action: 'kill', rule: 'kill-it' };
  const verdict = decide([{ rule: deny, path }, { rule: kill, path }], opener({}));
  assert.equal(verdict.kind === 'kill' && verdict.rule.rule, 'kill-it');
  const other: GuardRule = { ...base, ruleId: 3, rule: 'other' };
  const first = decide([{ rule: other, path }, { rule: deny, path }], opener({}));
  assert.equal(first.kind === 'deny' && first.rule.ruleId, 1);
});

test('targetCovers: equal, a directory prefix and the directory itself', () => {
  assert.ok(targetCovers({ kind: 'prefix', path: '/etc/secret/' }, '/etc/secret/a/b'));
  assert.ok(targetCovers({ kind: 'prefix', path: '/etc/secret/' }, '/etc/secret'));
  assert.ok(!targetCovers({ kind: 'prefix', path: '/etc/secret/' }, '/etc/secretary'));
  assert.ok(!targetCovers({ kind: 'equal', path: '/etc/shadow' }, '/etc/shadow-'));
});
