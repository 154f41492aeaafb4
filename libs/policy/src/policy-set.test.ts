import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CompiledPolicy } from '@stinger/events';
import { compilePolicy, type KernelRule } from './compile-policy.ts';
import { PolicyValidationError } from './errors.ts';
import { diffKernelRules, PolicySet } from './policy-set.ts';
import type { TracingPolicy } from './policy-types.ts';
import { ruleIdOf } from './rule-ids.ts';
import { validatePolicy } from './validate-policy.ts';

const policy = (name: string, rules: unknown[], extra: Record<string, unknown> = {}): TracingPolicy =>
  validatePolicy({ apiVersion: 'stinger.io/v1alpha1', kind: 'TracingPolicy', metadata: { name, ...extra }, spec: { rules } }).policy;
const execRule = (name: string, paths: string[], action = 'kill-in-kernel'): unknown => ({ name, event: 'exec', match: { binary: { equal: paths } }, action });
/** `rule path action` per exec entry, for readable diffs. */
const show = (rules: readonly KernelRule[]): string[] => rules.map((r) => (r.event === 'exec' ? `${r.rule} ${r.match.path} ${r.action}` : `${r.rule} ${r.event}`));

function clock(): () => bigint {
  let now = 1_000n;
  return () => (now += 1n);
}

describe('PolicySet', () => {
  test('apply adds a policy at generation 1 with all its kernel rules to add', () => {
    const set = new PolicySet({ clock: clock() });
    const change = set.apply(policy('p', [execRule('nc', ['/bin/nc', '/usr/bin/nc'])]));
    assert.equal(change.change, 'added');
    assert.equal(change.key, 'p');
    assert.equal(change.compiled?.generation, 1n);
    assert.equal(change.compiled?.compiled_at_ns, 1_001n);
    assert.deepEqual(show(change.kernel.add), ['nc /bin/nc kill', 'nc /usr/bin/nc kill']);
    assert.deepEqual(change.kernel.remove, []);
    assert.deepEqual(set.keys(), ['p']);
  });

  test('replacing a policy bumps the generation and diffs the kernel entries', () => {
    const set = new PolicySet({ clock: clock() });
    set.apply(policy('p', [execRule('nc', ['/bin/nc', '/usr/bin/nc']), execRule('curl', ['/usr/bin/curl'], 'audit')]));
    const change = set.apply(policy('p', [execRule('nc', ['/bin/nc', '/usr/bin/ncat']), execRule('curl', ['/usr/bin/curl'], 'kill-in-kernel')]));
    assert.equal(change.change, 'replaced');
    assert.equal(change.compiled?.generation, 2n);
    assert.deepEqual(show(change.kernel.add), ['nc /usr/bin/ncat kill', 'curl /usr/bin/curl kill']);
    assert.deepEqual(show(change.kernel.remove), ['nc /usr/bin/nc kill', 'curl /usr/bin/curl audit']);
    assert.deepEqual(show(set.kernelRules()), ['nc /bin/nc kill', 'nc /usr/bin/ncat kill', 'curl /usr/bin/curl kill']);
    // A rule that stays keeps its id, so its unchanged entry is neither removed nor added.
    assert.equal(set.get('p')?.kernelRules[0]?.ruleId, ruleIdOf('p', 'nc'));
  });

  test('re-applying an identical policy changes nothing, not even the generation', () => {
    const set = new PolicySet({ clock: clock() });
    const p = policy('p', [execRule('nc', ['/bin/nc'])]);
    set.apply(p);
    const change = set.apply(structuredClone(p));
    assert.equal(change.change, 'unchanged');
    assert.equal(change.compiled?.generation, 1n);
    assert.deepEqual(change.kernel, { add: [], remove: [] });
  });

  test('a higher metadata.generation from the API server wins over the counter', () => {
    const set = new PolicySet({ clock: clock() });
    assert.equal(set.apply(policy('p', [execRule('nc', ['/bin/nc'])], { generation: 5 })).compiled?.generation, 5n);
    assert.equal(set.apply(policy('p', [execRule('nc', ['/bin/ncat'])], { generation: 5 })).compiled?.generation, 6n);
  });

  test('a rule moving to the pipeline leaves the kernel; its pipeline rule is reported', () => {
    const set = new PolicySet({ clock: clock() });
    set.apply(policy('p', [execRule('nc', ['/bin/nc'])]));
    const change = set.apply(policy('p', [{ name: 'nc', event: 'exec', match: { binary: { suffix: ['/nc'] } }, action: 'kill-in-kernel' }]));
    assert.deepEqual(change.kernel.add, []);
    assert.deepEqual(show(change.kernel.remove), ['nc /bin/nc kill']);
    assert.deepEqual(change.pipelineRules.map((r) => [r.rule, r.reasons]), [['nc', ['suffix match on binary']]]);
    assert.equal(change.reports.length, 1);
    assert.deepEqual(set.pipelineRules().map((r) => r.rule), ['nc']);
  });

  test('identity rules: each change carries the policy\'s, the set lists every policy\'s, a delete drops them', () => {
    const set = new PolicySet({ clock: clock() });
    const deny = { name: 'shadow', event: 'file', match: { path: { equal: ['/etc/shadow'] } }, action: 'deny' };
    const first = set.apply(policy('a', [deny]));
    assert.deepEqual(first.identityRules.map((r) => `${r.policy} ${r.rule} ${r.action}`), ['a shadow deny']);
    set.apply(policy('b', [execRule('nc', ['/usr/bin/nc']), execRule('later', ['/usr/bin/socat'], 'kill')]));
    assert.deepEqual(set.identityRules().map((r) => `${r.policy} ${r.rule} ${r.action}`), ['a shadow deny', 'b nc kill']);
    assert.deepEqual(set.apply(policy('a', [deny])).identityRules.map((r) => r.rule), ['shadow'], 'unchanged keeps them');
    assert.deepEqual(set.delete('a')?.identityRules, []);
    assert.deepEqual(set.identityRules().map((r) => r.rule), ['nc']);
  });

  test('delete removes the policy and all its kernel entries; deleting again is null', () => {
    const set = new PolicySet({ clock: clock() });
    set.apply(policy('p', [execRule('nc', ['/bin/nc'])]));
    set.apply(policy('q', [execRule('sh', ['/bin/sh'])]));
    const change = set.delete('p');
    assert.equal(change?.change, 'deleted');
    assert.equal(change?.compiled, null, 'publish a tombstone');
    assert.deepEqual(show(change?.kernel.remove ?? []), ['nc /bin/nc kill']);
    assert.deepEqual(set.keys(), ['q']);
    assert.deepEqual(show(set.kernelRules()), ['sh /bin/sh kill']);
    assert.equal(set.ruleIds.lookup(ruleIdOf('p', 'nc')), undefined, 'the id is free again');
    assert.equal(set.delete('p'), null);
  });

  test('two policies hashing a rule to the same id get distinct ids and the collision is reported', () => {
    const set = new PolicySet({ clock: clock() });
    set.apply(policy('p', [execRule('rule-356605', ['/bin/a'])]));
    const change = set.apply(policy('p2', [execRule('x', ['/bin/x'])]));
    assert.deepEqual(change.collisions, []);
    const colliding = set.apply(policy('p', [execRule('rule-356605', ['/bin/a']), execRule('rule-1152310', ['/bin/b'])]));
    assert.equal(colliding.collisions.length, 1);
    const ids = set.kernelRules().map((r) => r.ruleId);
    assert.equal(new Set(ids).size, ids.length);
  });
});

describe('PolicySet.applyCompiled', () => {
  /** The record a policy-controller would publish: compiled elsewhere, at this generation. */
  const published = (p: TracingPolicy, generation: bigint): CompiledPolicy => compilePolicy(p, { generation, compiledAtNs: 5_000n + generation }).compiled;

  test('adds a record from the topic keeping its generation and compiled_at_ns: the entry is the record', () => {
    const set = new PolicySet({ clock: clock() });
    const p = policy('p', [execRule('nc', ['/bin/nc', '/usr/bin/nc'])]);
    const record = published(p, 5n);
    const change = set.applyCompiled(record);
    assert.equal(change.change, 'added');
    assert.equal(change.key, 'p');
    assert.deepEqual(change.compiled, record);
    assert.deepEqual(change.kernel.add, compilePolicy(p).kernelRules);
    assert.deepEqual(set.get('p')?.compiled, record);
  });

  test('a newer record replaces at its own generation (not the set counter) and diffs the kernel entries', () => {
    const set = new PolicySet({ clock: clock() });
    set.applyCompiled(published(policy('p', [execRule('nc', ['/bin/nc'])]), 5n));
    const change = set.applyCompiled(published(policy('p', [execRule('nc', ['/bin/ncat'])]), 9n));
    assert.equal(change.change, 'replaced');
    assert.equal(change.compiled?.generation, 9n);
    assert.deepEqual(show(change.kernel.add), ['nc /bin/ncat kill']);
    assert.deepEqual(show(change.kernel.remove), ['nc /bin/nc kill']);
  });

  test('an older record is ignored and a re-read identical record changes nothing', () => {
    const set = new PolicySet({ clock: clock() });
    const current = published(policy('p', [execRule('nc', ['/bin/nc'])]), 5n);
    set.applyCompiled(current);
    const older = set.applyCompiled(published(policy('p', [execRule('nc', ['/bin/ncat'])]), 4n));
    assert.equal(older.change, 'unchanged');
    assert.deepEqual(older.compiled, current);
    assert.deepEqual(older.kernel, { add: [], remove: [] });
    assert.deepEqual(show(set.kernelRules()), ['nc /bin/nc kill']);
    const again = set.applyCompiled(structuredClone(current));
    assert.equal(again.change, 'unchanged');
    assert.deepEqual(again.kernel, { add: [], remove: [] });
  });

  test('a namespaced record goes by namespace/name, and its tombstone is delete(key)', () => {
    const set = new PolicySet({ clock: clock() });
    const namespaced = validatePolicy({
      apiVersion: 'stinger.io/v1alpha1',
      kind: 'TracingPolicyNamespaced',
      metadata: { name: 'p', namespace: 'payments' },
      spec: { rules: [execRule('nc', ['/bin/nc'])] },
    }).policy;
    const change = set.applyCompiled(published(namespaced, 2n));
    assert.equal(change.key, 'payments/p');
    assert.equal(set.get('payments/p')?.policy.kind, 'TracingPolicyNamespaced');
    assert.deepEqual(
      change.kernel.add.map((r) => r.pods),
      [{ labels: {}, namespaces: ['payments'] }],
      'a namespaced policy needs pod context: its only map entry is scoped to its namespace',
    );
    assert.deepEqual(change.pipelineRules.map((r) => r.rule), ['nc']);
    assert.equal(set.delete('payments/p')?.change, 'deleted');
    assert.equal(set.size, 0);
  });

  test('a record a TracingPolicy cannot express is refused and leaves the set as it was', () => {
    const set = new PolicySet({ clock: clock() });
    const record = published(policy('p', [execRule('nc', ['/bin/nc'])]), 1n);
    set.applyCompiled(record);
    const bad = structuredClone(record);
    bad.generation = 2n;
    const condition = bad.rules[0]?.match[0] ?? assert.fail('no condition');
    condition.field = 'daddr';
    assert.throws(
      () => set.applyCompiled(bad),
      (error: unknown) => error instanceof PolicyValidationError && error.issues.map((i) => i.path).join() === 'rules[0].match[0].field',
    );
    assert.deepEqual(set.get('p')?.compiled, record);
    assert.deepEqual(show(set.kernelRules()), ['nc /bin/nc kill']);
  });
});

describe('diffKernelRules', () => {
  test('is empty for equal sets and symmetric otherwise', () => {
    const set = new PolicySet();
    set.apply(policy('p', [execRule('a', ['/a', '/b'])]));
    const rules = set.kernelRules();
    assert.deepEqual(diffKernelRules(rules, [...rules].reverse()), { add: [], remove: [] });
    assert.deepEqual(diffKernelRules([], rules), { add: rules, remove: [] });
    assert.deepEqual(diffKernelRules(rules, []), { add: [], remove: rules });
  });
});
