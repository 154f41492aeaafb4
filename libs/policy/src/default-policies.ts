/**
 * The default rule pack: the TracingPolicy files the repository ships in `k8s/policies/`, which
 * `stinger policy apply --defaults` publishes. Pure: the caller reads the files and passes their text (libs/cli
 * reads them from the repository; tests read them from disk too).
 *
 * The pack is held to more than any policy a user writes, because nobody reviews it before it runs:
 *  - every file validates without errors and without warnings (a path the validator had to normalise in a shipped
 *    file is a typo waiting to happen);
 *  - every policy is in monitor mode (the pack alerts; whether to stop anything is each cluster's decision);
 *  - every rule carries at least one MITRE ATT&CK technique id in its tags; in a Rego module (whose alerts are only
 *    known when it runs), every `"tags": [...]` it writes names one, and it writes at least one;
 *  - no two files define the same policy.
 * Any failure refuses the whole pack (PolicyValidationError naming every problem), so a half-applied pack never
 * reaches the topic.
 */
import { PolicyValidationError, type PolicyIssue } from './errors.ts';
import { parsePolicies } from './parse-policies.ts';
import { policyKey, type TracingPolicy } from './policy-types.ts';

/** One policy file: its name (named in every issue) and its text. */
export interface PolicySource {
  readonly source: string;
  readonly text: string;
}

/** A MITRE ATT&CK technique or sub-technique id: T1059, T1059.004. */
export const ATTACK_TECHNIQUE_ID = /^T\d{4}(\.\d{3})?$/;

/** The pack's policies, in the order of `sources` (pass them sorted for a stable order). @throws PolicyValidationError */
export function defaultPolicies(sources: readonly PolicySource[]): TracingPolicy[] {
  const issues: PolicyIssue[] = [];
  const policies: TracingPolicy[] = [];
  const definedIn = new Map<string, string>();
  if (sources.length === 0) issues.push({ path: '', message: 'the default rule pack has no policy files' });
  for (const { source, text } of sources) {
    const parsed = parsePolicies(text, { source });
    issues.push(...parsed.errors);
    issues.push(...parsed.warnings.map((warning) => ({ ...warning, message: `${warning.message} (the default pack must be written as it is meant)` })));
    for (const policy of parsed.policies) {
      const key = policyKey(policy);
      const first = definedIn.get(key);
      if (first !== undefined) issues.push({ source, path: 'metadata.name', message: `policy ${JSON.stringify(key)} is already defined in ${first}` });
      definedIn.set(key, first ?? source);
      if (policy.spec.mode !== 'monitor') issues.push({ source, path: 'spec.mode', message: `the default pack ships in monitor mode, not ${policy.spec.mode}` });
      policy.spec.rules.forEach((rule, index) => {
        if (!rule.tags.some((tag) => ATTACK_TECHNIQUE_ID.test(tag))) {
          issues.push({ source, path: `spec.rules[${index}].tags`, message: `rule ${JSON.stringify(rule.name)} names no MITRE ATT&CK technique id (e.g. T1059.004)` });
        }
      });
      const { rego } = policy.spec;
      if (rego !== null) issues.push(...regoTagIssues(rego.module).map((message) => ({ source, path: 'spec.rego.module', message })));
      policies.push(policy);
    }
  }
  if (issues.length > 0) throw new PolicyValidationError(issues);
  return policies;
}

/** The module's `"tags": [...]` lists that name no ATT&CK technique id, by line (a text check: the pack is written for it). */
export function regoTagIssues(module: string): string[] {
  const lists = [...module.matchAll(/"tags"\s*:\s*\[([^\]]*)\]/g)];
  if (lists.length === 0) return ['the module writes no "tags": [...] with a MITRE ATT&CK technique id (e.g. "T1059.004")'];
  return lists
    .filter((list) => !(list[1] ?? '').split(',').some((tag) => ATTACK_TECHNIQUE_ID.test(tag.trim().replace(/^"|"$/g, ''))))
    .map((list) => `line ${module.slice(0, list.index).split('\n').length}: ${list[0]} names no MITRE ATT&CK technique id (e.g. "T1059.004")`);
}
