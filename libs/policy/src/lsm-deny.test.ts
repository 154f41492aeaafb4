import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IdentityRule } from './identity-rules.ts';
import { lsmDenyRulesOf } from './lsm-deny.ts';

const fileDeny: IdentityRule = {
  ruleId: 7,
  policy: 'p',
  rule: 'no-secrets',
  scope: 'host',
  event: 'file',
  action: 'deny',
  targets: [
    { kind: 'equal', path: '/etc/shadow' },
    { kind: 'prefix', path: '/srv/secret/' },
  ],
  sha256: [],
  exclude: {},
};

test('a deny rule with only paths becomes one kernel deny entry per path, keeping its rule id and scope', () => {
  assert.deepEqual(lsmDenyRulesOf(fileDeny), [
    { ruleId: 7, policy: 'p', rule: 'no-secrets', scope: 'host', action: 'deny', event: 'file', match: { kind: 'equal', path: '/etc/shadow' }, ops: ['open'] },
    { ruleId: 7, policy: 'p', rule: 'no-secrets', scope: 'host', action: 'deny', event: 'file', match: { kind: 'prefix', path: '/srv/secret/' }, ops: ['open'] },
  ]);
});

test('a rule the hook cannot decide stays with the file guard: each condition, an exec rule, a path too long, a kill rule', () => {
  const cases: readonly [string, IdentityRule][] = [
    ['binary', { ...fileDeny, binary: { equal: ['/usr/bin/cat'], prefix: [], suffix: [] } }],
    ['uid', { ...fileDeny, uid: [{ low: 1000, high: 1000 }] }],
    ['access', { ...fileDeny, access: ['write'] }],
    ['exclude path', { ...fileDeny, exclude: { path: { equal: ['/etc/shadow'], prefix: [], suffix: [] } } }],
    ['exclude uid', { ...fileDeny, exclude: { uid: [{ low: 0, high: 0 }] } }],
    ['an exec rule (the guard refuses execs first; the exec tracepoint would report the entry as an audit)', { ...fileDeny, event: 'exec' }],
    ['no path', { ...fileDeny, targets: [] }],
    ['a path of 256 bytes', { ...fileDeny, targets: [{ kind: 'equal', path: `/${'x'.repeat(255)}` }] }],
    ['kill', { ...fileDeny, action: 'kill' }],
  ];
  for (const [name, rule] of cases) assert.equal(lsmDenyRulesOf(rule), null, name);
  assert.notEqual(lsmDenyRulesOf({ ...fileDeny, targets: [{ kind: 'equal', path: `/${'x'.repeat(254)}` }] }), null, 'a path of 255 bytes fits');
});
