import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IdentityRule } from './identity-rules.ts';
import { lsmDenyRuleMessage, lsmDenyRulesOf } from './lsm-deny.ts';

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

test('an exec deny rule with only binaries becomes one exec deny entry per binary, for bprm_check_security', () => {
  const execDeny: IdentityRule = { ...fileDeny, rule: 'no-tools', event: 'exec', targets: [{ kind: 'prefix', path: '/opt/tools/' }] };
  assert.deepEqual(lsmDenyRulesOf(execDeny), [
    { ruleId: 7, policy: 'p', rule: 'no-tools', scope: 'host', action: 'deny', event: 'exec', match: { kind: 'prefix', path: '/opt/tools/' } },
  ]);
  assert.match(lsmDenyRuleMessage(execDeny, null), /^no-tools: enforced in the kernel at bprm_check_security \(BPF LSM, the path the kernel resolved\): exec denied with EPERM; the file guard/);
  assert.match(lsmDenyRuleMessage(fileDeny, 'no fanotify'), /^no-secrets: enforced in the kernel at file_open .*: open denied with EPERM; a hard link .* \(file identity unavailable: no fanotify\)$/);
});

test('a rule the hook cannot decide stays with the file guard: each condition, a digest, a path too long, a kill rule', () => {
  const cases: readonly [string, IdentityRule][] = [
    ['binary', { ...fileDeny, binary: { equal: ['/usr/bin/cat'], prefix: [], suffix: [] } }],
    ['uid', { ...fileDeny, uid: [{ low: 1000, high: 1000 }] }],
    ['access', { ...fileDeny, access: ['write'] }],
    ['exclude path', { ...fileDeny, exclude: { path: { equal: ['/etc/shadow'], prefix: [], suffix: [] } } }],
    ['exclude uid', { ...fileDeny, exclude: { uid: [{ low: 0, high: 0 }] } }],
    ['an exec rule with a digest', { ...fileDeny, event: 'exec', sha256: ['ab'.repeat(32)] }],
    ['no path', { ...fileDeny, targets: [] }],
    ['a path of 256 bytes', { ...fileDeny, targets: [{ kind: 'equal', path: `/${'x'.repeat(255)}` }] }],
    ['kill', { ...fileDeny, action: 'kill' }],
  ];
  for (const [name, rule] of cases) assert.equal(lsmDenyRulesOf(rule), null, name);
  assert.notEqual(lsmDenyRulesOf({ ...fileDeny, targets: [{ kind: 'equal', path: `/${'x'.repeat(254)}` }] }), null, 'a path of 255 bytes fits');
});
