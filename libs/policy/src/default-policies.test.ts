import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { defaultPolicies, type PolicySource } from './default-policies.ts';
import { PolicyValidationError } from './errors.ts';
import { parsePolicies } from './parse-policies.ts';

/** The pack as the repository ships it (the same files `stinger policy apply --defaults` reads). */
const PACK_DIR = new URL('../../../k8s/policies/', import.meta.url);
const shipped = (): PolicySource[] =>
  readdirSync(PACK_DIR)
    .filter((name) => name.endsWith('.yaml'))
    .sort()
    .map((name) => ({ source: name, text: readFileSync(new URL(name, PACK_DIR), 'utf8') }));

const policy = (name: string, options: { mode?: string; tags?: string; path?: string } = {}): string => `
apiVersion: stinger.io/v1alpha1
kind: TracingPolicy
metadata: { name: ${name} }
spec:
  mode: ${options.mode ?? 'monitor'}
  rules:
    - name: r
      event: file
      match: { path: { equal: ["${options.path ?? '/etc/shadow'}"] } }
      action: audit
      tags: ${options.tags ?? '[T1003.008]'}
`;

function issuesOf(sources: readonly PolicySource[]): string[] {
  try {
    defaultPolicies(sources);
  } catch (error) {
    assert.ok(error instanceof PolicyValidationError);
    return error.issues.map((issue) => `${issue.source ?? ''} ${issue.path}: ${issue.message}`);
  }
  return [];
}

describe('the shipped default pack', () => {
  test('every file validates without errors or warnings, in monitor mode, every rule tagged with an ATT&CK id', () => {
    for (const source of shipped()) {
      const parsed = parsePolicies(source.text, { source: source.source });
      assert.deepEqual(parsed.errors, [], source.source);
      assert.deepEqual(parsed.warnings, [], source.source);
    }
    const policies = defaultPolicies(shipped());
    const rules = policies.flatMap((p) => p.spec.rules);
    assert.ok(rules.length >= 12, `${rules.length} rules`);
    assert.ok(policies.every((p) => p.spec.mode === 'monitor'));
    assert.deepEqual(
      policies.map((p) => p.metadata.name),
      ['default-attack-chains', 'default-container-activity', 'default-credential-access', 'default-egress', 'default-process-tree', 'default-system-integrity'],
    );
    assert.deepEqual(
      policies.filter((p) => p.spec.rego !== null).map((p) => [p.metadata.name, p.spec.rego?.action, p.spec.selector.host]),
      [['default-process-tree', 'audit', false]],
      'the Rego examples only alert, in pods',
    );
  });
});

describe('defaultPolicies', () => {
  test('refuses a policy in enforce mode, a rule without an ATT&CK id, a normalised path and a policy defined twice, naming each', () => {
    const issues = issuesOf([
      { source: 'a.yaml', text: policy('a', { mode: 'enforce' }) },
      { source: 'b.yaml', text: policy('b', { tags: '[credentials]' }) },
      { source: 'c.yaml', text: policy('c', { path: '/etc//shadow' }) },
      { source: 'd.yaml', text: policy('a') },
    ]);
    assert.equal(issues.length, 4, issues.join('\n'));
    assert.ok(issues.some((i) => /^c\.yaml spec\.rules\[0\]\.match\.path\.equal\[0\]: .*the default pack must be written as it is meant\)$/.test(i)), issues.join('\n'));
    assert.ok(issues.includes('a.yaml spec.mode: the default pack ships in monitor mode, not enforce'), issues.join('\n'));
    assert.ok(issues.includes('b.yaml spec.rules[0].tags: rule "r" names no MITRE ATT&CK technique id (e.g. T1059.004)'), issues.join('\n'));
    assert.ok(issues.includes('d.yaml metadata.name: policy "a" is already defined in a.yaml'), issues.join('\n'));
  });

  test('refuses a Rego module whose alerts carry no ATT&CK id, naming the module line', () => {
    const rego = (tags: string) => `
apiVersion: stinger.io/v1alpha1
kind: TracingPolicy
metadata: { name: r }
spec:
  mode: monitor
  rego:
    events: [exec]
    entrypoint: stinger/alerts
    module: |
      package stinger

      alerts contains {"rule": "a", "message": "m", ${tags}} if { input.event.process.pid == 1 }
`;
    assert.deepEqual(issuesOf([{ source: 'r.yaml', text: rego('"tags": ["T1059"]') }]), []);
    assert.deepEqual(issuesOf([{ source: 'r.yaml', text: rego('"tags": ["shell"]') }]), ['r.yaml spec.rego.module: line 3: "tags": ["shell"] names no MITRE ATT&CK technique id (e.g. "T1059.004")']);
    assert.deepEqual(issuesOf([{ source: 'r.yaml', text: rego('"severity": "low"') }]), ['r.yaml spec.rego.module: the module writes no "tags": [...] with a MITRE ATT&CK technique id (e.g. "T1059.004")']);
  });

  test('refuses an empty pack and an invalid file, and returns the policies of a valid pack in order', () => {
    assert.deepEqual(issuesOf([]), [' : the default rule pack has no policy files']);
    assert.equal(issuesOf([{ source: 'x.yaml', text: 'kind: [' }]).length > 0, true);
    const policies = defaultPolicies([
      { source: 'b.yaml', text: policy('b') },
      { source: 'a.yaml', text: policy('a', { tags: '[credentials, T1003]' }) },
    ]);
    assert.deepEqual(
      policies.map((p) => p.metadata.name),
      ['b', 'a'],
    );
  });
});
