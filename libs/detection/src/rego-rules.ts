/**
 * Rego rules in the detector: which policies carry a Rego module, what the module sees, and the alerts it raises.
 *
 * Contract: `RegoStage.prepare(batch)` runs in the detector's prepareBatch (it is async: the modules run in a worker
 * thread with a time budget per event, @stinger/rego RegoBatchEvaluator), before the batch's transform calls; for each
 * event of a kind a module names and whose policy selector matches, the module gets the input
 *   { event: <the enriched event, numbers as JSON numbers>, ancestors: [{ pid, binary }, …], container }
 * (ancestors: `{ pid, binary }` of the parent first, as far as this detector has seen the chain, at most 32;
 * container: null outside a container, else `{ entry: { pid, binary, start_time }, from_entry: true|false|null }`,
 * process-ancestry.ts) and its alerts are held until
 * `take(record)` is called from that record's transform. An event whose evaluation is stopped or traps raises nothing
 * and is counted; the partition goes on.
 */
import type { Alert, CompiledPolicy, Event, EventKind, PolicyAction } from '@stinger/events';
import type { ConsumedRecord } from '@stinger/kafka';
import type { RegoAlert, RegoBatchEvaluator, RegoJob } from '@stinger/rego';
import { buildAlert } from './alerts.ts';
import type { EventPredicate } from './conditions.ts';
import type { RuleIdentity } from './detection-rules.ts';
import type { AncestryIndex } from './process-ancestry.ts';

/** A policy's Rego module as the detector holds it. */
export interface RegoRule {
  /** Key of the module in the evaluator: policy key and generation (a new version is a new module). */
  readonly moduleKey: string;
  readonly policy: string;
  readonly generation: bigint;
  readonly mode: CompiledPolicy['mode'];
  readonly namespaces: readonly string[];
  readonly selector: EventPredicate;
  readonly events: ReadonlySet<EventKind>;
  /** The most an alert of the module may ask for. */
  readonly action: PolicyAction;
  readonly wasm: Uint8Array;
}

export function regoRuleOf(key: string, record: CompiledPolicy, selector: EventPredicate): RegoRule | null {
  const { rego } = record;
  if (rego === null) return null;
  return {
    moduleKey: `${key}@${record.generation}`,
    policy: key,
    generation: record.generation,
    mode: record.mode,
    namespaces: record.selector.namespaces,
    selector,
    events: new Set(rego.events),
    action: rego.action,
    wasm: rego.wasm,
  };
}

/** The identity of a Rego alert: the module's policy, the alert's rule name, its action capped by the policy's. */
export function regoIdentity(rule: RegoRule, alert: RegoAlert): RuleIdentity {
  const action: PolicyAction = alert.action === 'kill' && rule.action === 'kill' ? 'kill' : 'audit';
  return { policy: rule.policy, generation: rule.generation, mode: rule.mode, rule: alert.rule, action, severity: alert.severity, tags: alert.tags, namespaces: rule.namespaces };
}

/** The document a module sees as `input` (docs/policies.md, "Rego rules"), as JSON text. */
export function regoInput(event: Event, ancestry: AncestryIndex): string {
  const origin = ancestry.containerOrigin(event);
  const container = origin === null ? null : { entry: origin.entry, from_entry: origin.fromEntry };
  return JSON.stringify(jsonSafe({ event, ancestors: ancestry.ancestors(event), container }));
}

/** bigint → number when safe, else its decimal text (JSON has no bigint). */
function jsonNumber(value: bigint): number | string {
  return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(value) : value.toString();
}

/**
 * `value` with every bigint made a JSON number (jsonNumber), copying only the objects and arrays on the way to one
 * (an event holds a few: time, uids, start times); the rest is shared. JSON.stringify without a replacer then takes
 * its fast path: a third less CPU per exec event than a replacer called for every key (same text).
 */
function jsonSafe(value: unknown): unknown {
  if (typeof value === 'bigint') return jsonNumber(value);
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | null = null;
    for (let index = 0; index < value.length; index++) {
      const item: unknown = value[index];
      const safe = jsonSafe(item);
      if (safe === item) continue;
      copy ??= value.slice();
      copy[index] = safe;
    }
    return copy ?? value;
  }
  // for…in, not Object.entries: no array per object (decoded records have own, enumerable keys only).
  const record = value as Record<string, unknown>;
  let copy: Record<string, unknown> | null = null;
  for (const key in record) {
    const item = record[key];
    const safe = jsonSafe(item);
    if (safe === item) continue;
    copy ??= { ...record };
    copy[key] = safe;
  }
  return copy ?? value;
}

export interface RegoStageStats {
  regoEvaluations: number;
  regoAlerts: number;
  regoStopped: number;
  regoFailed: number;
  regoMalformed: number;
}

export class RegoStage {
  readonly #evaluator: RegoBatchEvaluator;
  readonly #ancestry: AncestryIndex;
  readonly #loaded = new Set<string>();
  /** Alerts per `partition:offset` of the batch being transformed. */
  #held = new Map<string, Alert[]>();
  readonly #now: () => bigint;
  readonly stats: RegoStageStats = { regoEvaluations: 0, regoAlerts: 0, regoStopped: 0, regoFailed: 0, regoMalformed: 0 };

  constructor(options: { readonly evaluator: RegoBatchEvaluator; readonly ancestry: AncestryIndex; readonly now?: () => bigint }) {
    this.#evaluator = options.evaluator;
    this.#ancestry = options.ancestry;
    this.#now = options.now ?? (() => BigInt(Date.now()) * 1_000_000n);
  }

  async prepare(batch: readonly { readonly record: ConsumedRecord; readonly event: Event }[], rules: readonly RegoRule[]): Promise<void> {
    this.#held = new Map();
    this.#sync(rules);
    const jobs: RegoJob[] = [];
    const owners: { readonly rule: RegoRule; readonly event: Event; readonly at: string }[] = [];
    for (const { record, event } of batch) {
      this.#ancestry.learn(event);
      let input: string | null = null;
      for (const rule of rules) {
        if (!rule.events.has(event.kind) || !rule.selector(event)) continue;
        input ??= regoInput(event, this.#ancestry);
        jobs.push({ key: rule.moduleKey, input });
        owners.push({ rule, event, at: `${record.partition}:${record.offset}` });
      }
    }
    if (jobs.length === 0) return;
    const results = await this.#evaluator.evaluate(jobs);
    results.forEach((result, index) => {
      const owner = owners[index];
      if (owner === undefined) return;
      this.stats.regoEvaluations += 1;
      if (result.kind === 'stopped') this.stats.regoStopped += 1;
      if (result.kind === 'failed') this.stats.regoFailed += 1;
      if (result.kind !== 'alerts') return;
      this.stats.regoMalformed += result.malformed;
      for (const alert of result.alerts) {
        const built = buildAlert({ rule: regoIdentity(owner.rule, alert), event: owner.event, related: [], count: 1, firstSeenNs: null, groupKey: null, nowNs: this.#now() });
        const list = this.#held.get(owner.at) ?? [];
        list.push({ ...built, message: `${owner.rule.policy}/${alert.rule}: ${alert.message}` });
        this.#held.set(owner.at, list);
        this.stats.regoAlerts += 1;
      }
    });
  }

  /** The alerts `prepare` raised for this record (once). */
  take(record: ConsumedRecord): readonly Alert[] {
    const at = `${record.partition}:${record.offset}`;
    const alerts = this.#held.get(at);
    if (alerts === undefined) return [];
    this.#held.delete(at);
    return alerts;
  }

  /** Loads modules new to the evaluator and drops those no longer in force. */
  #sync(rules: readonly RegoRule[]): void {
    const wanted = new Set(rules.map((rule) => rule.moduleKey));
    for (const key of this.#loaded) {
      if (wanted.has(key)) continue;
      this.#evaluator.set(key, null);
      this.#loaded.delete(key);
    }
    for (const rule of rules) {
      if (this.#loaded.has(rule.moduleKey)) continue;
      this.#evaluator.set(rule.moduleKey, rule.wasm);
      this.#loaded.add(rule.moduleKey);
    }
  }
}
