/**
 * Field-by-field validation of a TracingPolicy / TracingPolicyNamespaced object (as parsed from YAML or JSON, or
 * read from the API server). Every problem is collected, each naming its field path; unknown keys are reported
 * (with the nearest known key, since they are usually typos) rather than ignored. Values are normalised on the
 * way (paths, CIDRs) and each normalisation that changes what the user wrote is a warning.
 */
import { PolicyValidationError, type PolicyIssue } from './errors.ts';
import { identityObstacles, type IdentityContext } from './identity-rules.ts';
import { ALL_MATCH_FIELDS, HOST_NAME_FIELDS, MATCH_FIELDS, matchFieldsOf, symbolsOf } from './match-fields.ts';
import {
  CORRELATION_FIELDS,
  LABEL_SELECTOR_OPERATORS,
  POLICY_API_VERSION,
  POLICY_KINDS,
  POLICY_MODES,
  RULE_ACTIONS,
  RULE_EVENTS,
  SEQUENCE_LIMITS,
  SEQUENCE_SCOPES,
  SEVERITIES,
  type CorrelationField,
  type LabelSelectorRequirement,
  type MatchField,
  type NumberRange,
  type PolicyKind,
  type PolicyRuleSpec,
  type PidSelectorSpec,
  PID_NAMESPACES,
  type PidNamespaceName,
  type PolicySelectorSpec,
  REGO_ACTIONS,
  REGO_LIMITS,
  type RegoSpec,
  type RuleEvent,
  type RuleMatch,
  type SequenceSpec,
  type SequenceStepSpec,
  type StringMatch,
  type TracingPolicy,
} from './policy-types.ts';
import { closest, ID_BOUNDS, normaliseAbsolutePath, parseCidr, parseNumberRange, PORT_BOUNDS } from './values.ts';

/** A field path as segments: keys and list indexes (`['spec', 'rules', 1, 'match']`). */
export type PathSegments = readonly (string | number)[];

export interface RawIssue {
  readonly segments: PathSegments;
  readonly message: string;
}

/** `spec.rules[1].match.dport` */
export function formatPath(segments: PathSegments): string {
  let text = '';
  for (const segment of segments) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else text += text === '' ? segment : `.${segment}`;
  }
  return text;
}

export const TOP_LEVEL_KEYS = ['apiVersion', 'kind', 'metadata', 'spec', 'status'] as const;
/** Keys of ObjectMeta: an object read back from the API server carries them all. Only some are used. */
export const METADATA_KEYS = [
  'name',
  'namespace',
  'uid',
  'generation',
  'labels',
  'annotations',
  'generateName',
  'selfLink',
  'resourceVersion',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'ownerReferences',
  'finalizers',
  'managedFields',
] as const;
export const SPEC_KEYS = ['mode', 'selector', 'rules', 'rego'] as const;
export const SELECTOR_KEYS = ['podSelector', 'namespaces', 'containerName', 'host', 'pids'] as const;
export const PID_SELECTOR_KEYS = ['values', 'followChildren', 'namespace'] as const;
export const REGO_KEYS = ['module', 'entrypoint', 'events', 'action'] as const;
/** A Rego rule path: package path segments and the rule name, separated by '/'. */
export const REGO_ENTRYPOINT = /^[A-Za-z_][A-Za-z0-9_]*(\/[A-Za-z_][A-Za-z0-9_]*)+$/;
export const POD_SELECTOR_KEYS = ['matchLabels', 'matchExpressions'] as const;
export const LABEL_REQUIREMENT_KEYS = ['key', 'operator', 'values'] as const;
export const RULE_KEYS = ['name', 'event', 'match', 'exclude', 'sequence', 'action', 'severity', 'tags'] as const;
export const SEQUENCE_KEYS = ['by', 'within', 'steps'] as const;
export const SEQUENCE_STEP_KEYS = ['event', 'match', 'sameAs'] as const;
/** `within` of a sequence: a whole number of ms, s or m. */
export const DURATION_PATTERN = /^([1-9][0-9]*)(ms|s|m)$/;
export const STRING_MATCH_KEYS = ['equal', 'prefix', 'suffix'] as const;

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

export const MESSAGES = {
  dns1123Subdomain:
    "is not a DNS-1123 subdomain (lower-case letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters)",
  dns1123Label:
    "is not a DNS-1123 label (lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters)",
} as const;

/** Collects issues for one document. */
class IssueCollector {
  readonly errors: RawIssue[] = [];
  readonly warnings: RawIssue[] = [];
  error(segments: PathSegments, message: string): void {
    this.errors.push({ segments, message });
  }
  warn(segments: PathSegments, message: string): void {
    this.warnings.push({ segments, message });
  }

  expectMapping(value: unknown, path: PathSegments): Mapping | null {
    if (isMapping(value)) return value;
    this.error(path, `expected a mapping, got ${describe(value)}`);
    return null;
  }

  expectList(value: unknown, path: PathSegments): unknown[] | null {
    if (Array.isArray(value)) return value;
    this.error(path, `expected a list, got ${describe(value)}`);
    return null;
  }

  /** Reports every key of `object` not in `allowed`, suggesting the nearest allowed key. */
  checkKeys(object: Mapping, allowed: readonly string[], path: PathSegments): void {
    for (const key of Object.keys(object)) {
      if (allowed.includes(key)) continue;
      const suggestion = closest(key, allowed);
      this.error([...path, key], suggestion === null ? `unknown key (allowed: ${allowed.join(', ')})` : `unknown key (did you mean "${suggestion}"?)`);
    }
  }

  expectSymbol<T extends string>(value: unknown, symbols: readonly T[], path: PathSegments): T | null {
    if (typeof value === 'string' && (symbols as readonly string[]).includes(value)) return value as T;
    this.error(path, symbolIssue(value, symbols));
    return null;
  }

  expectString(value: unknown, path: PathSegments): string | null {
    if (typeof value !== 'string') {
      this.error(path, `expected a string, got ${describe(value)}`);
      return null;
    }
    if (value === '') {
      this.error(path, 'must not be empty');
      return null;
    }
    return value;
  }

  expectPattern(value: unknown, path: PathSegments, format: TextFormat): string | null {
    const text = this.expectString(value, path);
    if (text === null) return null;
    if (format.test(text)) return text;
    this.error(path, `${JSON.stringify(text)} ${format.what}`);
    return null;
  }
}


type Mapping = Record<string, unknown>;

function describe(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `a string (${JSON.stringify(value)})`;
  if (typeof value === 'number') return `a number (${value})`;
  if (typeof value === 'boolean') return `a boolean (${value})`;
  return typeof value;
}

/** How a value is quoted in messages: strings as JSON strings, everything else as YAML would print it. */
function show(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : typeof value === 'object' ? describe(value) : String(value);
}

function isMapping(value: unknown): value is Mapping {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function symbolIssue(value: unknown, symbols: readonly string[], noun?: string): string {
  const suggestion = typeof value === 'string' ? closest(value, symbols) : null;
  const hint = suggestion === null ? '' : ` (did you mean "${suggestion}"?)`;
  return noun === undefined ? `${show(value)} is not one of ${symbols.join(', ')}${hint}` : `${show(value)} is not ${noun}${hint}`;
}

/** A text format: the test, and what the message says a failing value is not. */
interface TextFormat {
  readonly test: (text: string) => boolean;
  readonly what: string;
}

const isDns1123Label = (s: string): boolean => s.length <= 63 && DNS1123_LABEL.test(s);
const isDns1123Subdomain = (s: string): boolean => s.length <= 253 && DNS1123_SUBDOMAIN.test(s);

function isLabelKey(key: string): boolean {
  const slash = key.indexOf('/');
  const name = slash === -1 ? key : key.slice(slash + 1);
  if (slash !== -1 && !isDns1123Subdomain(key.slice(0, slash))) return false;
  return name.length <= 63 && LABEL_NAME.test(name);
}
const DNS1123_LABEL_FORMAT: TextFormat = { test: isDns1123Label, what: MESSAGES.dns1123Label };
const DNS1123_SUBDOMAIN_FORMAT: TextFormat = { test: isDns1123Subdomain, what: MESSAGES.dns1123Subdomain };
const LABEL_KEY_FORMAT: TextFormat = { test: isLabelKey, what: 'is not a label key' };
const isLabelValue = (value: string): boolean => value === '' || (value.length <= 63 && LABEL_NAME.test(value));

/** Maps each list element through `check`; null entries (invalid elements) are dropped, their issue recorded. */
function eachOf<T>(list: unknown[], path: PathSegments, check: (item: unknown, itemPath: PathSegments) => T | null): T[] {
  const out: T[] = [];
  list.forEach((item, index) => {
    const result = check(item, [...path, index]);
    if (result !== null) out.push(result);
  });
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// metadata

interface ValidatedMetadata {
  name: string | null;
  namespace: string | null;
  uid: string | null;
  generation: number | null;
}

function checkMetadata(value: unknown, kind: PolicyKind | null, c: IssueCollector): ValidatedMetadata {
  const out: ValidatedMetadata = { name: null, namespace: null, uid: null, generation: null };
  if (value === undefined) {
    c.error(['metadata'], 'required');
    return out;
  }
  const metadata = c.expectMapping(value, ['metadata']);
  if (metadata === null) return out;
  c.checkKeys(metadata, METADATA_KEYS, ['metadata']);
  if (metadata.name === undefined) c.error(['metadata', 'name'], 'required');
  else out.name = c.expectPattern(metadata.name, ['metadata', 'name'], DNS1123_SUBDOMAIN_FORMAT);
  if (metadata.namespace !== undefined) {
    if (kind === 'TracingPolicy') {
      c.error(['metadata', 'namespace'], 'not allowed on a cluster-wide TracingPolicy (use kind TracingPolicyNamespaced)');
    } else {
      out.namespace = c.expectPattern(metadata.namespace, ['metadata', 'namespace'], DNS1123_LABEL_FORMAT);
    }
  } else if (kind === 'TracingPolicyNamespaced') {
    c.error(['metadata', 'namespace'], 'required for a TracingPolicyNamespaced');
  }
  if (metadata.uid !== undefined) out.uid = c.expectString(metadata.uid, ['metadata', 'uid']);
  if (metadata.generation !== undefined) {
    const generation = metadata.generation;
    if (typeof generation === 'number' && Number.isSafeInteger(generation) && generation >= 0) out.generation = generation;
    else c.error(['metadata', 'generation'], `${show(generation)} is not a non-negative integer`);
  }
  for (const key of ['labels', 'annotations'] as const) {
    if (metadata[key] === undefined) continue;
    const map = c.expectMapping(metadata[key], ['metadata', key]);
    if (map === null) continue;
    for (const [k, v] of Object.entries(map)) if (typeof v !== 'string') c.error(['metadata', key, k], `expected a string, got ${describe(v)}`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// spec.selector

const SELECTOR = ['spec', 'selector'] as const;

function checkLabelRequirement(value: unknown, path: PathSegments, c: IssueCollector): LabelSelectorRequirement | null {
  const requirement = c.expectMapping(value, path);
  if (requirement === null) return null;
  c.checkKeys(requirement, LABEL_REQUIREMENT_KEYS, path);
  const key = requirement.key === undefined ? (c.error([...path, 'key'], 'required'), null) : c.expectPattern(requirement.key, [...path, 'key'], LABEL_KEY_FORMAT);
  const operator =
    requirement.operator === undefined
      ? (c.error([...path, 'operator'], 'required'), null)
      : c.expectSymbol(requirement.operator, LABEL_SELECTOR_OPERATORS, [...path, 'operator']);
  let values: string[] = [];
  if (requirement.values !== undefined) {
    const list = c.expectList(requirement.values, [...path, 'values']);
    if (list !== null) values = eachOf(list, [...path, 'values'], (v, p) => (typeof v === 'string' && isLabelValue(v) ? v : (c.error(p, `${show(v)} is not a label value`), null)));
  }
  if (operator === null || key === null) return null;
  switch (operator) {
    case 'In':
    case 'NotIn':
      if (values.length === 0) {
        c.error([...path, 'values'], `must not be empty for operator ${operator}`);
        return null;
      }
      break;
    case 'Exists':
    case 'DoesNotExist':
      if (values.length > 0) {
        c.error([...path, 'values'], `must be empty for operator ${operator}`);
        return null;
      }
      break;
  }
  return { key, operator, values };
}

function checkSelector(value: unknown, context: { kind: PolicyKind | null; namespace: string | null }, c: IssueCollector): PolicySelectorSpec {
  const { kind, namespace } = context;
  const empty: PolicySelectorSpec = { podSelector: null, namespaces: [], containerName: null, host: null, pids: null };
  if (value === undefined || value === null) return empty;
  const selector = c.expectMapping(value, SELECTOR);
  if (selector === null) return empty;
  c.checkKeys(selector, SELECTOR_KEYS, SELECTOR);

  let podSelector: PolicySelectorSpec['podSelector'] = null;
  if (selector.podSelector !== undefined && selector.podSelector !== null) {
    const path = [...SELECTOR, 'podSelector'];
    const pod = c.expectMapping(selector.podSelector, path);
    if (pod !== null) {
      c.checkKeys(pod, POD_SELECTOR_KEYS, path);
      const matchLabels: Record<string, string> = {};
      if (pod.matchLabels !== undefined) {
        const labels = c.expectMapping(pod.matchLabels, [...path, 'matchLabels']);
        for (const [k, v] of Object.entries(labels ?? {})) {
          const labelPath = [...path, 'matchLabels', k];
          if (!isLabelKey(k)) c.error(labelPath, `${JSON.stringify(k)} is not a label key`);
          else if (typeof v !== 'string' || !isLabelValue(v)) c.error(labelPath, `${show(v)} is not a label value`);
          else matchLabels[k] = v;
        }
      }
      let matchExpressions: LabelSelectorRequirement[] = [];
      if (pod.matchExpressions !== undefined) {
        const list = c.expectList(pod.matchExpressions, [...path, 'matchExpressions']);
        if (list !== null) matchExpressions = eachOf(list, [...path, 'matchExpressions'], (v, p) => checkLabelRequirement(v, p, c));
        checkRepresentable({ expressions: matchExpressions, labels: matchLabels }, [...path, 'matchExpressions'], c);
      }
      podSelector = { matchLabels, matchExpressions };
    }
  }

  let namespaces: string[] = [];
  if (selector.namespaces !== undefined) {
    const path = [...SELECTOR, 'namespaces'];
    const list = c.expectList(selector.namespaces, path);
    if (list !== null) namespaces = eachOf(list, path, (v, p) => c.expectPattern(v, p, DNS1123_LABEL_FORMAT));
    if (kind === 'TracingPolicyNamespaced' && list !== null && list.length > 0) {
      c.error(path, `not allowed on a TracingPolicyNamespaced (it applies only to its own namespace${namespace === null ? '' : ` "${namespace}"`})`);
    }
  }
  const containerName =
    selector.containerName === undefined || selector.containerName === null
      ? null
      : c.expectPattern(selector.containerName, [...SELECTOR, 'containerName'], DNS1123_LABEL_FORMAT);
  let host: boolean | null = null;
  if (selector.host !== undefined && selector.host !== null) {
    if (typeof selector.host === 'boolean') host = selector.host;
    else c.error([...SELECTOR, 'host'], `expected a boolean, got ${describe(selector.host)}`);
  }
  if (host === true) {
    if (kind === 'TracingPolicyNamespaced') {
      c.error([...SELECTOR, 'host'], 'true is not allowed on a TracingPolicyNamespaced (it applies only to pods of its namespace)');
    }
    const podFields = [
      podSelector !== null && (Object.keys(podSelector.matchLabels).length > 0 || podSelector.matchExpressions.length > 0) ? 'podSelector' : null,
      namespaces.length > 0 ? 'namespaces' : null,
      containerName !== null ? 'containerName' : null,
    ].filter((f) => f !== null);
    if (podFields.length > 0) {
      c.error([...SELECTOR, 'host'], `true (host processes only) contradicts ${podFields.join(', ')}, which select pods`);
    }
  }
  const pids = selector.pids === undefined || selector.pids === null ? null : checkPidSelector(selector.pids, c);
  if (pids?.namespace === 'container' && host === true) {
    c.error([...SELECTOR, 'pids', 'namespace'], 'container (pids as a container sees them) contradicts host: true, which selects host processes only');
  }
  return { podSelector, namespaces, containerName, host, pids };
}

const PID_MAX = 4_194_304; // PID_MAX_LIMIT on 64-bit kernels

function checkPidSelector(value: unknown, c: IssueCollector): PidSelectorSpec | null {
  const path = [...SELECTOR, 'pids'];
  const pids = c.expectMapping(value, path);
  if (pids === null) return null;
  c.checkKeys(pids, PID_SELECTOR_KEYS, path);
  let values: number[] = [];
  if (pids.values === undefined) c.error([...path, 'values'], 'required');
  else {
    const list = c.expectList(pids.values, [...path, 'values']);
    if (list !== null && list.length === 0) c.error([...path, 'values'], 'must not be empty (leave pids out to select any process)');
    values = dedupe(eachOf(list ?? [], [...path, 'values'], (v, p) => (typeof v === 'number' && Number.isInteger(v) && v >= 1 && v < PID_MAX ? v : (c.error(p, `${show(v)} is not a pid (1-${PID_MAX - 1})`), null))));
  }
  let followChildren = false;
  if (pids.followChildren !== undefined && pids.followChildren !== null) {
    if (typeof pids.followChildren === 'boolean') followChildren = pids.followChildren;
    else c.error([...path, 'followChildren'], `expected a boolean, got ${describe(pids.followChildren)}`);
  }
  let namespace: PidNamespaceName = 'host';
  if (pids.namespace !== undefined && pids.namespace !== null) namespace = c.expectSymbol(pids.namespace, PID_NAMESPACES, [...path, 'namespace']) ?? namespace;
  return { values, followChildren, namespace };
}

function checkRego(value: unknown, c: IssueCollector): RegoSpec | null {
  const path = ['spec', 'rego'];
  const rego = c.expectMapping(value, path);
  if (rego === null) return null;
  c.checkKeys(rego, REGO_KEYS, path);
  const errorsBefore = c.errors.length;
  const module = rego.module === undefined ? (c.error([...path, 'module'], 'required (the Rego source)'), null) : c.expectString(rego.module, [...path, 'module']);
  if (module !== null && Buffer.byteLength(module) > REGO_LIMITS.maxModuleBytes) c.error([...path, 'module'], `is ${Buffer.byteLength(module)} bytes; a module holds at most ${REGO_LIMITS.maxModuleBytes}`);
  else if (module !== null && !/^\s*package\s+\S/m.test(module)) c.error([...path, 'module'], 'has no package declaration');
  const entrypoint =
    rego.entrypoint === undefined
      ? (c.error([...path, 'entrypoint'], 'required (the rule yielding alerts, e.g. stinger/alerts)'), null)
      : c.expectPattern(rego.entrypoint, [...path, 'entrypoint'], { test: (text) => REGO_ENTRYPOINT.test(text), what: 'is not a rule path (package segments and rule name joined by "/", e.g. stinger/alerts)' });
  let events: RuleEvent[] = [];
  if (rego.events === undefined) c.error([...path, 'events'], `required (the event kinds the module is evaluated on: ${RULE_EVENTS.join(', ')})`);
  else {
    const list = c.expectList(rego.events, [...path, 'events']);
    if (list !== null && list.length === 0) c.error([...path, 'events'], 'must not be empty');
    events = dedupe(eachOf(list ?? [], [...path, 'events'], (v, p) => c.expectSymbol(v, RULE_EVENTS, p)));
  }
  const action = rego.action === undefined || rego.action === null ? 'audit' : c.expectSymbol(rego.action, REGO_ACTIONS, [...path, 'action']);
  if (c.errors.length !== errorsBefore || module === null || entrypoint === null || action === null) return null;
  return { module, entrypoint, events, action };
}

/**
 * CompiledPolicy.selector carries matchLabels only; an expression `key In [value]` is the same as a label and
 * folds into it. Anything else cannot be carried yet and is refused rather than dropped.
 */
function checkRepresentable(selector: { expressions: readonly LabelSelectorRequirement[]; labels: Record<string, string> }, path: PathSegments, c: IssueCollector): void {
  const { expressions, labels } = selector;
  expressions.forEach((expression, index) => {
    if (expression.operator !== 'In' || expression.values.length !== 1) {
      c.error(
        [...path, index],
        `${expression.operator}${expression.operator === 'In' ? ' with several values' : ''} cannot be carried by the compiled policy yet (only In with one value, which is a matchLabels entry)`,
      );
      return;
    }
    const existing = labels[expression.key];
    if (existing !== undefined && existing !== expression.values[0]) {
      c.error([...path, index], `${expression.key} In [${expression.values[0]}] contradicts matchLabels ${expression.key}: ${existing}`);
    }
  });
}

// ---------------------------------------------------------------------------------------------------------------
// spec.rules[].match

/** DNS names compare without case (RFC 4343) and without the root's trailing dot: lower-cased as the agent's are. */
function hostNameMatch(match: StringMatch): StringMatch {
  const names = (values: readonly string[], trimDot: boolean): string[] => [
    ...new Set(values.map((v) => (trimDot && v.endsWith('.') ? v.slice(0, -1) : v).toLowerCase())),
  ];
  return { equal: names(match.equal, true), prefix: names(match.prefix, false), suffix: names(match.suffix, true) };
}

function checkStringMatch(value: unknown, at: { path: PathSegments; paths: boolean }, c: IssueCollector): StringMatch | null {
  const { path } = at;
  const match = c.expectMapping(value, path);
  if (match === null) return null;
  c.checkKeys(match, STRING_MATCH_KEYS, path);
  const out: Record<(typeof STRING_MATCH_KEYS)[number], string[]> = { equal: [], prefix: [], suffix: [] };
  let ok = true;
  for (const operator of STRING_MATCH_KEYS) {
    if (match[operator] === undefined || match[operator] === null) continue;
    const list = c.expectList(match[operator], [...path, operator]);
    if (list === null) {
      ok = false;
      continue;
    }
    list.forEach((item, index) => {
      const itemPath = [...path, operator, index];
      const text = c.expectString(item, itemPath);
      if (text === null) {
        ok = false;
        return;
      }
      if (text.includes('\0')) {
        c.error(itemPath, `${JSON.stringify(text)} contains a NUL character`);
        ok = false;
        return;
      }
      if (!at.paths || operator === 'suffix') {
        out[operator].push(text);
        return;
      }
      const normalised = normaliseAbsolutePath(text, operator === 'prefix');
      if (normalised === null) {
        c.error(itemPath, `${JSON.stringify(text)} is not an absolute path`);
        ok = false;
        return;
      }
      if (normalised !== text) c.warn(itemPath, `${JSON.stringify(text)} normalised to ${JSON.stringify(normalised)}`);
      out[operator].push(normalised);
    });
  }
  if (!ok) return null;
  const used = STRING_MATCH_KEYS.filter((operator) => out[operator].length > 0);
  if (used.length === 0) {
    c.error(path, 'set one of equal, prefix, suffix');
    return null;
  }
  if (used.length > 1) {
    c.error(path, `set only one of equal, prefix, suffix, not ${used.join(' and ')} (the compiled policy ANDs conditions; write one rule per operator)`);
    return null;
  }
  return { equal: dedupe(out.equal), prefix: dedupe(out.prefix), suffix: dedupe(out.suffix) };
}

const dedupe = <T>(values: T[]): T[] => [...new Set(values)];

/** A SHA-256 digest as hex text; stored lower case (the agent's digests are). */
const SHA256_HEX = /^[0-9a-fA-F]{64}$/;

function checkRanges(list: unknown[], at: { path: PathSegments; what: 'port' | 'uid' }, c: IssueCollector): NumberRange[] {
  const { path, what } = at;
  const bounds = what === 'port' ? PORT_BOUNDS : ID_BOUNDS;
  const boundsText = `${bounds.min}-${bounds.max}`;
  return eachOf(list, path, (item, itemPath) => {
    const range = parseNumberRange(item, bounds);
    if (range !== null) return range;
    const looksLikeRange = typeof item === 'string' && item.includes('-');
    const noun = what === 'port' ? 'port number' : 'uid';
    c.error(
      itemPath,
      looksLikeRange
        ? `${show(item)} is not a ${what} range (low-high with ${bounds.min} <= low <= high <= ${bounds.max})`
        : `${show(item)} is not a ${noun} (${boundsText})`,
    );
    return null;
  });
}

function checkMatch(value: unknown, at: { event: RuleEvent | null; path: PathSegments }, c: IssueCollector): RuleMatch | null {
  const { event, path } = at;
  if (value === undefined || value === null) return {};
  const match = c.expectMapping(value, path);
  if (match === null) return null;
  const allowed: readonly string[] = event === null ? ALL_MATCH_FIELDS : matchFieldsOf(event);
  const out: Record<string, unknown> = {};
  let ok = true;
  for (const [key, fieldValue] of Object.entries(match)) {
    const fieldPath = [...path, key];
    if (!allowed.includes(key)) {
      ok = false;
      if ((ALL_MATCH_FIELDS as string[]).includes(key)) {
        c.error(fieldPath, `not a match field of event ${JSON.stringify(event)} (allowed: ${allowed.join(', ')})`);
      } else {
        const suggestion = closest(key, allowed);
        c.error(fieldPath, suggestion === null ? `unknown key (allowed: ${allowed.join(', ')})` : `unknown key (did you mean "${suggestion}"?)`);
      }
      continue;
    }
    // `event` is known here: with an unknown event, `allowed` holds every field and the rule fails anyway.
    const result = checkMatchField(fieldValue, { field: key as MatchField, event: event ?? 'exec', path: fieldPath }, c);
    if (result === null) ok = false;
    else out[key] = result;
  }
  return ok ? (out as RuleMatch) : null;
}

function checkMatchField(value: unknown, at: { field: MatchField; event: RuleEvent; path: PathSegments }, c: IssueCollector): unknown {
  const { field } = at;
  const definition = MATCH_FIELDS[field];
  const { path } = at;
  switch (definition.kind) {
    case 'path-match':
      return checkStringMatch(value, { path, paths: true }, c);
    case 'string-match': {
      const checked = checkStringMatch(value, { path, paths: false }, c);
      return checked !== null && HOST_NAME_FIELDS.has(field) ? hostNameMatch(checked) : checked;
    }
    case 'symbols':
    case 'cidrs':
    case 'ports':
    case 'ids':
    case 'digests':
      break;
  }
  const list = c.expectList(value, path);
  if (list === null) return null;
  if (list.length === 0) {
    c.error(path, 'must not be empty (leave the field out to match any value)');
    return null;
  }
  const errorsBefore = c.errors.length;
  let result: unknown[];
  switch (definition.kind) {
    case 'symbols': {
      const symbols = symbolsOf(field, at.event);
      result = eachOf(list, path, (item, itemPath) => {
        if (symbols !== null) {
          if (typeof item === 'string' && symbols.includes(item)) return item;
          c.error(itemPath, symbolIssue(item, symbols, field === 'capabilities' ? 'a capability name' : undefined));
          return null;
        }
        if (typeof item === 'string' && definition.pattern !== undefined && definition.pattern.test(item)) return item;
        c.error(itemPath, `${show(item)} is not ${definition.patternDescription ?? 'a valid name'}`);
        return null;
      });
      result = dedupe(result);
      break;
    }
    case 'cidrs':
      result = eachOf(list, path, (item, itemPath) => {
        const parsed = typeof item === 'string' ? parseCidr(item.trim()) : null;
        if (parsed === null) {
          c.error(itemPath, `${show(item)} is not a CIDR (IPv4 a.b.c.d/0-32 or IPv6 x:y::z/0-128, or a bare address)`);
          return null;
        }
        if (parsed.hostBitsCleared) {
          c.warn(itemPath, `${JSON.stringify(item)} normalised to ${JSON.stringify(parsed.canonical)} (host bits cleared)`);
        }
        return parsed.canonical;
      });
      result = dedupe(result);
      break;
    case 'ports':
      result = checkRanges(list, { path, what: 'port' }, c);
      break;
    case 'ids':
      result = checkRanges(list, { path, what: 'uid' }, c);
      break;
    case 'digests':
      result = dedupe(
        eachOf(list, path, (item, itemPath) => {
          if (typeof item === 'string' && SHA256_HEX.test(item)) return item.toLowerCase();
          c.error(itemPath, `${show(item)} is not a SHA-256 digest (exactly 64 hex digits)`);
          return null;
        }),
      );
      break;
  }
  return c.errors.length === errorsBefore ? result : null;
}

// ---------------------------------------------------------------------------------------------------------------
// spec.rules[]

function checkRule(value: unknown, at: { index: number; names: Map<string, number>; context: IdentityContext }, c: IssueCollector): PolicyRuleSpec | null {
  const { index, names } = at;
  const path = ['spec', 'rules', index];
  const rule = c.expectMapping(value, path);
  if (rule === null) return null;
  c.checkKeys(rule, RULE_KEYS, path);
  const errorsBefore = c.errors.length;

  let name: string | null = null;
  if (rule.name === undefined) c.error([...path, 'name'], 'required');
  else name = c.expectPattern(rule.name, [...path, 'name'], DNS1123_LABEL_FORMAT);
  if (name !== null) {
    const first = names.get(name);
    if (first !== undefined) c.error([...path, 'name'], `${JSON.stringify(name)} is already the name of spec.rules[${first}]`);
    else names.set(name, index);
  }

  let event: RuleEvent | null = null;
  let match: RuleMatch | null = {};
  let exclude: RuleMatch | null = {};
  let sequence: SequenceSpec | null = null;
  if (rule.sequence !== undefined && rule.sequence !== null) {
    for (const key of ['event', 'match', 'exclude'] as const) {
      if (rule[key] !== undefined) c.error([...path, key], 'not allowed beside sequence (a sequence rule names its events and conditions in its steps)');
    }
    sequence = checkSequence(rule.sequence, [...path, 'sequence'], c);
    event = sequence?.steps[sequence.steps.length - 1]?.event ?? null;
  } else {
    event = rule.event === undefined ? (c.error([...path, 'event'], 'required (or a sequence)'), null) : c.expectSymbol(rule.event, RULE_EVENTS, [...path, 'event']);
    match = checkMatch(rule.match, { event, path: [...path, 'match'] }, c);
    exclude = checkMatch(rule.exclude, { event, path: [...path, 'exclude'] }, c);
  }
  const action = rule.action === undefined ? (c.error([...path, 'action'], 'required'), null) : c.expectSymbol(rule.action, RULE_ACTIONS, [...path, 'action']);
  if (action === 'deny-connect' && sequence !== null) {
    c.error([...path, 'action'], 'deny-connect does not apply to a sequence (its last event has happened when the sequence is complete; use kill)');
  } else if (action === 'deny-connect' && event !== null && event !== 'connect') {
    c.error([...path, 'action'], `deny-connect applies only to event connect, not ${event}`);
  } else if (action === 'deny' && event !== null) {
    checkDeny({ event, match, exclude, sequence }, { index, context: at.context }, c);
    // A file deny rule without op is about opens (the only file operation it refuses); said, so the detector agrees.
    if (event === 'file' && match !== null && match.op === undefined) match = { ...match, op: ['open'] };
  }
  const severity = rule.severity === undefined || rule.severity === null ? 'medium' : c.expectSymbol(rule.severity, SEVERITIES, [...path, 'severity']);
  let tags: string[] = [];
  if (rule.tags !== undefined && rule.tags !== null) {
    const list = c.expectList(rule.tags, [...path, 'tags']);
    if (list !== null) tags = dedupe(eachOf(list, [...path, 'tags'], (v, p) => c.expectString(v, p)));
  }
  if (c.errors.length !== errorsBefore || name === null || event === null || match === null || exclude === null || action === null || severity === null) return null;
  return { name, event, match, exclude, sequence, action, severity, tags };
}

/**
 * A deny rule is decided by the agent at the open (or execve) of a file it marked: event file (op open) or exec, and
 * only conditions the agent can decide there (identityObstacles), each problem reported at its field.
 */
function checkDeny(rule: Parameters<typeof identityObstacles>[0], at: { index: number; context: IdentityContext }, c: IssueCollector): void {
  const path = ['spec', 'rules', at.index];
  if (rule.sequence === null && rule.event !== 'file' && rule.event !== 'exec') {
    c.error([...path, 'action'], `deny applies only to events file (open) and exec, not ${rule.event} (the agent refuses opens and execs of the files it marks)`);
    return;
  }
  const op = rule.match?.op;
  if (rule.sequence === null && op !== undefined && (op.length !== 1 || op[0] !== 'open')) {
    const others = op.filter((o) => o !== 'open');
    c.error([...path, 'match', 'op'], `action deny applies to open only (the open fails with EPERM); write another rule for ${others.join(', ')}`);
  }
  for (const obstacle of identityObstacles(rule, { index: at.index, action: 'deny', context: at.context })) c.error(obstacle.segments, obstacle.message);
}

/** Which correlation fields an event carries (binary and parentBinary: every event). */
function correlationFieldsOf(event: RuleEvent): readonly CorrelationField[] {
  return CORRELATION_FIELDS.filter((field) => field === 'binary' || field === 'parentBinary' || matchFieldsOf(event).includes(field));
}

function checkDuration(value: unknown, path: PathSegments, c: IssueCollector): number | null {
  const text = c.expectString(value, path);
  if (text === null) return null;
  const parsed = DURATION_PATTERN.exec(text);
  if (parsed === null) {
    c.error(path, `${JSON.stringify(text)} is not a duration (a whole number with ms, s or m, e.g. 30s)`);
    return null;
  }
  const ms = Number(parsed[1]) * (parsed[2] === 'm' ? 60_000 : parsed[2] === 's' ? 1000 : 1);
  if (ms < SEQUENCE_LIMITS.minWithinMs || ms > SEQUENCE_LIMITS.maxWithinMs) {
    c.error(path, `${JSON.stringify(text)} is outside 1s..10m (the detector keeps, and after a restart re-reads, that much history)`);
    return null;
  }
  return ms;
}

function checkSequence(value: unknown, path: PathSegments, c: IssueCollector): SequenceSpec | null {
  const sequence = c.expectMapping(value, path);
  if (sequence === null) return null;
  c.checkKeys(sequence, SEQUENCE_KEYS, path);
  const errorsBefore = c.errors.length;
  const by = sequence.by === undefined ? 'processTree' : c.expectSymbol(sequence.by, SEQUENCE_SCOPES, [...path, 'by']);
  const withinMs = sequence.within === undefined ? (c.error([...path, 'within'], 'required (e.g. 60s)'), null) : checkDuration(sequence.within, [...path, 'within'], c);
  const steps: SequenceStepSpec[] = [];
  if (sequence.steps === undefined) c.error([...path, 'steps'], 'required');
  else {
    const list = c.expectList(sequence.steps, [...path, 'steps']);
    if (list !== null && (list.length < SEQUENCE_LIMITS.minSteps || list.length > SEQUENCE_LIMITS.maxSteps)) {
      c.error([...path, 'steps'], `holds ${list.length} steps; a sequence has ${SEQUENCE_LIMITS.minSteps} to ${SEQUENCE_LIMITS.maxSteps}`);
    }
    // The previous step's event as written, so a step's correlation is checked even when that step has other errors.
    const eventAt = (index: number): RuleEvent | null => {
      const item: unknown = list?.[index];
      const event = isMapping(item) ? item.event : undefined;
      return typeof event === 'string' && (RULE_EVENTS as readonly string[]).includes(event) ? (event as RuleEvent) : null;
    };
    list?.forEach((item, index) => {
      const step = checkSequenceStep(item, { path: [...path, 'steps', index], previous: index === 0 ? null : eventAt(index - 1) }, c);
      if (step !== null) steps.push(step);
    });
  }
  if (c.errors.length !== errorsBefore || by === null || withinMs === null) return null;
  return { by, withinMs, steps };
}

function checkSequenceStep(value: unknown, at: { path: PathSegments; previous: RuleEvent | null }, c: IssueCollector): SequenceStepSpec | null {
  const { path, previous } = at;
  const step = c.expectMapping(value, path);
  if (step === null) return null;
  c.checkKeys(step, SEQUENCE_STEP_KEYS, path);
  const errorsBefore = c.errors.length;
  const event = step.event === undefined ? (c.error([...path, 'event'], 'required'), null) : c.expectSymbol(step.event, RULE_EVENTS, [...path, 'event']);
  const match = checkMatch(step.match, { event, path: [...path, 'match'] }, c);
  const sameAs: Partial<Record<CorrelationField, CorrelationField>> = {};
  if (step.sameAs !== undefined && step.sameAs !== null) {
    const mapping = c.expectMapping(step.sameAs, [...path, 'sameAs']);
    if (mapping !== null && at.path[at.path.length - 1] === 0) c.error([...path, 'sameAs'], 'not allowed on the first step (there is no previous step)');
    for (const [field, other] of Object.entries(mapping ?? {})) {
      const fieldPath = [...path, 'sameAs', field];
      if (event !== null && !(correlationFieldsOf(event) as readonly string[]).includes(field)) {
        c.error(fieldPath, `not a field of event ${event} that can be correlated (allowed: ${correlationFieldsOf(event).join(', ')})`);
        continue;
      }
      if (previous !== null && (typeof other !== 'string' || !(correlationFieldsOf(previous) as readonly string[]).includes(other))) {
        c.error(fieldPath, `${show(other)} is not a field of the previous step's event ${previous} that can be correlated (allowed: ${correlationFieldsOf(previous).join(', ')})`);
        continue;
      }
      sameAs[field as CorrelationField] = other as CorrelationField;
    }
  }
  if (c.errors.length !== errorsBefore || event === null || match === null) return null;
  return { event, match, sameAs };
}

// ---------------------------------------------------------------------------------------------------------------
// the document

export interface CheckedPolicy {
  readonly policy: TracingPolicy | null;
  readonly errors: readonly RawIssue[];
  readonly warnings: readonly RawIssue[];
}

/** Validates one document; `policy` is null exactly when `errors` is not empty. */
export function checkPolicy(value: unknown): CheckedPolicy {
  const c = new IssueCollector();
  const policy = checkDocument(value, c);
  return { policy: c.errors.length === 0 ? policy : null, errors: c.errors, warnings: c.warnings };
}

function checkDocument(value: unknown, c: IssueCollector): TracingPolicy | null {
  if (!isMapping(value)) {
    c.error([], `expected a mapping (a TracingPolicy object), got ${describe(value)}`);
    return null;
  }
  c.checkKeys(value, TOP_LEVEL_KEYS, []);
  if (value.apiVersion === undefined) c.error(['apiVersion'], 'required');
  else if (value.apiVersion !== POLICY_API_VERSION) {
    c.error(['apiVersion'], `${show(value.apiVersion)} is not supported (expected "${POLICY_API_VERSION}")`);
  }
  const kind = value.kind === undefined ? (c.error(['kind'], 'required'), null) : c.expectSymbol(value.kind, POLICY_KINDS, ['kind']);
  const metadata = checkMetadata(value.metadata, kind, c);

  if (value.spec === undefined) {
    c.error(['spec'], 'required');
    return null;
  }
  const spec = c.expectMapping(value.spec, ['spec']);
  if (spec === null) return null;
  c.checkKeys(spec, SPEC_KEYS, ['spec']);
  const mode = spec.mode === undefined || spec.mode === null ? 'enforce' : c.expectSymbol(spec.mode, POLICY_MODES, ['spec', 'mode']);
  const selector = checkSelector(spec.selector, { kind, namespace: metadata.namespace }, c);
  const rego = spec.rego === undefined || spec.rego === null ? null : checkRego(spec.rego, c);
  const rules: PolicyRuleSpec[] = [];
  if (spec.rules === undefined) {
    if (spec.rego === undefined || spec.rego === null) c.error(['spec', 'rules'], 'required (or a rego module)');
  } else {
    const list = c.expectList(spec.rules, ['spec', 'rules']);
    if (list !== null && list.length === 0 && (spec.rego === undefined || spec.rego === null)) c.error(['spec', 'rules'], 'must hold at least one rule (or the policy a rego module)');
    const names = new Map<string, number>();
    list?.forEach((rule, index) => {
      const checked = checkRule(rule, { index, names, context: { kind, selector } }, c);
      if (checked !== null) rules.push(checked);
    });
  }
  if (kind === null || metadata.name === null || mode === null || c.errors.length > 0) return null;
  return {
    apiVersion: POLICY_API_VERSION,
    kind,
    metadata: { name: metadata.name, namespace: metadata.namespace, uid: metadata.uid, generation: metadata.generation },
    spec: { mode, selector, rules, rego },
  };
}

export function toIssue(raw: RawIssue): PolicyIssue {
  return { path: formatPath(raw.segments), message: raw.message };
}

export interface ValidatedPolicy {
  readonly policy: TracingPolicy;
  /** Normalisations applied (paths, CIDRs): the policy is valid, but differs from what was written. */
  readonly warnings: readonly PolicyIssue[];
}

/**
 * Validates a policy object (parsed YAML/JSON, or an object from the API server).
 * @throws PolicyValidationError listing every problem found.
 */
export function validatePolicy(value: unknown): ValidatedPolicy {
  const checked = checkPolicy(value);
  if (checked.policy === null) throw new PolicyValidationError(checked.errors.map(toIssue));
  return { policy: checked.policy, warnings: checked.warnings.map(toIssue) };
}
