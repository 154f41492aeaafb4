// NodePolicies with pod-scoped kernel entries (selector podSelector / namespaces): in the maps and reported as kernel
// rules only where the agent keeps pod scopes; elsewhere left to the pipeline, with the reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PolicyStatus } from '@stinger/events';
import { validatePolicy, type KernelRule } from '@stinger/policy';
import { KernelRuleSlots, type KernelMaps } from './kernel-rules.ts';
import { NodePolicies } from './node-policies.ts';

const policy = (labels: Record<string, string>) =>
  validatePolicy({
    apiVersion: 'stinger.io/v1alpha1',
    kind: 'TracingPolicy',
    metadata: { name: 'web-no-passwd' },
    spec: { selector: { podSelector: { matchLabels: labels } }, rules: [{ name: 'no-passwd', event: 'file', match: { path: { equal: ['/etc/passwd'] } }, action: 'kill-in-kernel' }] },
  }).policy;

function setup(podScopesUnavailable?: () => string | null) {
  const installed: KernelRule[] = [];
  const maps: KernelMaps = {
    install: (rule) => void installed.splice(0, installed.length, ...installed.filter((r) => JSON.stringify(r.event === 'file' && r.match) !== JSON.stringify(rule.event === 'file' && rule.match)), rule),
    uninstall: (rule) => void installed.splice(installed.findIndex((r) => r.ruleId === rule.ruleId), 1),
  };
  const reports: (PolicyStatus | null)[] = [];
  const policies = new NodePolicies({
    nodeName: 'n1',
    agentId: 'a1',
    slots: new KernelRuleSlots(maps),
    ...(podScopesUnavailable ? { podScopesUnavailable } : {}),
    onStatus: (_key, status) => reports.push(status),
    now: () => 1n,
  });
  return { policies, installed, reports };
}

test('with pod scopes: the pod-scoped kill entry holds the path, and the status counts it a kernel rule', () => {
  const { policies, installed, reports } = setup(() => null);
  policies.applyLocal(policy({ app: 'web' }));
  assert.deepEqual(
    installed.map((r) => [r.event, r.action, r.pods]),
    [['file', 'kill', { labels: { app: 'web' }, namespaces: [] }]],
    'the kill entry outranks the fallback\'s audit watch on the same path',
  );
  const status = reports.at(-1);
  assert.equal(status?.state, 'applied');
  assert.equal(status?.kernel_rules, 1);
  assert.equal(status?.pipeline_rules, 0);
  assert.match(status?.messages.join('\n') ?? '', /no-passwd: enforced in the kernel for this node's pods its selector names \(pod scope\)/);
});

test('a label change replaces the entry with the new selector; deleting the policy empties the maps', () => {
  const { policies, installed } = setup(() => null);
  policies.applyLocal(policy({ app: 'web' }));
  policies.applyLocal(policy({ app: 'api' }));
  assert.deepEqual(installed.map((r) => r.pods), [{ labels: { app: 'api' }, namespaces: [] }]);
  policies.remove('web-no-passwd');
  assert.deepEqual(installed, []);
});

test('without pod scopes: no pod-scoped entry, only the audit watch; the status says the pipeline enforces it and why not the kernel', () => {
  const { policies, installed, reports } = setup();
  policies.applyLocal(policy({ app: 'web' }));
  assert.deepEqual(installed.map((r) => [r.event, r.action, r.pods]), [['file', 'audit', undefined]]);
  const status = reports.at(-1);
  assert.equal(status?.kernel_rules, 0);
  assert.equal(status?.pipeline_rules, 1);
  assert.match(status?.messages.join('\n') ?? '', /no-passwd: enforced by the pipeline \(needs pod context \(selector: podSelector\); not in the kernel here: this agent does not watch its node's pods\)/);
});
