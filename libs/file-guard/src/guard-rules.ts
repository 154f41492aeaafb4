/**
 * The identity rules the guard enforces (IdentityRule of @stinger/policy, compiled from `deny` and
 * `kill-in-kernel` file and exec rules) and the verdict on one open or exec of a marked file: a pure function of
 * the rules that target the file and of what is known of the process that asked.
 *
 * Contract (who calls: the guard worker, once per permission event, before answering):
 * - a rule holds when its scope, positive conditions and access hold and none of its exclusions does;
 * - a fact that cannot be read (the process is exiting, /proc refuses) never spares a process: a positive
 *   condition on it holds and an exclusion on it does not (fail closed — the file is one a rule protects);
 * - of the rules that hold, kill wins over deny; then the lowest rule id, so the verdict does not depend on order.
 */
export type { IdentityRule as GuardRule } from '@stinger/policy';
import type { IdentityRule as GuardRule, NumberRange, StringMatch } from '@stinger/policy';

/** A rule that targets the file, with the file's path in the rule's own namespace (the host's or a container's). */
export interface RuleTarget {
  readonly rule: GuardRule;
  readonly path: string;
}

/** What the worker reads of the process that opened (or exec'd) the file; null: could not be read. */
export interface OpenerFacts {
  /** The opener's executable (file rules), or the program being exec'd (exec rules: the marked file). */
  readonly binary: () => string | null;
  readonly uid: () => number | null;
  /** Whether the process runs in a pod (its cgroup is under a pod cgroup root). */
  readonly inPod: () => boolean | null;
  /** file: what the open asks for; null: unknown (both assumed). */
  readonly access: () => { readonly read: boolean; readonly write: boolean } | null;
}

export type Verdict = { readonly kind: 'allow' } | { readonly kind: 'deny' | 'kill'; readonly rule: GuardRule; readonly path: string };

export const ALLOW: Verdict = Object.freeze({ kind: 'allow' });

export function matchesString(match: StringMatch, value: string): boolean {
  return match.equal.includes(value) || match.prefix.some((p) => value.startsWith(p)) || match.suffix.some((s) => value.endsWith(s));
}

function inRanges(ranges: readonly NumberRange[], value: number): boolean {
  return ranges.some((range) => value >= range.low && value <= range.high);
}

function scopeHolds(rule: GuardRule, opener: OpenerFacts): boolean {
  if (rule.scope === 'all') return true;
  const inPod = opener.inPod();
  if (inPod === null) return true;
  return rule.scope === 'pods' ? inPod : !inPod;
}

/** Whether `rule` holds for this open of `path` (see the contract above for unknown facts). */
export function ruleHolds(rule: GuardRule, path: string, opener: OpenerFacts): boolean {
  if (!scopeHolds(rule, opener)) return false;
  const binary = rule.binary === undefined && rule.exclude.binary === undefined ? null : opener.binary();
  const uid = rule.uid === undefined && rule.exclude.uid === undefined ? null : opener.uid();
  if (rule.binary !== undefined && binary !== null && !matchesString(rule.binary, binary)) return false;
  if (rule.uid !== undefined && uid !== null && !inRanges(rule.uid, uid)) return false;
  if (rule.access !== undefined) {
    const access = opener.access();
    if (access !== null && !rule.access.some((wanted) => access[wanted])) return false;
  }
  if (rule.exclude.path !== undefined && matchesString(rule.exclude.path, path)) return false;
  if (rule.exclude.binary !== undefined && binary !== null && matchesString(rule.exclude.binary, binary)) return false;
  if (rule.exclude.uid !== undefined && uid !== null && inRanges(rule.exclude.uid, uid)) return false;
  return true;
}

/** The verdict on an open/exec of a file targeted by `targets`: the strongest rule that holds, else allow. */
export function decide(targets: readonly RuleTarget[], opener: OpenerFacts): Verdict {
  let best: RuleTarget | null = null;
  for (const target of targets) {
    if (!ruleHolds(target.rule, target.path, opener)) continue;
    if (best === null || stronger(target.rule, best.rule)) best = target;
  }
  return best === null ? ALLOW : { kind: best.rule.action, rule: best.rule, path: best.path };
}

function stronger(a: GuardRule, b: GuardRule): boolean {
  if (a.action !== b.action) return a.action === 'kill';
  return a.ruleId < b.ruleId;
}

/** Whether a path (in its namespace) lies under a rule target: equal, or below a prefix. */
export function targetCovers(target: { readonly kind: 'equal' | 'prefix'; readonly path: string }, path: string): boolean {
  return target.kind === 'equal' ? path === target.path : path.startsWith(target.path) || `${path}/` === target.path;
}
