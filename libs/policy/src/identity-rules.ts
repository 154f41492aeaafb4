/**
 * Rules the node agent enforces by file identity: it marks the inodes of the files (file rules) and binaries (exec
 * rules) a rule names with fanotify permission marks, so every open or execve of them waits for its answer, whatever
 * name the process used (symlink, hard link, bind mount, `..`, a directory fd). The answer is given at the open, from
 * what the agent can read of the opening process then, so a rule enforced this way may only use conditions the agent
 * can decide there (`identityObstacles`): the validator refuses a `deny` rule that has any other, and compilePolicy
 * gives a `kill-in-kernel` file (open) or exec rule an identity rule only when it has none.
 *
 * Pure: no I/O.
 */
import type { KernelPathMatch } from './compile-policy.ts';
import type {
  FileAccess,
  MatchField,
  NumberRange,
  PolicyKind,
  PolicyRuleSpec,
  PolicySelectorSpec,
  RuleAction,
  RuleMatch,
  StringMatch,
} from './policy-types.ts';

/** A rule the agent enforces by file identity (fanotify permission events): every open/exec of the marked inodes waits for its answer. */
export interface IdentityRule {
  readonly ruleId: number;
  readonly policy: string; // policyKey, as KernelRule.policy
  readonly rule: string;
  readonly scope: 'all' | 'host' | 'pods';
  readonly event: 'file' | 'exec';
  /** file: EPERM at open; exec: EPERM at execve. 'kill' also sends SIGKILL (from kill-in-kernel). */
  readonly action: 'deny' | 'kill';
  /** file: the match's path equal/prefix values; exec: the binary equal/prefix values. May be empty for an exec rule naming only sha256. */
  readonly targets: readonly KernelPathMatch[];
  /** exec: digests from match.sha256 (lowercase hex); [] otherwise. */
  readonly sha256: readonly string[];
  /** Conditions on the opening process (file rules), all optional: binary is the opener's executable. */
  readonly binary?: StringMatch;
  readonly uid?: readonly NumberRange[];
  /** file: read/write from the open flags; absent: any. */
  readonly access?: readonly FileAccess[];
  /** The rule holds only when none of these match (path: the resolved file path; binary: opener's executable for file rules, the new program for exec). */
  readonly exclude: { readonly path?: StringMatch; readonly binary?: StringMatch; readonly uid?: readonly NumberRange[] };
}

/** The status message for a policy's identity rule (the agent's PolicyStatus messages, beside the pipeline's). */
export function identityRuleMessage(rule: IdentityRule): string {
  const what = rule.event === 'file' ? 'open' : 'exec';
  return rule.action === 'deny'
    ? `${rule.rule}: enforced by file identity (fanotify): ${what} denied with EPERM`
    : `${rule.rule}: ${what} also enforced by file identity (fanotify): EPERM and SIGKILL`;
}

/** A problem that keeps a rule from being enforced by file identity, at its document path. */
export interface IdentityObstacle {
  readonly segments: readonly (string | number)[];
  readonly message: string;
}

/** What of the policy, beside the rule, bears on identity enforcement. */
export interface IdentityContext {
  readonly kind: PolicyKind | null;
  readonly selector: PolicySelectorSpec;
}

/** The rule as the validator holds it (match and exclude null when invalid: their fields are not examined). */
export interface IdentityRuleShape {
  readonly event: PolicyRuleSpec['event'];
  readonly match: RuleMatch | null;
  readonly exclude: RuleMatch | null;
  readonly sequence: PolicyRuleSpec['sequence'];
}

/** Fields the agent can decide at the open, in match and in exclude, per event. */
const DECIDABLE: Readonly<Record<'file' | 'exec', { readonly match: readonly MatchField[]; readonly exclude: readonly MatchField[] }>> = {
  file: { match: ['path', 'binary', 'uid', 'access', 'op'], exclude: ['path', 'binary', 'uid'] },
  exec: { match: ['binary', 'uid', 'sha256'], exclude: ['binary', 'uid'] },
};

const cannotSee = (action: RuleAction, what: string, rule = ''): string => `action ${action}${rule} is decided at the open by the agent, which cannot see ${what}`;

/**
 * Why `rule` (spec.rules[index], event file or exec) cannot be enforced by file identity; empty when it can. `action`
 * names the action in the messages. Checks: only decidable fields (parentBinary is not), equal/prefix only for a
 * match path and for binary (a suffix names no file to mark, and the agent matches binaries by equal/prefix), a file
 * rule names a path to mark, an exec rule a binary or a digest, no sequence, a cluster-wide policy whose selector
 * names no pods (host true/false/absent only: the agent does not see pod labels, namespaces or container names) and
 * no pids (a file mark holds for every process; kill-in-kernel pid rules are decided by the kernel's pid scopes).
 * The `op` of a file rule is the caller's concern (deny: open only; kill-in-kernel: ops that include open).
 */
export function identityObstacles(rule: IdentityRuleShape, at: { index: number; action: RuleAction; context: IdentityContext }): IdentityObstacle[] {
  const { index, action, context } = at;
  const obstacles: IdentityObstacle[] = [];
  const rulePath = ['spec', 'rules', index];
  if (context.kind === 'TracingPolicyNamespaced') {
    obstacles.push({ segments: ['kind'], message: `${cannotSee(action, "a pod's namespace", ` (spec.rules[${index}])`)}: use a cluster-wide TracingPolicy with selector.host` });
  }
  const { podSelector, namespaces, containerName } = context.selector;
  const podFields = [
    podSelector !== null && (Object.keys(podSelector.matchLabels).length > 0 || podSelector.matchExpressions.length > 0) ? 'podSelector' : null,
    namespaces.length > 0 ? 'namespaces' : null,
    containerName !== null ? 'containerName' : null,
  ].filter((field) => field !== null);
  for (const field of podFields) {
    obstacles.push({ segments: ['spec', 'selector', field], message: `${cannotSee(action, field, ` (spec.rules[${index}])`)} (of the selector, only host)` });
  }
  // A fanotify mark holds for every process: marked files would be refused to processes the pid selector spares.
  if (context.selector.pids !== null) {
    obstacles.push({ segments: ['spec', 'selector', 'pids'], message: `${cannotSee(action, 'pids', ` (spec.rules[${index}])`)} (a file mark holds for every process)` });
  }
  if (rule.sequence !== null) {
    obstacles.push({ segments: [...rulePath, 'sequence'], message: cannotSee(action, 'a sequence of events') });
    return obstacles;
  }
  if (rule.event !== 'file' && rule.event !== 'exec') return obstacles;
  const decidable = DECIDABLE[rule.event];
  for (const [part, conditions] of [
    ['match', rule.match],
    ['exclude', rule.exclude],
  ] as const) {
    if (conditions === null) continue;
    for (const field of Object.keys(conditions) as MatchField[]) {
      if (decidable[part].includes(field)) continue;
      const message = part === 'exclude' && decidable.match.includes(field) ? `action ${action} is decided by file identity, whose exclusions take ${decidable.exclude.join(', ')} only` : cannotSee(action, field);
      obstacles.push({ segments: [...rulePath, part, field], message });
    }
    // A suffix names no file to mark; binaries are matched by equal/prefix. An excluded path may take any operator.
    const suffixFields: ('path' | 'binary')[] = part === 'match' ? ['path', 'binary'] : ['binary'];
    for (const field of suffixFields) {
      if ((conditions[field]?.suffix.length ?? 0) > 0) {
        obstacles.push({ segments: [...rulePath, part, field, 'suffix'], message: `action ${action} is decided by file identity, which takes equal and prefix ${field === 'path' ? 'paths' : 'binaries'} only` });
      }
    }
  }
  const match = rule.match;
  if (match === null) return obstacles;
  if (rule.event === 'file' && match.path === undefined) {
    obstacles.push({ segments: [...rulePath, 'match', 'path'], message: `required for action ${action} (the agent marks the files it names, by equal or prefix)` });
  }
  if (rule.event === 'exec' && match.binary === undefined && match.sha256 === undefined) {
    obstacles.push({ segments: [...rulePath, 'match'], message: `action ${action} needs binary (equal or prefix) or sha256: the binaries the agent marks or the digests it checks` });
  }
  return obstacles;
}

/**
 * The identity rule of spec.rules[index], or null when it has none: a `deny` rule, a `kill-in-kernel` exec rule, or a
 * `kill-in-kernel` file rule whose ops include open (its other ops stay with the kernel's path match), provided it
 * has no identity obstacle. `action` is the rule's action after the policy mode (monitor: audit, so none).
 */
export function identityRuleOf(
  rule: PolicyRuleSpec,
  at: { index: number; action: RuleAction; context: IdentityContext; origin: Pick<IdentityRule, 'ruleId' | 'policy' | 'scope'> },
): IdentityRule | null {
  const opens = rule.match.op === undefined || rule.match.op.includes('open');
  if (rule.event !== 'exec' && !(rule.event === 'file' && opens)) return null;
  const action = at.action === 'deny' ? 'deny' : at.action === 'kill-in-kernel' ? 'kill' : null;
  if (action === null || identityObstacles(rule, { index: at.index, action: at.action, context: at.context }).length > 0) return null;
  return identityRule(rule, { ...at.origin, action });
}

const targetsOf = (match: StringMatch | undefined): KernelPathMatch[] => [
  ...(match?.equal ?? []).map((path) => ({ kind: 'equal' as const, path })),
  ...(match?.prefix ?? []).map((path) => ({ kind: 'prefix' as const, path })),
];

function identityRule(rule: PolicyRuleSpec, origin: Pick<IdentityRule, 'ruleId' | 'policy' | 'scope' | 'action'>): IdentityRule {
  const { match, exclude } = rule;
  const file = rule.event === 'file';
  return {
    ruleId: origin.ruleId,
    policy: origin.policy,
    rule: rule.name,
    scope: origin.scope,
    event: file ? 'file' : 'exec',
    action: origin.action,
    targets: targetsOf(file ? match.path : match.binary),
    sha256: file ? [] : [...(match.sha256 ?? [])],
    ...(file && match.binary !== undefined ? { binary: match.binary } : {}),
    ...(match.uid !== undefined ? { uid: match.uid } : {}),
    ...(file && match.access !== undefined ? { access: match.access } : {}),
    exclude: {
      ...(exclude.path !== undefined ? { path: exclude.path } : {}),
      ...(exclude.binary !== undefined ? { binary: exclude.binary } : {}),
      ...(exclude.uid !== undefined ? { uid: exclude.uid } : {}),
    },
  };
}
