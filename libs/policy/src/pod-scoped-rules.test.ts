// compilePolicy's podScopedRules: pod selectors the kernel can apply (CompiledPolicyResult.podScopedRules).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compilePolicy, type KernelRule } from './compile-policy.ts';
import { PolicySet } from './policy-set.ts';
import type { TracingPolicy } from './policy-types.ts';
import { validatePolicy } from './validate-policy.ts';

const make = (spec: Record<string, unknown>, metadata: Record<string, unknown> = { name: 'p' }, kind = 'TracingPolicy'): TracingPolicy =>
  validatePolicy({ apiVersion: 'stinger.io/v1alpha1', kind, metadata, spec }).policy;

const passwd = { name: 'no-passwd', event: 'file', match: { path: { equal: ['/etc/passwd'] } }, action: 'kill-in-kernel' };

test('a kill-in-kernel file rule scoped by pod labels: pod-scoped kernel entries, the pipeline rule kept as the fallback', () => {
  const result = compilePolicy(make({ selector: { podSelector: { matchLabels: { app: 'web' } } }, rules: [passwd] }));
  assert.deepEqual(result.kernelRules, []);
  assert.equal(result.pipelineRules.length, 1, 'agents without pod scopes and the detector still enforce it');
  assert.equal(result.podScopedRules.length, 1);
  const [entry] = result.podScopedRules;
  assert.equal(entry?.event, 'file');
  assert.equal(entry?.action, 'kill');
  assert.deepEqual(entry?.pods, { labels: { app: 'web' }, namespaces: [] });
  assert.match(result.reports[0]?.message ?? '', /enforced in the kernel by agents that know their node's pods/);
});

test('namespaces, and a namespaced policy, scope by namespace; exec and deny-connect rules are pod-scoped too', () => {
  const byNamespace = compilePolicy(
    make({
      selector: { namespaces: ['shop'] },
      rules: [
        { name: 'no-nc', event: 'exec', match: { binary: { equal: ['/usr/bin/nc'] } }, action: 'kill-in-kernel' },
        { name: 'no-meta', event: 'connect', match: { daddr: ['169.254.169.254/32'] }, action: 'deny-connect' },
      ],
    }),
  );
  assert.deepEqual(
    byNamespace.podScopedRules.map((r) => [r.event, r.action, r.pods]),
    [
      ['exec', 'kill', { labels: {}, namespaces: ['shop'] }],
      ['connect', 'deny', { labels: {}, namespaces: ['shop'] }],
    ],
  );
  const namespaced = compilePolicy(make({ selector: { podSelector: { matchLabels: { app: 'web' } } }, rules: [passwd] }, { name: 'p', namespace: 'shop' }, 'TracingPolicyNamespaced'));
  assert.deepEqual(namespaced.podScopedRules[0]?.pods, { labels: { app: 'web' }, namespaces: ['shop'] });
});

test('what the kernel cannot scope stays with the pipeline alone: containerName, kill, audit, monitor, a suffix, a non-kernel event, no pod selector', () => {
  const none = (spec: Record<string, unknown>) => compilePolicy(make(spec)).podScopedRules;
  assert.deepEqual(none({ selector: { podSelector: { matchLabels: { app: 'web' } }, containerName: 'c' }, rules: [passwd] }), []);
  assert.deepEqual(none({ selector: { podSelector: { matchLabels: { app: 'web' } } }, rules: [{ ...passwd, action: 'kill' }] }), []);
  assert.deepEqual(none({ selector: { podSelector: { matchLabels: { app: 'web' } } }, rules: [{ ...passwd, action: 'audit' }] }), [], 'audit: the watches report it');
  assert.deepEqual(none({ mode: 'monitor', selector: { podSelector: { matchLabels: { app: 'web' } } }, rules: [passwd] }), [], 'monitor: audit');
  assert.deepEqual(none({ selector: { podSelector: { matchLabels: { app: 'web' } } }, rules: [{ ...passwd, match: { path: { suffix: ['passwd'] } } }] }), []);
  assert.deepEqual(none({ selector: { podSelector: { matchLabels: { app: 'web' } } }, rules: [{ name: 'm', event: 'module', match: {}, action: 'kill-in-kernel' }] }), []);
  const unscoped = compilePolicy(make({ rules: [passwd] }));
  assert.deepEqual(unscoped.podScopedRules, []);
  assert.equal(unscoped.kernelRules.length, 1, 'no pod selector: an ordinary kernel rule');
});

test('PolicySet diffs pod-scoped entries like other map entries: a label change replaces them (the unscoped audit watches of the fallback stay)', () => {
  const set = new PolicySet();
  const scoped = (rules: readonly KernelRule[]) => rules.filter((r) => r.pods !== undefined).map((r) => r.pods);
  const added = set.apply(make({ selector: { podSelector: { matchLabels: { app: 'web' } } }, rules: [passwd] }));
  assert.deepEqual(scoped(added.kernel.add), [{ labels: { app: 'web' }, namespaces: [] }]);
  const changed = set.apply(make({ selector: { podSelector: { matchLabels: { app: 'api' } } }, rules: [passwd] }));
  assert.deepEqual(scoped(changed.kernel.add), [{ labels: { app: 'api' }, namespaces: [] }]);
  assert.deepEqual(scoped(changed.kernel.remove), [{ labels: { app: 'web' }, namespaces: [] }]);
});
