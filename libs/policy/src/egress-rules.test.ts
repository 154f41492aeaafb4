// Rules on egress events (issue 17): the name fields dnsName, serverName and httpHost are accepted for event egress
// only, normalised as the agent writes names (lower case, no trailing dot), and compiled for the detector (the kernel
// reads the names but decides nothing on them).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compilePolicy } from './compile-policy.ts';
import { PolicyValidationError } from './errors.ts';
import { matchFieldsOf } from './match-fields.ts';
import { validatePolicy } from './validate-policy.ts';

const policyWith = (rule: Record<string, unknown>) => ({
  apiVersion: 'stinger.io/v1alpha1',
  kind: 'TracingPolicy',
  metadata: { name: 'egress-names' },
  spec: { rules: [{ name: 'r', action: 'audit', tags: ['T1496'], ...rule }] },
});

function problems(value: unknown): string[] {
  try {
    validatePolicy(value);
  } catch (error) {
    assert.ok(error instanceof PolicyValidationError);
    return error.issues.map((issue) => `${issue.path}: ${issue.message}`);
  }
  return [];
}

test('egress takes dnsName, serverName, httpHost, daddr, dport and the process fields', () => {
  assert.deepEqual(matchFieldsOf('egress'), ['binary', 'parentBinary', 'uid', 'daddr', 'dport', 'dnsName', 'serverName', 'httpHost']);
});

test('names are lower-cased and lose a trailing dot (equal, suffix); prefixes only lower-cased', () => {
  const validated = (dnsName: Record<string, string[]>) => validatePolicy(policyWith({ event: 'egress', match: { dnsName } })).policy.spec.rules[0]?.match.dnsName;
  assert.deepEqual(validated({ equal: ['Pool.Example.', 'pool.example'] }), { equal: ['pool.example'], prefix: [], suffix: [] });
  assert.deepEqual(validated({ suffix: ['.ONION', '.onion'] }), { equal: [], prefix: [], suffix: ['.onion'] });
  assert.deepEqual(validated({ prefix: ['XMR.'] }), { equal: [], prefix: ['xmr.'], suffix: [] });
});

test('a name field on another event is refused, naming the fields that event takes', () => {
  const found = problems(policyWith({ event: 'connect', match: { serverName: { equal: ['a.example'] } } }));
  assert.equal(found.length, 1);
  assert.match(found[0] ?? '', /spec\.rules\[0\]\.match\.serverName: not a match field of event "connect" \(allowed: .*daddr, dport, sport\)/);
});

test('an egress rule compiles to a pipeline rule with no kernel entry and no watch, saying why', () => {
  const { policy } = validatePolicy(policyWith({ event: 'egress', action: 'kill', match: { serverName: { suffix: ['.pool.example'] } } }));
  const result = compilePolicy(policy);
  assert.deepEqual(result.kernelRules, []);
  assert.deepEqual(result.watchRules, []);
  assert.equal(result.pipelineRules.length, 1);
  assert.equal(result.pipelineRules[0]?.event, 'egress');
  assert.ok(result.pipelineRules[0]?.reasons.includes('no in-kernel enforcement for event egress'), String(result.pipelineRules[0]?.reasons));
  assert.deepEqual(result.compiled.rules[0]?.match, [{ field: 'serverName', operator: 'suffix', values: ['.pool.example'] }]);
});
