// Hostile policy documents: random JSON values, random objects shaped like a TracingPolicy, and real policies with
// characters changed are either accepted or rejected with issues naming a field — parsing, validation and
// compilation never throw. Seeded and bounded.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import { compilePolicy } from './compile-policy.ts';
import { parsePolicies } from './parse-policies.ts';

const SEED = 20261202;
const fixtures = readdirSync(new URL('../testdata/', import.meta.url))
  .filter((file) => file.endsWith('.yaml'))
  .map((file) => readFileSync(new URL(`../testdata/${file}`, import.meta.url), 'utf8'));

/** Parses and compiles what parses; returns whether every refusal named where it was. */
function parsesOrNamesTheProblem(text: string): boolean {
  const result = parsePolicies(text, { source: 'fuzz.yaml' });
  for (const policy of result.policies) compilePolicy(policy);
  return result.errors.every((issue) => issue.message.length > 0);
}

test('random JSON values are refused with named problems, never a throw', () => {
  fc.assert(fc.property(fc.jsonValue(), (value) => parsesOrNamesTheProblem(JSON.stringify(value))), { seed: SEED, numRuns: 500 });
});

test('objects shaped like a TracingPolicy with random fields are accepted or refused field by field', () => {
  const field = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 3 }), fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }));
  const rule = fc.record(
    {
      name: fc.oneof(fc.constantFrom('r', 'no-shadow'), fc.string()),
      event: fc.oneof(fc.constantFrom('file', 'exec', 'connect', 'privilege', 'namespace'), fc.string()),
      action: fc.oneof(fc.constantFrom('audit', 'kill', 'kill-in-kernel', 'deny', 'deny-connect'), fc.string()),
      match: fc.dictionary(fc.constantFrom('path', 'binary', 'op', 'uid', 'daddr', 'dport', 'access', 'sha256', 'namespaces'), field, { maxKeys: 3 }),
      exclude: fc.dictionary(fc.constantFrom('path', 'binary', 'uid'), field, { maxKeys: 2 }),
    },
    { requiredKeys: [] },
  );
  const policy = fc.record({
    apiVersion: fc.constantFrom('stinger.io/v1alpha1', 'v1'),
    kind: fc.constantFrom('TracingPolicy', 'TracingPolicyNamespaced', 'Pod'),
    metadata: fc.record({ name: fc.oneof(fc.constant('p'), fc.string()), namespace: fc.option(fc.string(), { nil: undefined }) }, { requiredKeys: ['name'] }),
    spec: fc.record({ mode: fc.constantFrom('enforce', 'monitor', 'x'), selector: fc.dictionary(fc.constantFrom('host', 'namespaces', 'podSelector'), field, { maxKeys: 2 }), rules: fc.array(rule, { maxLength: 3 }) }, { requiredKeys: [] }),
  });
  fc.assert(fc.property(policy, (value) => parsesOrNamesTheProblem(JSON.stringify(value))), { seed: SEED, numRuns: 500 });
});

test('real policies with characters changed, removed or added never make the parser or compiler throw', () => {
  assert.ok(fixtures.length > 0);
  const edit = fc.tuple(fc.nat(fixtures.length - 1), fc.array(fc.tuple(fc.nat(), fc.constantFrom('delete', 'insert', 'replace'), fc.string({ maxLength: 3 })), { minLength: 1, maxLength: 6 }));
  fc.assert(
    fc.property(edit, ([index, edits]) => {
      let text = fixtures[index] as string;
      for (const [at, kind, chars] of edits) {
        const position = at % (text.length + 1);
        text = kind === 'delete' ? text.slice(0, position) + text.slice(position + 1) : kind === 'insert' ? text.slice(0, position) + chars + text.slice(position) : text.slice(0, position) + chars + text.slice(position + chars.length);
      }
      return parsesOrNamesTheProblem(text);
    }),
    { seed: SEED, numRuns: 500 },
  );
});
