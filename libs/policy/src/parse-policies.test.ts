import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { formatIssue } from './errors.ts';
import { parse } from 'yaml';
import { parsePolicies } from './parse-policies.ts';

const TESTDATA = new URL('../testdata/', import.meta.url);
const fixture = (name: string): string => readFileSync(new URL(name, TESTDATA), 'utf8');
/** 1-based line of the first occurrence of `needle`. */
const lineOf = (text: string, needle: string): number => text.slice(0, text.indexOf(needle)).split('\n').length;

describe('parsePolicies', () => {
  test('every example policy under testdata/ is valid, without warnings', () => {
    const files = readdirSync(TESTDATA).filter((f) => f.endsWith('.yaml'));
    assert.equal(files.length, 5);
    for (const file of files) {
      const result = parsePolicies(fixture(file), { source: file });
      assert.deepEqual(result.errors, [], file);
      assert.deepEqual(result.warnings, [], file);
      assert.equal(result.policies.length, 1, file);
      assert.equal(result.policies[0]?.metadata.name, file.replace(/\.yaml$/, ''));
    }
  });

  test('a file of several documents yields each policy, and names the document of each problem', () => {
    const text = [fixture('deny-binary.yaml'), fixture('no-new-netns.yaml'), 'apiVersion: stinger.io/v1alpha1\nkind: TracingPolicy\nmetadata: { name: bad }\nspec:\n  rules:\n    - { name: r, event: file, action: audit, match: { path: { equal: [relative] } } }\n'].join('---\n');
    const result = parsePolicies(`${text}---\n`, { source: 'all.yaml' });
    const line = lineOf(text, '[relative]');
    assert.deepEqual(
      result.policies.map((p) => p.metadata.name),
      ['deny-binary', 'no-new-netns'],
    );
    assert.deepEqual(result.errors, [
      { path: 'spec.rules[0].match.path.equal[0]', message: '"relative" is not an absolute path', source: 'all.yaml', document: 3, line, column: 71 },
    ]);
    assert.equal(formatIssue(result.errors[0] ?? assert.fail()), `all.yaml:${line}:71 (document 3): spec.rules[0].match.path.equal[0]: "relative" is not an absolute path`);
  });

  test('a single-document file does not number its document; issues carry the line of the field', () => {
    const result = parsePolicies('apiVersion: stinger.io/v1alpha1\nkind: TracingPolicy\nmetadata:\n  name: p\nspec:\n  rules:\n    - name: r\n      event: connect\n      match:\n        dport: [http]\n      action: audit\n      severty: high\n', {
      source: 'p.yaml',
    });
    assert.deepEqual(result.policies, []);
    assert.deepEqual(
      result.errors.map(formatIssue),
      ['p.yaml:12:7: spec.rules[0].severty: unknown key (did you mean "severity"?)', 'p.yaml:10:17: spec.rules[0].match.dport[0]: "http" is not a port number (1-65535)'],
    );
  });

  test('warnings carry normalisations of valid documents', () => {
    const text = fixture('deny-shadow-read.yaml').replace('"/etc/shadow"', '"/etc//shadow"');
    const result = parsePolicies(text, { source: 's.yaml' });
    assert.equal(result.policies.length, 1);
    assert.deepEqual(result.warnings.map(formatIssue), ['s.yaml:14:25: spec.rules[0].match.path.equal[0]: "/etc//shadow" normalised to "/etc/shadow"']);
  });

  test('reports YAML syntax errors and duplicate keys with their line, and goes on with the other documents', () => {
    const text = `${fixture('deny-binary.yaml')}---\napiVersion: stinger.io/v1alpha1\napiVersion: x\n---\nspec: [unclosed\n`;
    const result = parsePolicies(text, { source: 'y.yaml' });
    assert.deepEqual(result.policies.map((p) => p.metadata.name), ['deny-binary']);
    assert.equal(result.errors.length >= 2, true);
    const duplicate = result.errors[0] ?? assert.fail();
    assert.equal(duplicate.document, 2);
    assert.match(duplicate.message, /^YAML: Map keys must be unique/);
    assert.ok([lineOf(text, 'apiVersion: x') - 1, lineOf(text, 'apiVersion: x')].includes(duplicate.line ?? 0));
    assert.ok(result.errors.slice(1).every((e) => e.document === 3 && e.message.startsWith('YAML: ')));
  });

  test('two documents defining the same policy: the second is refused', () => {
    const text = `${fixture('deny-binary.yaml')}---\n${fixture('deny-binary.yaml')}`;
    const result = parsePolicies(text);
    assert.equal(result.policies.length, 1);
    assert.deepEqual(
      result.errors.map((e) => [e.document, e.path, e.message]),
      [[2, 'metadata.name', 'policy "deny-binary" is already defined in document 1']],
    );
  });

  test('namespaced policies of the same name in different namespaces are distinct', () => {
    const a = fixture('deny-egress-metadata.yaml');
    const result = parsePolicies(`${a}---\n${a.replace('namespace: payments', 'namespace: billing')}`);
    assert.deepEqual(result.errors, []);
    assert.deepEqual(result.policies.map((p) => p.metadata.namespace), ['payments', 'billing']);
  });

  test('empty documents and comment-only files yield nothing', () => {
    assert.deepEqual(parsePolicies('# nothing here\n'), { policies: [], errors: [], warnings: [] });
    assert.deepEqual(parsePolicies(`---\n${fixture('deny-binary.yaml')}---\n`).errors, []);
  });

  test('refuses alias bombs', () => {
    const bomb = 'a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n';
    const result = parsePolicies(bomb);
    assert.equal(result.errors.length, 1);
    assert.match(result.errors[0]?.message ?? '', /^YAML: .*alias/i);
  });

  describe('JSON', () => {
    const asJson = (name: string): unknown => parse(fixture(name));

    test('a JSON policy yields the same policy as its YAML', () => {
      const result = parsePolicies(JSON.stringify(asJson('deny-shadow-read.yaml'), null, 2), { source: 'p.json' });
      assert.deepEqual(result.errors, []);
      assert.deepEqual(result.policies, parsePolicies(fixture('deny-shadow-read.yaml')).policies);
    });

    test('a JSON array holds several policies, each a numbered document', () => {
      const text = JSON.stringify([asJson('deny-binary.yaml'), { ...(asJson('no-new-netns.yaml') as object), spec: { rules: [] } }], null, 2);
      const result = parsePolicies(text, { source: 'all.json' });
      assert.deepEqual(result.policies.map((p) => p.metadata.name), ['deny-binary']);
      assert.deepEqual(result.errors.map(formatIssue), [`all.json:${lineOf(text, '"rules": []')}:7 (document 2): spec.rules: must hold at least one rule (or the policy a rego module)`]);
    });

    test('field errors name the field, its line and its column, as for YAML', () => {
      const text = '{\n  "apiVersion": "stinger.io/v1alpha1",\n  "kind": "TracingPolicy",\n  "metadata": { "name": "p" },\n  "spec": { "rules": [ { "name": "r", "event": "connect", "action": "audit",\n    "match": { "dport": ["http"] }, "severty": "high" } ] }\n}\n';
      const result = parsePolicies(text, { source: 'p.json' });
      assert.deepEqual(result.errors.map(formatIssue), [
        'p.json:6:37: spec.rules[0].severty: unknown key (did you mean "severity"?)',
        'p.json:6:26: spec.rules[0].match.dport[0]: "http" is not a port number (1-65535)',
      ]);
    });

    test('JSON syntax errors are refused by the JSON rules (a trailing comma too), with line and column', () => {
      const result = parsePolicies('{\n  "apiVersion": "stinger.io/v1alpha1",\n  "kind": "TracingPolicy",\n}\n', { source: 'bad.json' });
      assert.equal(result.errors.length, 1);
      const [error] = result.errors;
      assert.match(error?.message ?? '', /^JSON: /);
      assert.deepEqual([error?.line, error?.column], [4, 1]);
    });
  });
});
