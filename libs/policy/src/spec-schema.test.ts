import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ALL_MATCH_FIELDS } from './match-fields.ts';
import { RULE_ACTIONS, RULE_EVENTS } from './policy-types.ts';
import { policySpecSchema } from './spec-schema.ts';
import { RULE_KEYS, SELECTOR_KEYS, SPEC_KEYS } from './validate-policy.ts';

type Schema = { properties: Record<string, Schema>; items: Schema; [k: string]: unknown };

describe('policySpecSchema', () => {
  const spec = policySpecSchema() as Schema;
  const rule = spec.properties.rules?.items as Schema;

  test('has exactly the keys the validator accepts, closed against others', () => {
    assert.deepEqual(Object.keys(spec.properties), [...SPEC_KEYS]);
    assert.deepEqual(Object.keys(spec.properties.selector?.properties ?? {}), [...SELECTOR_KEYS]);
    assert.deepEqual(Object.keys(rule.properties), [...RULE_KEYS]);
    assert.deepEqual(Object.keys(rule.properties.match?.properties ?? {}), ALL_MATCH_FIELDS);
    assert.equal(spec.additionalProperties, false);
    assert.equal(rule.additionalProperties, false);
  });

  test('carries the validator\'s enums and required fields', () => {
    assert.deepEqual(rule.properties.event?.enum, [...RULE_EVENTS]);
    assert.deepEqual(rule.properties.action?.enum, [...RULE_ACTIONS]);
    assert.deepEqual(rule.required, ['name', 'action']);
    assert.equal(spec.required, undefined, 'rules or rego: the validator says which is missing');
  });

  test('is structural: every node has a type or is int-or-string', () => {
    const walk = (node: Schema, path: string): void => {
      assert.ok(typeof node.type === 'string' || node['x-kubernetes-int-or-string'] === true, `${path} has no type`);
      for (const [key, child] of Object.entries(node.properties ?? {})) walk(child, `${path}.${key}`);
      if (node.items !== undefined) walk(node.items, `${path}[]`);
      if (typeof node.additionalProperties === 'object') walk(node.additionalProperties as Schema, `${path}.*`);
    };
    walk(spec, 'spec');
  });
});
