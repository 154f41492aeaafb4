/**
 * CompiledPolicy record → TracingPolicy: the inverse of compilePolicy, for consumers of the stinger.policies topic
 * (the node agent feeds the result into its PolicySet to get kernel-rule diffs).
 *
 * For a record compilePolicy emitted, compiling the result again gives the same record (compiled_at_ns aside, and
 * generation when the caller passes the record's own, as PolicySet.applyCompiled does) and the same kernel and
 * pipeline rules. A record from another producer is held to what a TracingPolicy can express: the condition
 * layout compilePolicy emits (a known match field of the rule's event, at most one condition per field, an
 * operator the field's kind takes) is checked here, and the values, names and the rest go through the validator
 * (validatePolicy's checks). Every problem is reported at once, named by its path in the record
 * (`rules[0].match[1].field`), in one PolicyValidationError whose issues carry `source: 'CompiledPolicy <key>'`.
 * Normalisations the validator applies (a path with `//`, a CIDR with host bits) are accepted silently: the
 * recompiled record then carries the normalised value.
 */
import type { CompiledPolicy, MatchCondition, MatchOperator, PolicyAction, SequenceScope } from '@stinger/events';
import { PolicyValidationError, type PolicyIssue } from './errors.ts';
import { ALL_MATCH_FIELDS, MATCH_FIELDS, matchFieldsOf, type MatchFieldKind } from './match-fields.ts';
import { POLICY_API_VERSION, RULE_EVENTS, type MatchField, type RuleAction, type RuleEvent, type SequenceScopeName, type TracingPolicy } from './policy-types.ts';
import { negated } from './compile-policy.ts';
import { checkPolicy, formatPath, type PathSegments } from './validate-policy.ts';
import { closest } from './values.ts';

/** Operators compilePolicy emits for each kind of match field (see matchConditions there). */
const OPERATORS_OF_KIND: Readonly<Record<MatchFieldKind, readonly MatchOperator[]>> = {
  'path-match': ['equal', 'prefix', 'suffix'],
  'string-match': ['equal', 'prefix', 'suffix'],
  symbols: ['equal'],
  cidrs: ['cidr'],
  // equal: every value a single number; range: 'low-high' (a single number is accepted too).
  ports: ['equal', 'range'],
  ids: ['equal', 'range'],
  digests: ['equal'],
};

/** A rule's exclude fields are its negated conditions (compilePolicy's `negated`). */
const isNegated = (condition: MatchCondition): boolean => condition.operator.startsWith('not_');

const RULE_ACTION_OF: Readonly<Record<PolicyAction, RuleAction>> = {
  audit: 'audit',
  kill_in_kernel: 'kill-in-kernel',
  kill: 'kill',
  deny_connect: 'deny-connect',
  deny: 'deny',
};

const SINGLE_NUMBER = /^\s*\d+\s*$/;

/**
 * Where the validator's document paths come from in the record: for each rule, the index of the condition behind
 * each match field (`field`) and behind each operator of a string match (`field.operator`).
 */
type ConditionIndex = Map<string, number>;

/**
 * The TracingPolicy a CompiledPolicy record expresses: kind TracingPolicyNamespaced exactly when the record has a
 * namespace; metadata.generation is the record's generation.
 * @throws PolicyValidationError naming, by record path, every part of the record a TracingPolicy cannot express.
 */
export function tracingPolicyFromCompiled(compiled: CompiledPolicy): TracingPolicy {
  const source = `CompiledPolicy ${compiled.namespace === null ? compiled.name : `${compiled.namespace}/${compiled.name}`}`;
  const issues: PolicyIssue[] = [];
  const issue = (segments: PathSegments, message: string): void => {
    issues.push({ path: formatPath(segments), message, source });
  };
  const conditionIndexes: ConditionIndex[] = [];
  const document = documentOf(compiled, { issue, conditionIndexes });

  const checked = checkPolicy(document);
  for (const raw of checked.errors) issue(recordPath(raw.segments, conditionIndexes), raw.message);
  if (issues.length > 0 || checked.policy === null) throw new PolicyValidationError(issues);
  return checked.policy;
}

interface DocumentContext {
  readonly issue: (segments: PathSegments, message: string) => void;
  /** Filled per rule, in rule order. */
  readonly conditionIndexes: ConditionIndex[];
}

/** The policy document (as YAML would give it) for the validator; conditions it cannot hold are reported. */
function documentOf(compiled: CompiledPolicy, context: DocumentContext): Record<string, unknown> {
  const { namespace, selector } = compiled;
  const metadata: Record<string, unknown> = { name: compiled.name };
  if (compiled.generation >= 0n && compiled.generation <= BigInt(Number.MAX_SAFE_INTEGER)) metadata.generation = Number(compiled.generation);
  else context.issue(['generation'], `${compiled.generation} is not an integer in 0..${Number.MAX_SAFE_INTEGER} (metadata.generation)`);
  if (namespace !== null) metadata.namespace = namespace;
  if (compiled.uid !== null) metadata.uid = compiled.uid;

  const documentSelector: Record<string, unknown> = {};
  if (Object.keys(selector.pod_labels).length > 0) documentSelector.podSelector = { matchLabels: { ...selector.pod_labels } };
  if (selector.container_name !== null) documentSelector.containerName = selector.container_name;
  if (namespace === null) {
    documentSelector.namespaces = [...selector.namespaces];
    if (selector.host !== null) documentSelector.host = selector.host;
  } else {
    // compilePolicy writes a namespaced policy's selector as namespaces [namespace], host false.
    if (selector.namespaces.some((ns) => ns !== namespace)) {
      context.issue(['selector', 'namespaces'], `a policy of namespace ${JSON.stringify(namespace)} applies to that namespace only, not to ${JSON.stringify(selector.namespaces)}`);
    }
    if (selector.host === true) documentSelector.host = true;
  }
  if (selector.pids !== null) {
    documentSelector.pids = { values: [...selector.pids.pids], followChildren: selector.pids.follow_children, ...(selector.pids.namespace === 'host' ? {} : { namespace: selector.pids.namespace }) };
  }

  const rules = compiled.rules.map((rule, index) => {
    const conditions: ConditionIndex = new Map();
    context.conditionIndexes.push(conditions);
    const common = { name: rule.name, action: RULE_ACTION_OF[rule.action], severity: rule.severity, tags: [...rule.tags] };
    if (rule.sequence !== null) {
      if (rule.match.length > 0) context.issue(['rules', index, 'match'], 'must be empty on a sequence rule (the conditions are the steps\')');
      const last = rule.sequence.steps[rule.sequence.steps.length - 1];
      if (last !== undefined && last.event !== rule.event) context.issue(['rules', index, 'event'], `${rule.event} is not the last step's event (${last.event})`);
      const steps = rule.sequence.steps.map((step, stepIndex) => {
        const stepPath = ['rules', index, 'sequence', 'steps', stepIndex];
        const match = matchDocument(step.match, { event: eventOf(step.event), issue: context.issue, path: stepPath, seen: new Map() });
        return { event: step.event, match, ...(Object.keys(step.same_as).length > 0 ? { sameAs: { ...step.same_as } } : {}) };
      });
      return { ...common, sequence: { by: SEQUENCE_SCOPE_NAMES[rule.sequence.by], within: `${rule.sequence.within_ms}ms`, steps } };
    }
    const match = matchDocument(rule.match.filter((c) => !isNegated(c)), { event: eventOf(rule.event), issue: context.issue, path: ['rules', index], seen: conditions });
    const excluded = rule.match.filter(isNegated).map(negated);
    const exclude = matchDocument(excluded, { event: eventOf(rule.event), issue: context.issue, path: ['rules', index], seen: new Map() });
    return { ...common, event: rule.event, match, ...(excluded.length > 0 ? { exclude } : {}) };
  });

  return {
    apiVersion: POLICY_API_VERSION,
    kind: namespace === null ? 'TracingPolicy' : 'TracingPolicyNamespaced',
    metadata,
    spec: {
      mode: compiled.mode,
      selector: documentSelector,
      rules,
      ...(compiled.rego === null
        ? {}
        : { rego: { module: compiled.rego.module, entrypoint: compiled.rego.entrypoint, events: [...compiled.rego.events], action: compiled.rego.action } }),
    },
  };
}

const SEQUENCE_SCOPE_NAMES: Readonly<Record<SequenceScope, SequenceScopeName>> = { process: 'process', process_tree: 'processTree', pod: 'pod' };

function eventOf(event: string): RuleEvent | null {
  return (RULE_EVENTS as readonly string[]).includes(event) ? (event as RuleEvent) : null;
}

/** The `match` mapping of a rule or a sequence step; `path` is the record path of the rule or step. */
function matchDocument(
  conditions: readonly MatchCondition[],
  at: { readonly event: RuleEvent | null; readonly issue: DocumentContext['issue']; readonly path: PathSegments; readonly seen: ConditionIndex },
): Record<string, unknown> {
  const match: Record<string, unknown> = {};
  conditions.forEach((condition, conditionIndex) => {
    const value = matchValueOf(condition, { event: at.event, path: [...at.path, 'match', conditionIndex], issue: at.issue, seen: at.seen, condition: conditionIndex });
    if (value === null) return;
    at.seen.set(`${condition.field}.${condition.operator}`, conditionIndex);
    match[condition.field] = value;
  });
  return match;
}

interface ConditionContext {
  /** null when the rule's event cannot be a rule event (the validator reports it). */
  readonly event: RuleEvent | null;
  /** Record path of the condition, and its index in its list. */
  readonly path: PathSegments;
  readonly condition: number;
  readonly issue: (segments: PathSegments, message: string) => void;
  /** Fields already taken by earlier conditions of the rule. */
  readonly seen: ConditionIndex;
}

/** The match field's value in the document, or null (reported) when the condition has no TracingPolicy form. */
function matchValueOf(condition: MatchCondition, context: ConditionContext): unknown {
  const { field, operator, values } = condition;
  const { event, issue, path } = context;
  const allowed: readonly string[] = event === null ? ALL_MATCH_FIELDS : matchFieldsOf(event);
  if (!allowed.includes(field)) {
    if ((ALL_MATCH_FIELDS as readonly string[]).includes(field)) {
      issue([...path, 'field'], `${JSON.stringify(field)} is not a match field of event ${JSON.stringify(event)} (allowed: ${allowed.join(', ')})`);
    } else {
      const suggestion = closest(field, allowed);
      const hint = suggestion === null ? `allowed: ${allowed.join(', ')}` : `did you mean "${suggestion}"?`;
      issue([...path, 'field'], `unknown match field ${JSON.stringify(field)} (${hint})`);
    }
    return null;
  }
  const earlier = context.seen.get(field);
  if (earlier !== undefined) {
    issue(
      [...path, 'field'],
      `${JSON.stringify(field)} already has a condition (match[${earlier}]); a TracingPolicy holds one condition per field, so their AND cannot be expressed`,
    );
    return null;
  }
  context.seen.set(field, context.condition);
  const kind = MATCH_FIELDS[field as MatchField].kind;
  const operators = OPERATORS_OF_KIND[kind];
  if (!operators.includes(operator)) {
    issue([...path, 'operator'], `operator ${operator} does not apply to field ${JSON.stringify(field)} (allowed: ${operators.join(', ')})`);
    return null;
  }
  switch (kind) {
    case 'path-match':
    case 'string-match':
      return { [operator]: [...values] };
    case 'ports':
    case 'ids': {
      if (operator === 'equal') {
        const ranged = values.findIndex((value) => !SINGLE_NUMBER.test(value));
        if (ranged !== -1) {
          issue([...path, 'values', ranged], `${JSON.stringify(values[ranged])} is not a single number (operator equal; ranges take operator range)`);
          return null;
        }
      }
      return [...values];
    }
    case 'symbols':
    case 'cidrs':
    case 'digests':
      return [...values];
  }
}

/**
 * The record path behind a validator path into the document built by documentOf, e.g.
 * `spec.rules[0].match.path.equal[1]` → `rules[0].match[0].values[1]`, `metadata.name` → `name`.
 */
function recordPath(segments: PathSegments, conditionIndexes: readonly ConditionIndex[]): PathSegments {
  const [first, second, ...rest] = segments;
  if (first === 'metadata') return second === undefined ? [] : [second, ...rest];
  if (first !== 'spec') return [];
  if (second === undefined) return [];
  if (second === 'mode') return ['mode', ...rest];
  if (second === 'selector') return selectorPath(rest);
  if (second !== 'rules') return [second, ...rest];
  const [ruleIndex, ruleKey, field, ...fieldRest] = rest;
  if (typeof ruleIndex !== 'number' || ruleKey !== 'match' || typeof field !== 'string') return ['rules', ...rest];
  const conditions = conditionIndexes[ruleIndex];
  const [operatorOrItem, ...itemRest] = fieldRest;
  const byOperator = typeof operatorOrItem === 'string' ? conditions?.get(`${field}.${operatorOrItem}`) : undefined;
  if (byOperator !== undefined) return ['rules', ruleIndex, 'match', byOperator, 'values', ...itemRest];
  const byField = conditions?.get(field);
  if (byField === undefined) return ['rules', ruleIndex, 'match'];
  return ['rules', ruleIndex, 'match', byField, 'values', ...fieldRest];
}

function selectorPath(rest: PathSegments): PathSegments {
  const [key, ...keyRest] = rest;
  if (key === undefined) return ['selector'];
  // podSelector.matchLabels.<label> (matchExpressions never occur: documentOf writes labels only).
  if (key === 'podSelector') return ['selector', 'pod_labels', ...keyRest.slice(1)];
  if (key === 'containerName') return ['selector', 'container_name', ...keyRest];
  return ['selector', key, ...keyRest];
}
