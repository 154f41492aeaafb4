/**
 * Deny rules the kernel refuses itself where it runs BPF LSM programs: the file sensor's lsm mode (libs/bpf) matches
 * file rules at the file_open hook and exec rules at bprm_check_security, on the path the kernel resolved (symlinks,
 * `//`, `..`, relative paths, directory fds; a directory prefix also by identity, so through bind mounts), and
 * returns EPERM before the open or the execve, with no round trip to the agent.
 *
 * Only a rule with nothing but its paths (a file rule's `path`, an exec rule's `binary`) can go there: the hooks test
 * the path and the rule's scope (host, pods or all), not the opener's binary, uid or access mode, a digest, nor
 * exclusions. Rules with any other condition stay with the file guard alone (fanotify, decided by the agent at the
 * open). The agent installs what this returns through its kernel rule slots and gives the file guard every identity
 * rule as before: a hard link is another path to the same file, which only the guard's inode marks catch. At an open
 * the hook answers first (fanotify is asked only after the LSMs let the open through), so one denied open is reported
 * once, by the hook. At an execve the kernel opens the binary first (file_open, then fanotify), so a binary the guard
 * marked is refused by the guard before bprm_check_security runs, and one the guard has not marked by the hook; the
 * exec tracepoint leaves deny entries to the hook (bpf/file/bpf_exec_policy.c), so each refused execve is reported once.
 *
 * Pure: no I/O.
 */
import { KERNEL_PATH_MAX_BYTES, type ExecKernelRule, type FileKernelRule } from './compile-policy.ts';
import type { IdentityRule } from './identity-rules.ts';

export type LsmDenyRule = (FileKernelRule | ExecKernelRule) & { readonly action: 'deny' };

/** The hook that refuses a rule of each event, as status messages name it. */
export const LSM_DENY_HOOK = { file: 'file_open', exec: 'bprm_check_security' } as const;

/**
 * The kernel entries (one per target path) that make the hook of `rule`'s event refuse its opens or execves; null
 * when the rule is not a deny rule or has a condition the hook cannot decide (then the file guard alone enforces it).
 */
export function lsmDenyRulesOf(rule: IdentityRule): readonly LsmDenyRule[] | null {
  if (rule.action !== 'deny' || rule.targets.length === 0 || rule.sha256.length > 0) return null;
  if (rule.binary !== undefined || rule.uid !== undefined || rule.access !== undefined) return null;
  if (Object.keys(rule.exclude).length > 0) return null;
  if (rule.targets.some((target) => Buffer.byteLength(target.path) > KERNEL_PATH_MAX_BYTES)) return null;
  const origin = { ruleId: rule.ruleId, policy: rule.policy, rule: rule.rule, scope: rule.scope, action: 'deny' } as const;
  return rule.event === 'file'
    ? rule.targets.map((match) => ({ ...origin, event: 'file', match, ops: ['open'] }))
    : rule.targets.map((match) => ({ ...origin, event: 'exec', match }));
}

/** The status message of a deny rule the hooks refuse; `guardUnavailable` is why the file guard is not there too (null: it is). */
export function lsmDenyRuleMessage(rule: IdentityRule, guardUnavailable: string | null): string {
  const what = rule.event === 'file' ? 'open' : 'exec';
  const inKernel = `${rule.rule}: enforced in the kernel at ${LSM_DENY_HOOK[rule.event]} (BPF LSM, the path the kernel resolved): ${what} denied with EPERM`;
  return guardUnavailable === null
    ? `${inKernel}; the file guard (fanotify) marks its files too, for names the path does not match (hard links)`
    : `${inKernel}; a hard link to its files under another path is not refused (file identity unavailable: ${guardUnavailable})`;
}
