import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PolicyStatus } from '@stinger/events';
import { NodeReports } from './node-reports.ts';
import { judgePolicyObject, type PolicyObject, type PolicyVerdict } from './reconcile.ts';
import { buildPolicyStatus, statusUnchanged, type PolicyStatusInput } from './status-builder.ts';

const NOW = new Date('2026-03-01T12:00:00.123Z');

function verdictOf(spec: unknown, generation = 2): PolicyVerdict {
  const object: PolicyObject = { apiVersion: 'stinger.io/v1alpha1', kind: 'TracingPolicy', metadata: { name: 'p', uid: 'u', generation }, spec };
  return judgePolicyObject(object, undefined);
}

const valid = verdictOf({ rules: [{ name: 'r', event: 'exec', match: { binary: { equal: ['/usr/bin/x'] } }, action: 'kill-in-kernel' }] });

function report(node: string, state: PolicyStatus['state'], generation = 2n): PolicyStatus {
  return { policy: 'p', generation, node, agent_id: `agent-${node}`, state, kernel_rules: 1, pipeline_rules: 0, messages: state === 'applied' ? [] : ['map full'], reported_at_ns: 1_772_366_400_000_000_000n };
}

function input(overrides: Partial<PolicyStatusInput>): PolicyStatusInput {
  return { verdict: valid, inForce: { generation: 2n, counts: { total: 1, kernel: 1, pipeline: 0 } }, publishError: null, reports: [], previous: undefined, now: NOW, ...overrides };
}

const condition = (status: ReturnType<typeof buildPolicyStatus>, type: string) => status.conditions.find((c) => c.type === type);

test('accepted and applied on every reporting node: counts, node states, published generation, rule counts', () => {
  const status = buildPolicyStatus(input({ reports: [report('b', 'applied'), report('a', 'applied')] }));
  assert.equal(status.observedGeneration, 2);
  assert.equal(status.publishedGeneration, 2);
  assert.deepEqual(status.rules, { total: 1, kernel: 1, pipeline: 0 });
  assert.deepEqual(status.nodes, { applied: 2, partial: 0, rejected: 0, pending: 0 });
  assert.deepEqual(status.nodeStatuses.map((n) => [n.node, n.state, n.generation]), [['a', 'applied', 2], ['b', 'applied', 2]]);
  assert.equal(status.nodeStatuses[0]?.reportedAt, '2026-03-01T12:00:00Z');
  assert.deepEqual(condition(status, 'Accepted'), { type: 'Accepted', status: 'True', reason: 'Valid', message: 'the spec is valid', lastTransitionTime: '2026-03-01T12:00:00Z', observedGeneration: 2 });
  assert.equal(condition(status, 'Applied')?.status, 'True');
  assert.equal(condition(status, 'Applied')?.message, 'generation 2 applied on 2 node(s)');
});

test('Applied: rejected beats partial beats pending; no reports is Unknown', () => {
  const applied = (reports: PolicyStatus[]) => condition(buildPolicyStatus(input({ reports })), 'Applied');
  assert.deepEqual([applied([])?.status, applied([])?.reason], ['Unknown', 'NoReports']);
  assert.deepEqual([applied([report('a', 'applied'), report('b', 'applied', 1n)])?.status, applied([report('a', 'applied'), report('b', 'applied', 1n)])?.reason], ['Unknown', 'Pending']);
  assert.equal(applied([report('a', 'partial'), report('b', 'applied', 1n)])?.reason, 'Partial');
  assert.equal(applied([report('a', 'partial'), report('b', 'rejected')])?.reason, 'Rejected');
  assert.match(applied([report('a', 'partial'), report('b', 'rejected')])?.message ?? '', /rejected on b/);
  const counts = buildPolicyStatus(input({ reports: [report('a', 'partial'), report('b', 'rejected'), report('c', 'applied', 1n)] })).nodes;
  assert.deepEqual(counts, { applied: 0, partial: 1, rejected: 1, pending: 1 });
});

test('an invalid spec: Accepted False with every field error, and what stays in force', () => {
  const invalid = verdictOf({ rules: [{ name: 'r', event: 'file', match: { path: { prefix: ['etc/'] } }, action: 'audit' }] }, 3);
  assert.ok(invalid.kind === 'invalid');
  const status = buildPolicyStatus(input({ verdict: invalid }));
  const accepted = condition(status, 'Accepted');
  assert.equal(accepted?.status, 'False');
  assert.equal(accepted?.reason, 'Invalid');
  assert.match(accepted?.message ?? '', /generation 2 stays in force: spec\.rules\[0\]\.match\.path/);
  assert.deepEqual(status.errors, invalid.errors);
  assert.equal(status.observedGeneration, 3);
  assert.equal(status.publishedGeneration, 2, 'the previous valid version is what agents hold');
  const never = buildPolicyStatus(input({ verdict: invalid, inForce: null }));
  assert.match(condition(never, 'Accepted')?.message ?? '', /nothing is in force/);
  assert.equal(condition(never, 'Applied')?.reason, 'NotPublished');
  assert.equal(never.publishedGeneration, undefined);
});

test('a failed publication shows in Applied', () => {
  const status = buildPolicyStatus(input({ inForce: null, publishError: 'no signing key at /k/signing.key' }));
  assert.deepEqual([condition(status, 'Applied')?.status, condition(status, 'Applied')?.reason], ['False', 'PublishFailed']);
});

test('lastTransitionTime moves only when a condition changes status, so an unchanged status is equal to what is shown', () => {
  const first = buildPolicyStatus(input({ reports: [report('a', 'applied')] }));
  const shown = JSON.parse(JSON.stringify(first)) as unknown;
  const later = buildPolicyStatus(input({ reports: [report('a', 'applied')], previous: shown, now: new Date('2026-03-01T13:00:00Z') }));
  assert.equal(statusUnchanged(later, shown), true);
  const rejected = buildPolicyStatus(input({ reports: [report('a', 'rejected')], previous: shown, now: new Date('2026-03-01T13:00:00Z') }));
  assert.equal(statusUnchanged(rejected, shown), false);
  assert.equal(condition(rejected, 'Applied')?.lastTransitionTime, '2026-03-01T13:00:00Z');
  assert.equal(condition(rejected, 'Accepted')?.lastTransitionTime, '2026-03-01T12:00:00Z');
});

test('NodeReports: by policy key from `<node>/<policy key>`, tombstones remove a node', () => {
  const reports = new NodeReports();
  assert.equal(reports.apply('n1/shop/p', { ...report('n1', 'applied'), policy: 'shop/p' }), 'shop/p');
  assert.equal(reports.apply('n2/shop/p', { ...report('n2', 'partial'), policy: 'shop/p' }), 'shop/p');
  assert.deepEqual(reports.of('shop/p').map((r) => r.node), ['n1', 'n2']);
  assert.equal(reports.apply('n1/shop/p', null), 'shop/p');
  assert.deepEqual(reports.of('shop/p').map((r) => r.node), ['n2']);
  assert.equal(reports.apply('no-slash', null), null);
});
