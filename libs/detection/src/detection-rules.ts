/**
 * DetectionRules: the rules of every policy in force, compiled for matching, indexed by event kind.
 *
 * Contract: the detector calls `set(key, record)` for each verified stinger.policies record (null: the policy was
 * deleted); a record whose conditions cannot be evaluated throws ConditionError and leaves the previous version in
 * force. `single(kind)` are the one-event rules for that kind, `sequences()` the stateful ones. Every rule is
 * evaluated, whether the kernel also enforces it or not: the kernel acts first where it can, and the alert then
 * records what it did (event.action); where the kernel could not see it (a symlink, a relative path with `..`),
 * the pipeline catches it.
 */
import type { CompiledPolicy, Event, EventKind, PolicyAction, PolicyMode, SequenceScope, Severity } from '@stinger/events';
import { compileConditions, ConditionError, type EventPredicate } from './conditions.ts';
import { AncestryIndex, type ProcessLineage } from './process-ancestry.ts';
import { regoRuleOf, type RegoRule } from './rego-rules.ts';
import { compileSelector } from './selector.ts';

export interface RuleIdentity {
  /** Policy key: name, or namespace/name. */
  readonly policy: string;
  readonly generation: bigint;
  readonly mode: PolicyMode;
  readonly rule: string;
  readonly action: PolicyAction;
  readonly severity: Severity;
  readonly tags: readonly string[];
  /** Namespaces the policy's selector names (a never-touch namespace is acted on only when named). */
  readonly namespaces: readonly string[];
}

/** What find() answers for an alert of a policy's Rego module. */
export interface RegoRuleIdentity extends RuleIdentity {
  readonly rego: RegoRule;
}

export interface SingleEventRule extends RuleIdentity {
  readonly event: EventKind;
  readonly selector: EventPredicate;
  readonly matches: EventPredicate;
}

export interface CompiledStep {
  readonly event: EventKind;
  readonly matches: EventPredicate;
  /** [this step's field, previous step's field]. */
  readonly sameAs: readonly (readonly [string, string])[];
}

export interface SequenceRule extends RuleIdentity {
  /** `policy/rule`: where its partial matches are kept (a new version of the rule finds its predecessor's). */
  readonly key: string;
  readonly selector: EventPredicate;
  readonly by: SequenceScope;
  readonly withinNs: bigint;
  readonly steps: readonly CompiledStep[];
  /** The kinds of the steps after the first: the events that can advance a partial match. */
  readonly laterKinds: ReadonlySet<EventKind>;
}

interface CompiledEntry {
  readonly single: readonly SingleEventRule[];
  readonly sequences: readonly SequenceRule[];
  readonly rego: RegoRule | null;
}

function compileRecord(key: string, record: CompiledPolicy, lineage: ProcessLineage): CompiledEntry {
  const selector = compileSelector(record.selector, lineage);
  if (record.rego !== null && record.rego.wasm.length === 0) throw new ConditionError('its Rego module was published without its compiled WebAssembly');
  const single: SingleEventRule[] = [];
  const sequences: SequenceRule[] = [];
  for (const rule of record.rules) {
    const identity: RuleIdentity = {
      policy: key,
      generation: record.generation,
      mode: record.mode,
      rule: rule.name,
      action: rule.action,
      severity: rule.severity,
      tags: rule.tags,
      namespaces: record.selector.namespaces,
    };
    if (rule.sequence === null) {
      single.push({ ...identity, event: rule.event, selector, matches: compileConditions(rule.match) });
      continue;
    }
    sequences.push({
      ...identity,
      key: `${key}/${rule.name}`,
      selector,
      by: rule.sequence.by,
      withinNs: rule.sequence.within_ms * 1_000_000n,
      steps: rule.sequence.steps.map((step) => ({ event: step.event, matches: compileConditions(step.match), sameAs: Object.entries(step.same_as) })),
      laterKinds: new Set(rule.sequence.steps.slice(1).map((step) => step.event)),
    });
  }
  return { single, sequences, rego: regoRuleOf(key, record, selector) };
}

export interface DetectionRulesOptions {
  /**
   * How pid selectors see process trees. Default: a new AncestryIndex, which the detector feeds (`ancestry`); the
   * enforcer, which sees no events, passes DETECTOR_DECIDED_LINEAGE.
   */
  readonly lineage?: ProcessLineage;
}

export class DetectionRules {
  /** The process trees the detector learns from its events (it calls learn() on each before matching it). */
  readonly ancestry = new AncestryIndex();
  readonly #lineage: ProcessLineage;
  readonly #entries = new Map<string, CompiledEntry>();
  #byKind = new Map<EventKind, SingleEventRule[]>();
  #sequences: SequenceRule[] = [];
  #sequencesByKind = new Map<EventKind, SequenceRule[]>();
  #rego: RegoRule[] = [];
  #version = 0;

  constructor(options: DetectionRulesOptions = {}) {
    this.#lineage = options.lineage ?? this.ancestry;
  }

  /** Replaces the rules of policy `key` (null: removes them). @throws ConditionError (nothing changes). */
  set(key: string, record: CompiledPolicy | null): void {
    if (record === null) this.#entries.delete(key);
    else this.#entries.set(key, compileRecord(key, record, this.#lineage));
    this.#reindex();
  }

  single(kind: EventKind): readonly SingleEventRule[] {
    return this.#byKind.get(kind) ?? [];
  }

  sequences(): readonly SequenceRule[] {
    return this.#sequences;
  }

  /** The Rego modules in force, one per policy that carries one (rego-rules.ts evaluates them). */
  rego(): readonly RegoRule[] {
    return this.#rego;
  }

  /** The sequences with a step on events of `kind`, in the order of sequences(). */
  sequencesFor(kind: EventKind): readonly SequenceRule[] {
    return this.#sequencesByKind.get(kind) ?? [];
  }

  /** Longest sequence window in force, in ns (0 with none): how much input a restarted detector re-reads. */
  maxWindowNs(): bigint {
    return this.#sequences.reduce((max, rule) => (rule.withinNs > max ? rule.withinNs : max), 0n);
  }

  /** Changes with every set(): a consumer caching per-rule state can tell the rules changed. */
  get version(): number {
    return this.#version;
  }

  /**
   * The rule in force named by an alert, or undefined (the enforcer's re-check). A rule name the policy's own rules do
   * not use names an alert of its Rego module: its identity carries the module's action cap.
   */
  find(policy: string, rule: string): SingleEventRule | SequenceRule | RegoRuleIdentity | undefined {
    const entry = this.#entries.get(policy);
    const found = entry?.single.find((r) => r.rule === rule) ?? entry?.sequences.find((r) => r.rule === rule);
    if (found !== undefined || entry?.rego === null || entry?.rego === undefined) return found;
    const { rego } = entry;
    return { policy, generation: rego.generation, mode: rego.mode, rule, action: rego.action, severity: 'medium', tags: [], namespaces: rego.namespaces, rego };
  }

  /** Whether `event` satisfies the rule named by an alert (for a sequence, its last step). */
  matchesRule(policy: string, rule: string, event: Event): boolean {
    const found = this.find(policy, rule);
    if (found === undefined) return false;
    // A Rego alert: the module ran in the detector, on ancestry only the detector holds; what is checked here is that
    // the policy in force carries a module evaluated on this kind of event, for this process.
    if ('rego' in found) return found.rego.events.has(event.kind) && found.rego.selector(event);
    if (!found.selector(event)) return false;
    if ('matches' in found) return found.event === event.kind && found.matches(event);
    const last = found.steps[found.steps.length - 1];
    return last !== undefined && last.event === event.kind && last.matches(event);
  }

  get size(): number {
    return this.#entries.size;
  }

  #reindex(): void {
    const byKind = new Map<EventKind, SingleEventRule[]>();
    const sequences: SequenceRule[] = [];
    const rego: RegoRule[] = [];
    for (const key of [...this.#entries.keys()].sort()) {
      const entry = this.#entries.get(key);
      if (entry === undefined) continue;
      if (entry.rego !== null) rego.push(entry.rego);
      for (const rule of entry.single) {
        const list = byKind.get(rule.event);
        if (list) list.push(rule);
        else byKind.set(rule.event, [rule]);
      }
      sequences.push(...entry.sequences);
    }
    const sequencesByKind = new Map<EventKind, SequenceRule[]>();
    for (const rule of sequences) {
      for (const kind of new Set(rule.steps.map((step) => step.event))) {
        const list = sequencesByKind.get(kind);
        if (list) list.push(rule);
        else sequencesByKind.set(kind, [rule]);
      }
    }
    this.#byKind = byKind;
    this.#sequences = sequences;
    this.#sequencesByKind = sequencesByKind;
    this.#rego = rego;
    this.#version += 1;
  }
}
