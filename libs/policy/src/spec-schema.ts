/**
 * OpenAPI v3 structural schema of `spec`, for the CustomResourceDefinitions of TracingPolicy and
 * TracingPolicyNamespaced (their `openAPIV3Schema.properties.spec`). Built from the validator's own tables (key
 * lists, enums, match field kinds), so the API server refuses what the validator would refuse at the level a
 * structural schema can express; the validator stays the authority for the rest (per-event match fields, path
 * normalisation, contradictions), and the policy-controller runs it on every object.
 */
import { ALL_MATCH_FIELDS, MATCH_FIELDS, type MatchFieldDefinition } from './match-fields.ts';
import { CORRELATION_FIELDS, LABEL_SELECTOR_OPERATORS, PID_NAMESPACES, POLICY_MODES, REGO_ACTIONS, REGO_LIMITS, RULE_ACTIONS, RULE_EVENTS, SEQUENCE_LIMITS, SEQUENCE_SCOPES, SEVERITIES } from './policy-types.ts';
import {
  DURATION_PATTERN,
  LABEL_REQUIREMENT_KEYS,
  PID_SELECTOR_KEYS,
  POD_SELECTOR_KEYS,
  REGO_ENTRYPOINT,
  REGO_KEYS,
  RULE_KEYS,
  SELECTOR_KEYS,
  SEQUENCE_KEYS,
  SEQUENCE_STEP_KEYS,
  SPEC_KEYS,
  STRING_MATCH_KEYS,
} from './validate-policy.ts';

export interface JsonSchema {
  readonly [keyword: string]: unknown;
}

const string = (extra: JsonSchema = {}): JsonSchema => ({ type: 'string', ...extra });
const list = (items: JsonSchema, extra: JsonSchema = {}): JsonSchema => ({ type: 'array', items, ...extra });
const object = (properties: Record<string, JsonSchema>, extra: JsonSchema = {}): JsonSchema => ({ type: 'object', properties, ...extra });
const DNS1123_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';

function keyed<K extends string>(keys: readonly K[], schemas: Record<K, JsonSchema>): Record<string, JsonSchema> {
  return Object.fromEntries(keys.map((key) => [key, schemas[key]]));
}

function matchFieldSchema(definition: MatchFieldDefinition): JsonSchema {
  const description = definition.description;
  switch (definition.kind) {
    case 'path-match':
    case 'string-match':
      return object(
        Object.fromEntries(STRING_MATCH_KEYS.map((operator) => [operator, list(string({ minLength: 1 }))])),
        { description, additionalProperties: false },
      );
    case 'symbols':
      return list(string(definition.pattern === undefined ? {} : { pattern: definition.pattern.source }), { description, minItems: 1 });
    case 'cidrs':
      return list(string(), { description, minItems: 1 });
    case 'ports':
    case 'ids':
      return list({ 'x-kubernetes-int-or-string': true }, { description, minItems: 1 });
    case 'digests':
      return list(string({ pattern: '^[0-9a-fA-F]{64}$' }), { description, minItems: 1 });
  }
}

/** The schema of `spec`. */
export function policySpecSchema(): JsonSchema {
  const podSelector = object(
    keyed(POD_SELECTOR_KEYS, {
      matchLabels: { type: 'object', additionalProperties: string() },
      matchExpressions: list(
        object(
          keyed(LABEL_REQUIREMENT_KEYS, {
            key: string(),
            operator: string({ enum: [...LABEL_SELECTOR_OPERATORS] }),
            values: list(string()),
          }),
          { required: ['key', 'operator'], additionalProperties: false },
        ),
      ),
    }),
    { additionalProperties: false },
  );
  const selector = object(
    keyed(SELECTOR_KEYS, {
      podSelector,
      namespaces: list(string({ pattern: DNS1123_LABEL })),
      containerName: string({ pattern: DNS1123_LABEL }),
      host: { type: 'boolean' },
      pids: object(
        keyed(PID_SELECTOR_KEYS, {
          values: list({ type: 'integer', minimum: 1 }, { minItems: 1, description: 'Process ids in the pid namespace `namespace` names.' }),
          followChildren: { type: 'boolean', default: false, description: 'Their descendants too.' },
          namespace: {
            type: 'string',
            enum: [...PID_NAMESPACES],
            default: 'host',
            description: "host: the node's initial pid namespace; container: each selected container's own (1 is its entry process).",
          },
        }),
        { description: 'Only these processes (exec, file and connect rules: in the kernel, by pid scope; others: by the detector, from the ancestry it has seen).', required: ['values'], additionalProperties: false },
      ),
    }),
    { description: 'Which processes the policy applies to; empty selects every process.', additionalProperties: false },
  );
  const match = object(Object.fromEntries(ALL_MATCH_FIELDS.map((field) => [field, matchFieldSchema(MATCH_FIELDS[field])])), {
    description: 'Conditions, all of which must hold. Which fields an event accepts is checked by the policy validator.',
    additionalProperties: false,
  });
  const correlation = string({ enum: [...CORRELATION_FIELDS] });
  const step = object(
    keyed(SEQUENCE_STEP_KEYS, {
      event: string({ enum: [...RULE_EVENTS] }),
      match,
      sameAs: object(Object.fromEntries(CORRELATION_FIELDS.map((field) => [field, correlation])), {
        description: "This step's field (key) must equal the previous step's field (value).",
        additionalProperties: false,
      }),
    }),
    { required: ['event'], additionalProperties: false },
  );
  const sequence = object(
    keyed(SEQUENCE_KEYS, {
      by: string({ enum: [...SEQUENCE_SCOPES], default: 'processTree' }),
      within: string({ pattern: DURATION_PATTERN.source, description: 'Window from the first to the last step, e.g. 60s (1s..10m).' }),
      steps: list(step, { minItems: SEQUENCE_LIMITS.minSteps, maxItems: SEQUENCE_LIMITS.maxSteps }),
    }),
    { description: 'A stateful rule: the steps must match in order, within the window, by one process, process tree or pod.', required: ['within', 'steps'], additionalProperties: false },
  );
  const rule = object(
    keyed(RULE_KEYS, {
      name: string({ pattern: DNS1123_LABEL, maxLength: 63 }),
      event: string({ enum: [...RULE_EVENTS] }),
      match,
      exclude: { ...match, description: 'The rule holds only when none of these fields match (same fields as match).' },
      sequence,
      action: string({ enum: [...RULE_ACTIONS] }),
      severity: string({ enum: [...SEVERITIES], default: 'medium' }),
      tags: list(string()),
    }),
    // event or sequence: one of them (the validator says which is missing, field by field).
    { required: ['name', 'action'], additionalProperties: false },
  );
  return object(
    keyed(SPEC_KEYS, {
      mode: string({ enum: [...POLICY_MODES], default: 'enforce' }),
      selector,
      rules: list(rule),
      rego: object(
        keyed(REGO_KEYS, {
          module: string({ minLength: 1, maxLength: REGO_LIMITS.maxModuleBytes, description: 'The Rego source (its package holds the entrypoint rule).' }),
          entrypoint: string({ pattern: REGO_ENTRYPOINT.source, description: 'The rule yielding alert objects, e.g. stinger/alerts.' }),
          events: list(string({ enum: [...RULE_EVENTS] }), { minItems: 1, description: 'Event kinds the module is evaluated on.' }),
          action: string({ enum: [...REGO_ACTIONS], default: 'audit', description: 'The most an alert of the module may ask for.' }),
        }),
        { description: 'A Rego (Open Policy Agent) module the detector evaluates, compiled to WebAssembly, on each enriched event of the named kinds.', required: ['module', 'entrypoint', 'events'], additionalProperties: false },
      ),
    }),
    // rules or rego, or both: the validator names which is missing; the API server refuses a spec with neither too.
    {
      additionalProperties: false,
      'x-kubernetes-validations': [{ rule: '(has(self.rules) && size(self.rules) > 0) || has(self.rego)', message: 'needs at least one rule in spec.rules, or spec.rego' }],
    },
  );
}
