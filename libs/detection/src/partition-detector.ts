/**
 * PartitionDetector: the detector's state for one partition of stinger.events (one partition holds whole nodes,
 * since events are keyed by node, so every sequence and group lives in one partition).
 *
 * Contract:
 *  - `observe(event, { emit })` feeds one event in partition order and returns the alerts it raises. With
 *    emit false (a replay after a restart or a partition move) the state advances exactly as it would have, and
 *    nothing is returned: the alerts of that input were published by whoever processed it first.
 *  - Time is the events' own (event.time), never the wall clock, so a replay rebuilds the same state.
 *  - Grouping: a single-event rule's first match in a group raises an alert at once; further matches of the group
 *    within `groupWindowNs` are counted, and the next match after the window (or `flush`, once the partition's
 *    time passed the window) raises one alert carrying the count. A group is one process for rules that act
 *    (kill every offending process) or whose event the kernel acted on, one binary in one pod or host for rules
 *    that only alert.
 *  - Sequences: a partial match per (rule, scope) advances when the rule's next step matches an event of the same
 *    scope (and its sameAs correlation holds), and is dropped once older than the rule's window. Bounded: at most
 *    `maxPartialsPerRule` partials per rule and scope key, `maxGroups` groups, `maxProcesses` ancestry entries;
 *    the oldest go first. An exited process's ancestry entry goes sooner: `exitedRetentionNs` (2 minutes of event
 *    time) after its exit event once no entry names it as parent (ExitedLineage), so a steady process rate keeps
 *    rate × retention entries plus the live processes' ancestors, not every process the node ran.
 */
import type { Alert, Event } from '@stinger/events';
import type { MatchField } from '@stinger/policy';
import { buildAlert } from './alerts.ts';
import type { CompiledStep, DetectionRules, SequenceRule, SingleEventRule } from './detection-rules.ts';
import { fieldValues, type FieldValue } from './event-fields.ts';
import { ExitedLineage } from './exited-lineage.ts';

export interface PartitionDetectorOptions {
  readonly rules: DetectionRules;
  readonly groupWindowNs?: bigint;
  readonly maxGroups?: number;
  readonly maxPartialsPerRule?: number;
  readonly maxProcesses?: number;
  /** How long after its exit (event time) an exited process's ancestry entry stays at least; 2 minutes by default. */
  readonly exitedRetentionNs?: bigint;
  /** Alert.time; the wall clock by default (the alert's own time, not used for any decision). */
  readonly now?: () => bigint;
  /**
   * Called with every event the detector keeps beyond observe() (a sequence's matched steps, a group's last counted
   * match); what it returns is kept. The replay passes @stinger/events keepEvent. Default: the event itself.
   */
  readonly keep?: (event: Event) => Event;
}

interface Group {
  readonly rule: SingleEventRule;
  windowStartNs: bigint;
  pending: number;
  firstPendingNs: bigint;
  lastPending: Event | null;
}

interface Partial {
  readonly rule: SequenceRule;
  readonly scopeKey: string;
  /** The first step's time plus the rule's window: later events no longer advance it (compared, not subtracted). */
  readonly expiresNs: bigint;
  /** Events of the steps matched so far, in order. */
  readonly events: Event[];
  /** Process identities of those events (the process-tree test looks for the last one). */
  readonly processes: string[];
  /** The parent's identity of the last matched event's process (it counts for the process tree too). */
  lastParent: string | null;
  /** For each sameAs pair of the next step, the values the last matched event holds for its field. */
  next: readonly ReadonlySet<FieldValue>[];
}

/**
 * The partial matches of one rule in one scope, oldest first, and what their next steps wait for: per event field of
 * a next step's first sameAs pair, every value some partial would correlate with. An event none of those values
 * (and no partial without sameAs) can concern is not walked through the list. Rebuilt whenever the list changes.
 */
interface Scope {
  readonly partials: readonly Partial[];
  readonly waiting: ReadonlyMap<string, ReadonlySet<FieldValue>>;
  /** Partials whose next step has no sameAs: any event of its kind may concern them. */
  readonly unfiltered: number;
}

function scopeOf(partials: readonly Partial[]): Scope {
  const waiting = new Map<string, Set<FieldValue>>();
  let unfiltered = 0;
  for (const partial of partials) {
    const pair = partial.rule.steps[partial.events.length]?.sameAs[0];
    const values = partial.next[0];
    if (pair === undefined || values === undefined) {
      unfiltered += 1;
      continue;
    }
    let set = waiting.get(pair[0]);
    if (set === undefined) {
      set = new Set();
      waiting.set(pair[0], set);
    }
    for (const value of values) set.add(value);
  }
  return { partials, waiting, unfiltered };
}

/**
 * What one event is, computed once per observe() and shared by every rule evaluated on it. One object per detector,
 * reset for each event (observe() runs for every event: no allocation for it).
 */
interface Observed {
  event: Event;
  /** identity() of its process. */
  process: string;
  /** Steps tested on the event so far, and whether it matched each (a few per event: arrays beat a Map here). */
  readonly steps: CompiledStep[];
  readonly stepMatched: boolean[];
  /** Its process and the ancestors of it, nearest first (computed on first use; empty until then). */
  readonly lineage: string[];
  /** sameAs fields read from the event so far, and its values for each. */
  readonly fields: string[];
  readonly fieldValues: (readonly FieldValue[])[];
}

/** A process across exec: pid and start time. */
function identity(process: { readonly pid: number; readonly start_time: bigint }, node: string): string {
  return `${node}:${process.start_time}:${process.pid}`;
}

const ACTING = new Set(['kill', 'kill_in_kernel', 'deny_connect', 'deny']);

export class PartitionDetector {
  readonly #rules: DetectionRules;
  readonly #groupWindowNs: bigint;
  readonly #maxGroups: number;
  readonly #maxPartials: number;
  readonly #maxProcesses: number;
  readonly #now: () => bigint;
  readonly #keep: (event: Event) => Event;
  readonly #groups = new Map<string, Group>();
  /** rule key → scope key → partials, oldest first. */
  readonly #partials = new Map<string, Map<string, Scope>>();
  /** process identity → parent identity (insertion-ordered: oldest first). */
  readonly #parents = new Map<string, string>();
  /**
   * The last identity string made per node and pid: reusing the string (its hash cached with it) spares formatting a
   * bigint and hashing a new string for every event. A cache only, bounded like the ancestry: a miss makes the same
   * string anew.
   */
  readonly #identities = new Map<string, Map<number, { readonly startTime: bigint; readonly id: string }>>();
  #identityCount = 0;
  readonly #exitedLineage: ExitedLineage;
  #latestNs = 0n;
  /** The event being observed (see Observed); its event is a placeholder until the first observe(). */
  readonly #observed: Observed;

  constructor(options: PartitionDetectorOptions) {
    this.#rules = options.rules;
    this.#groupWindowNs = options.groupWindowNs ?? 10_000_000_000n;
    this.#maxGroups = options.maxGroups ?? 10_000;
    this.#maxPartials = options.maxPartialsPerRule ?? 64;
    this.#maxProcesses = options.maxProcesses ?? 65_536;
    this.#exitedLineage = new ExitedLineage({
      retentionNs: options.exitedRetentionNs ?? 120_000_000_000n,
      forget: (id) => {
        const parent = this.#parents.get(id) ?? null;
        this.#parents.delete(id);
        return parent;
      },
    });
    this.#now = options.now ?? (() => BigInt(Date.now()) * 1_000_000n);
    this.#keep = options.keep ?? ((event) => event);
    this.#observed = { event: undefined as unknown as Event, process: '', steps: [], stepMatched: [], lineage: [], fields: [], fieldValues: [] };
  }

  observe(event: Event, options: { readonly emit: boolean }): Alert[] {
    if (event.time > this.#latestNs) this.#latestNs = event.time;
    const process = this.#identityOf(event.process, event.node);
    this.#learnAncestry(event, process);
    const alerts: Alert[] = [];
    for (const rule of this.#rules.single(event.kind)) {
      if (!rule.selector(event) || !rule.matches(event)) continue;
      const alert = this.#group(rule, event, process);
      if (alert !== null) alerts.push(alert);
    }
    const sequences = this.#rules.sequencesFor(event.kind);
    if (sequences.length > 0) {
      const observed = this.#observed;
      observed.event = event;
      observed.process = process;
      observed.steps.length = 0;
      observed.stepMatched.length = 0;
      observed.fields.length = 0;
      observed.fieldValues.length = 0;
      observed.lineage.length = 0;
      for (const rule of sequences) {
        if (!rule.selector(event)) continue;
        const alert = this.#advance(rule, observed);
        if (alert !== null) alerts.push(alert);
      }
    }
    if (event.kind === 'exit') this.#forgetExited(event, process);
    return options.emit ? alerts : [];
  }

  /** After its exit event: the process's cached identity string goes now, its ancestry entry later (ExitedLineage). */
  #forgetExited(event: Event, process: string): void {
    const byPid = this.#identities.get(event.node);
    if (byPid?.get(event.process.pid)?.startTime === event.process.start_time) {
      byPid.delete(event.process.pid);
      this.#identityCount -= 1;
    }
    this.#exitedLineage.exited(process, event.time);
  }

  /**
   * Alerts for groups whose window ended by the partition's latest event time (their counted matches). With `all`,
   * every group's counted matches, ended or not: the end of a replay, where no later event will close the window.
   */
  flush(options: { readonly emit: boolean; readonly all?: boolean }): Alert[] {
    const alerts: Alert[] = [];
    for (const [key, group] of this.#groups) {
      if (options.all !== true && this.#latestNs - group.windowStartNs < this.#groupWindowNs) continue;
      this.#groups.delete(key);
      if (group.pending > 0 && group.lastPending !== null) alerts.push(this.#alert(group.rule, group.lastPending, { count: group.pending, firstSeenNs: group.firstPendingNs, groupKey: key }));
    }
    return options.emit ? alerts : [];
  }

  stats(): { groups: number; partials: number; processes: number } {
    let partials = 0;
    for (const byScope of this.#partials.values()) for (const scope of byScope.values()) partials += scope.partials.length;
    return { groups: this.#groups.size, partials, processes: this.#parents.size };
  }

  #alert(rule: SingleEventRule | SequenceRule, event: Event, extra: { count: number; firstSeenNs: bigint | null; groupKey: string | null; related?: readonly Event[] }): Alert {
    return buildAlert({ rule, event, related: extra.related ?? [], count: extra.count, firstSeenNs: extra.firstSeenNs, groupKey: extra.groupKey, nowNs: this.#now() });
  }

  #group(rule: SingleEventRule, event: Event, process: string): Alert | null {
    // A process the kernel already killed or denied for this rule is grouped alone too, whatever the rule's mode
    // now: the rule may have been switched to monitor between the syscall and this event (the policy reaches the
    // detector and the kernel at different times), and folding that killed process into the binary's group would
    // swallow the alert of the first process the rule only reports.
    const actedInKernel = event.action !== null && event.action.policy === rule.policy && event.action.rule === rule.rule;
    const acting = actedInKernel || (rule.mode === 'enforce' && ACTING.has(rule.action));
    const target = acting ? process : `${event.pod?.uid ?? event.process.container_id ?? event.node}:${event.process.binary}`;
    const key = `${rule.policy}/${rule.rule}/${target}`;
    const group = this.#groups.get(key);
    if (group === undefined) {
      if (this.#groups.size >= this.#maxGroups) {
        const oldest = this.#groups.keys().next().value;
        if (oldest !== undefined) this.#groups.delete(oldest);
      }
      this.#groups.set(key, { rule, windowStartNs: event.time, pending: 0, firstPendingNs: 0n, lastPending: null });
      return this.#alert(rule, event, { count: 1, firstSeenNs: null, groupKey: key });
    }
    if (event.time - group.windowStartNs < this.#groupWindowNs) {
      if (group.pending === 0) group.firstPendingNs = event.time;
      group.pending += 1;
      group.lastPending = this.#keep(event);
      return null;
    }
    const count = group.pending + 1;
    const firstSeenNs = group.pending > 0 ? group.firstPendingNs : event.time;
    group.windowStartNs = event.time;
    group.pending = 0;
    group.lastPending = null;
    return this.#alert(rule, event, { count, firstSeenNs, groupKey: key });
  }

  #identityOf(process: { readonly pid: number; readonly start_time: bigint }, node: string): string {
    let byPid = this.#identities.get(node);
    const cached = byPid?.get(process.pid);
    if (cached !== undefined && cached.startTime === process.start_time) return cached.id;
    const id = identity(process, node);
    if (this.#identityCount >= this.#maxProcesses) {
      this.#identities.clear();
      this.#identityCount = 0;
      byPid = undefined;
    }
    if (byPid === undefined) {
      byPid = new Map();
      this.#identities.set(node, byPid);
    }
    if (cached === undefined) this.#identityCount += 1;
    byPid.set(process.pid, { startTime: process.start_time, id });
    return id;
  }

  #learnAncestry(event: Event, child: string): void {
    if (event.parent === null) return;
    if (this.#parents.has(child)) return;
    if (this.#parents.size >= this.#maxProcesses) {
      const oldest = this.#parents.entries().next().value;
      if (oldest !== undefined) {
        this.#parents.delete(oldest[0]);
        this.#exitedLineage.dropped(oldest[0]);
        this.#exitedLineage.unlinked(oldest[1]);
      }
    }
    const parent = this.#identityOf(event.parent, event.node);
    this.#parents.set(child, parent);
    this.#exitedLineage.linked(parent);
  }

  /** The event's process and its ancestors, nearest first, as far as the bounded map knows (at most 64). */
  #lineage(observed: Observed): readonly string[] {
    if (observed.lineage.length > 0) return observed.lineage;
    let current: string | undefined = observed.process;
    for (let depth = 0; current !== undefined && depth < 64; depth++) {
      observed.lineage.push(current);
      current = this.#parents.get(current);
    }
    return observed.lineage;
  }

  /** The bucket a partial of this rule lives in: exact for process and pod scopes, the node for process trees. */
  #scopeKey(rule: SequenceRule, { event, process }: Observed): string {
    switch (rule.by) {
      case 'process':
        return process;
      case 'pod':
        return event.pod?.uid ?? event.process.container_id ?? `node:${event.node}`;
      case 'process_tree':
        return `node:${event.node}`;
    }
  }

  /**
   * processTree: the earlier step's process, or its parent, is the later event's process or an ancestor of it — so
   * steps run one after another by one shell or script belong together.
   */
  #sameTree(partial: Partial, observed: Observed): boolean {
    const lineage = this.#lineage(observed);
    const earlier = partial.processes[partial.processes.length - 1];
    return (earlier !== undefined && lineage.includes(earlier)) || (partial.lastParent !== null && lineage.includes(partial.lastParent));
  }

  /** What a partial keeps of the event it just matched, besides the event. */
  #matched(event: Event): { readonly lastParent: string | null } {
    return { lastParent: event.parent === null ? null : this.#identityOf(event.parent, event.node) };
  }

  #stepMatches(step: CompiledStep, observed: Observed): boolean {
    if (step.event !== observed.event.kind) return false;
    const index = observed.steps.indexOf(step);
    if (index >= 0) return observed.stepMatched[index] === true;
    const matches = step.matches(observed.event);
    observed.steps.push(step);
    observed.stepMatched.push(matches);
    return matches;
  }

  /** The event's values for a sameAs field (read once per event). */
  #valuesOf(field: string, observed: Observed): readonly FieldValue[] {
    const known = observed.fields.indexOf(field);
    let values = observed.fieldValues[known];
    if (values === undefined) {
      values = fieldValues(observed.event, field as MatchField);
      observed.fields.push(field);
      observed.fieldValues.push(values);
    }
    return values;
  }

  /** Whether some partial of the scope might advance on the event (false: certainly none can). */
  #mayConcern(scope: Scope, observed: Observed): boolean {
    if (scope.unfiltered > 0) return true;
    for (const [field, wanted] of scope.waiting) {
      for (const value of this.#valuesOf(field, observed)) if (wanted.has(value)) return true;
    }
    return false;
  }

  /** The sameAs correlation: for every pair, one of the event's values is one the partial's last event held. */
  #correlates(step: CompiledStep, partial: Partial, observed: Observed): boolean {
    for (let index = 0; index < step.sameAs.length; index++) {
      const values = this.#valuesOf((step.sameAs[index] as readonly [string, string])[0], observed);
      const theirs = partial.next[index];
      if (theirs === undefined) return false;
      let any = false;
      for (const value of values) if (theirs.has(value)) any = true;
      if (!any) return false;
    }
    return true;
  }

  /** The values `event` holds for the previous-step fields of `step`'s sameAs pairs (none after the last step). */
  #correlationOf(step: CompiledStep | undefined, event: Event): ReadonlySet<FieldValue>[] {
    return step === undefined ? [] : step.sameAs.map(([, previousField]) => new Set(fieldValues(event, previousField as MatchField)));
  }

  #advance(rule: SequenceRule, observed: Observed): Alert | null {
    const { event } = observed;
    const first = rule.steps[0];
    const startsOne = first !== undefined && this.#stepMatches(first, observed);
    // The common cases: the event starts nothing, and no partial can wait for its kind, or none is open in its scope
    // (a partial only advances on its next step's kind; expired ones are dropped when a later event walks the list).
    if (!startsOne && !rule.laterKinds.has(event.kind)) return null;
    const ruleKey = rule.key;
    const scopeKey = this.#scopeKey(rule, observed);
    const scope = this.#partials.get(ruleKey)?.get(scopeKey);
    if (!startsOne && (scope === undefined || !this.#mayConcern(scope, observed))) return null;
    const list = scope?.partials;
    let byScope = this.#partials.get(ruleKey);
    if (byScope === undefined) {
      byScope = new Map();
      this.#partials.set(ruleKey, byScope);
    }
    let completed: Alert | null = null;
    const kept: Partial[] = [];
    for (const partial of list ?? []) {
      if (partial.rule !== rule && (partial.rule.policy !== rule.policy || partial.rule.generation !== rule.generation)) continue; // rules changed
      const step = rule.steps[partial.events.length];
      if (completed !== null || step === undefined || step.event !== event.kind) {
        // Cannot advance on this event. Expired partials are dropped when a new one joins (so the cap counts live
        // ones) or when an event of their next kind comes; until then they only take memory.
        if (!startsOne || event.time <= partial.expiresNs) kept.push(partial);
        continue;
      }
      if (event.time > partial.expiresNs) continue; // expired
      if (this.#stepMatches(step, observed) && this.#correlates(step, partial, observed) && (rule.by !== 'process_tree' || this.#sameTree(partial, observed))) {
        partial.events.push(this.#keep(event));
        partial.processes.push(observed.process);
        partial.lastParent = this.#matched(event).lastParent;
        if (partial.events.length === rule.steps.length) {
          const related = partial.events.slice(0, -1);
          completed = this.#alert(rule, event, { count: 1, firstSeenNs: null, groupKey: null, related });
          continue; // complete: dropped
        }
        partial.next = this.#correlationOf(rule.steps[partial.events.length], event);
      }
      kept.push(partial);
    }
    if (completed === null && startsOne) {
      kept.push({ rule, scopeKey, expiresNs: event.time + rule.withinNs, events: [this.#keep(event)], processes: [observed.process], ...this.#matched(event), next: this.#correlationOf(rule.steps[1], event) });
      while (kept.length > this.#maxPartials) kept.shift();
    }
    if (kept.length === 0) byScope.delete(scopeKey);
    else byScope.set(scopeKey, scopeOf(kept));
    return completed;
  }
}
