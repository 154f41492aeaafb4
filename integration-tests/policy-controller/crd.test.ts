/**
 * The generated CRDs (k8s/crds/, as committed) in a real kube-apiserver: both are accepted and served with the status
 * subresource and the printer columns; a valid TracingPolicy and TracingPolicyNamespaced are stored (defaults filled
 * in), and objects the schema forbids — an unknown action, a rule without a name, an unknown match field under strict
 * field validation — are refused with the field named.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runStinger } from '../helpers/cli.ts';
import { startTestCluster, type TestCluster } from '../helpers/dev-cluster.ts';
import { installPolicyCrds, kubeRequest } from '../helpers/policy-crds.ts';
import { scratchDir } from '../helpers/scratch.ts';

const TP = '/apis/stinger.io/v1alpha1/tracingpolicies';
const tpn = (namespace: string) => `/apis/stinger.io/v1alpha1/namespaces/${namespace}/tracingpoliciesnamespaced`;

function policy(name: string, rule: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return { apiVersion: 'stinger.io/v1alpha1', kind: 'TracingPolicy', metadata: { name }, spec: { rules: [rule], ...extra } };
}

const auditExec = { name: 'audit-tool', event: 'exec', match: { binary: { equal: ['/usr/bin/tool'] } }, action: 'audit' };

describe('the generated CRDs in a real API server', { timeout: 120_000 }, () => {
  let kube: TestCluster;

  before(async () => {
    kube = await startTestCluster();
  });

  after(async () => {
    await kube?.stop();
  });

  test('before the CRDs are installed, `stinger policy apply` says how to install them', () => {
    const file = join(scratchDir('stinger-crd-'), 'p.yaml');
    writeFileSync(file, 'apiVersion: stinger.io/v1alpha1\nkind: TracingPolicy\nmetadata: { name: early }\nspec:\n  rules: [{ name: r, event: exec, action: audit }]\n');
    const result = runStinger(['policy', 'apply', file], { KUBECONFIG: kube.kubeconfigPath });
    assert.equal(result.status, 1, result.stdout);
    assert.match(result.stderr, /the TracingPolicy custom resource definitions are not installed at https:\/\/127\.0\.0\.1:\d+ \(kubectl apply -f k8s\/crds\/\)/);
  });

  test('the API server accepts both generated CRDs and serves them', async () => {
    await installPolicyCrds(kube);
  });

  test('a valid TracingPolicy is stored with its defaults, and status is a subresource', async () => {
    const created = await kube.create(TP, policy('valid', auditExec));
    const spec = created['spec'] as { mode: string; rules: Array<{ severity: string }> };
    assert.equal(spec.mode, 'enforce', 'spec.mode defaults to enforce');
    assert.equal(spec.rules[0]?.severity, 'medium', 'rule severity defaults to medium');
    // A status sent with the object is dropped: only the status subresource writes it.
    const withStatus = await kube.create(TP, { ...policy('with-status', auditExec), status: { observedGeneration: 7 } });
    assert.equal(withStatus['status'], undefined);
    const patched = await kube.mergePatch(`${TP}/with-status/status`, { status: { observedGeneration: 1, nodes: { applied: 2, partial: 0, rejected: 0, pending: 0 } } });
    assert.deepEqual(patched['status'], { observedGeneration: 1, nodes: { applied: 2, partial: 0, rejected: 0, pending: 0 } });
  });

  test('the printer columns: mode, accepted, rules, applied/partial/rejected nodes, age', async () => {
    const answer = await kubeRequest(kube, { path: `${TP}/valid`, accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' });
    assert.equal(answer.status, 200, answer.body);
    const table = JSON.parse(answer.body) as { columnDefinitions: Array<{ name: string }> };
    assert.deepEqual(
      table.columnDefinitions.map((c) => c.name),
      ['Name', 'Mode', 'Accepted', 'Rules', 'Applied', 'Partial', 'Rejected', 'Age'],
    );
  });

  test('a TracingPolicyNamespaced lives in its namespace', async () => {
    await kube.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } });
    const created = await kube.create(tpn('shop'), { ...policy('scoped', auditExec), kind: 'TracingPolicyNamespaced' });
    assert.equal((created.metadata as { namespace?: string }).namespace, 'shop');
  });

  test('the schema refuses an unknown action, a rule without a name and (strict) an unknown match field, naming the field', async () => {
    const refusals: Array<[string, unknown, RegExp]> = [
      ['unknown action', policy('bad-action', { ...auditExec, action: 'explode' }), /spec\.rules\[0\]\.action: Unsupported value: "explode"/],
      ['missing name', policy('no-name', { event: 'exec', action: 'audit' }), /spec\.rules\[0\]\.name: Required value/],
      ['no rules and no Rego module', policy('no-rules', auditExec, { rules: [] }), /spec: Invalid value: .*needs at least one rule in spec\.rules, or spec\.rego/],
      ['unknown mode', policy('bad-mode', auditExec, { mode: 'sometimes' }), /spec\.mode: Unsupported value: "sometimes"/],
    ];
    for (const [what, body, expected] of refusals) {
      const answer = await kubeRequest(kube, { method: 'POST', path: TP, body });
      assert.equal(answer.status, 422, `${what}: ${answer.body}`);
      assert.match((JSON.parse(answer.body) as { message: string }).message, expected, what);
    }
    const strict = await kubeRequest(kube, {
      method: 'POST',
      path: `${TP}?fieldValidation=Strict`,
      body: policy('unknown-field', { ...auditExec, match: { binary: { equal: ['/x'] }, colour: { equal: ['red'] } } }),
    });
    assert.equal(strict.status, 400, strict.body);
    assert.match((JSON.parse(strict.body) as { message: string }).message, /unknown field "spec\.rules\[0\]\.match\.colour"/);
    const stored = await kubeRequest(kube, { path: `${TP}/unknown-field` });
    assert.equal(stored.status, 404, 'nothing was stored');
  });
});
