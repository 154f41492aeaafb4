/**
 * Which tasks a kernel rule applies to: every task ('all'), host tasks only ('host', selector.host: true), or the
 * tasks of pods only ('pods', selector.host: false). The kernel tells them apart by the pod cgroup roots
 * (createPodCgroupRoots); each rule family stores the scope as two flag bits of its map value, and keeps the rules
 * for all tasks in a second map as well where it matches by longest prefix, so that a task a scoped rule passes
 * over falls back to the longest rule for all tasks.
 */
export const RULE_SCOPES = ['all', 'host', 'pods'] as const;
export type RuleScope = (typeof RULE_SCOPES)[number];

/** The scope given, 'all' when absent; throws what `invalid` makes when it is not a RuleScope. */
export function validateScope(scope: unknown, invalid: (message: string) => Error): RuleScope {
  if (scope === undefined) return 'all';
  if (typeof scope === 'string' && (RULE_SCOPES as readonly string[]).includes(scope)) return scope as RuleScope;
  throw invalid(`must be one of ${RULE_SCOPES.join(', ')}, got ${String(scope)}`);
}

/** The flag bits of a scope, for a map value whose host-only and pods-only bits are given. */
export function scopeFlags(scope: RuleScope, bits: { readonly hostOnly: number; readonly podsOnly: number }): number {
  switch (scope) {
    case 'all':
      return 0;
    case 'host':
      return bits.hostOnly;
    case 'pods':
      return bits.podsOnly;
  }
}

/**
 * A rule's pid scope (PID_SCOPE_RULE_* in bpf/lib/stinger_maps.h): the flag bit and the slot's bits, above every rule
 * family's own flag bits, so file and destination rules encode it alike. A pid-scoped rule applies only to the
 * members of its slot (core/pid-scopes.ts); the kernel passes over every other task as it does for host/pods.
 */
export const PID_SCOPE_RULE = { flag: 1 << 15, slotShift: 16 } as const;
/** Scope slots the kernel has (PID_SCOPE_SLOTS): one per distinct pid selector in force on the node. */
export const PID_SCOPE_SLOTS = 64;

/** The flag bits of a pid scope slot (undefined: none); throws what `invalid` makes for a slot out of range. */
export function pidScopeFlags(slot: unknown, invalid: (message: string) => Error): number {
  if (slot === undefined) return 0;
  if (typeof slot !== 'number' || !Number.isInteger(slot) || slot < 0 || slot >= PID_SCOPE_SLOTS) {
    throw invalid(`must be an integer in 0..${PID_SCOPE_SLOTS - 1}, got ${String(slot)}`);
  }
  return (PID_SCOPE_RULE.flag | (slot << PID_SCOPE_RULE.slotShift)) >>> 0;
}

/**
 * A rule's pod scope (POD_SCOPE_RULE_* in bpf/lib/stinger_pod_scope.h): the flag bit and the slot's six bits, above
 * the pid scope's. A pod-scoped rule applies only to the tasks of the pods in its slot (core/pod-scopes.ts); the
 * kernel passes over every other task as it does for host/pods.
 */
export const POD_SCOPE_RULE = { flag: 1 << 22, slotShift: 23 } as const;
/** Scope slots the kernel has (POD_SCOPE_SLOTS): one per distinct pod selector in force on the node. */
export const POD_SCOPE_SLOTS = 64;

/** The flag bits of a pod scope slot (undefined: none); throws what `invalid` makes for a slot out of range. */
export function podScopeFlags(slot: unknown, invalid: (message: string) => Error): number {
  if (slot === undefined) return 0;
  if (typeof slot !== 'number' || !Number.isInteger(slot) || slot < 0 || slot >= POD_SCOPE_SLOTS) {
    throw invalid(`must be an integer in 0..${POD_SCOPE_SLOTS - 1}, got ${String(slot)}`);
  }
  return (POD_SCOPE_RULE.flag | (slot << POD_SCOPE_RULE.slotShift)) >>> 0;
}
