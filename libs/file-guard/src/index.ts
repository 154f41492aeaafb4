// @stinger/file-guard: enforcement by file identity. fanotify permission events on the inodes of the files and
// binaries that `deny` and `kill-in-kernel` rules name, answered from a worker thread (never the agent's event
// loop), so symlinks, hard links, bind mounts, `..` and dirfd tricks reach the same verdict as the plain path.
export { startFileGuard, type FileGuard, type FileGuardOptions } from './file-guard.ts';
export { decide, ruleHolds, targetCovers, type GuardRule, type OpenerFacts, type RuleTarget, type Verdict } from './guard-rules.ts';
export { planMarks, MAX_MARKS, type GuardRoot, type MarkPlan } from './mark-plan.ts';
export { reachedBy, type ReachedBy } from './reached-by.ts';
export { GUARD_COUNTERS, SLOW_ANSWER_MS, type GuardCounter, type GuardDecision, type GuardRootSpec } from './protocol.ts';
