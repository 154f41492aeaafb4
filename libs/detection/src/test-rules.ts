/**
 * For this library's tests only (not exported from index.ts): DetectionRules holding the policies of a TracingPolicy
 * YAML text, parsed and compiled as `stinger policy apply` does; a parse error fails the test at once.
 */
import assert from 'node:assert/strict';
import type { CompiledPolicy } from '@stinger/events';
import { compilePolicy, parsePolicies } from '@stinger/policy';
import { DetectionRules } from './detection-rules.ts';

export function compiledPolicies(yaml: string): CompiledPolicy[] {
  const parsed = parsePolicies(yaml, { source: 'test.yaml' });
  assert.deepEqual(parsed.errors, []);
  return parsed.policies.map((policy) => compilePolicy(policy).compiled);
}

export function rulesOf(yaml: string): DetectionRules {
  const rules = new DetectionRules();
  for (const policy of compiledPolicies(yaml)) rules.set(policy.name, policy);
  return rules;
}
