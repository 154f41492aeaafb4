/**
 * Exec rules: binaries that must not run (action kill: SIGKILL at execve/execveat entry, the binary never runs)
 * or are reported when they do (audit). Kept in the exec_rules_* maps of bpf/file/bpf_exec_policy.c; paths are
 * validated and matched exactly like file rules (see path-rules.ts), the operation is always exec. In the file
 * sensor's lsm mode they are also kept for bpf/file/bpf_exec_lsm.c (the bprm_check_security hook: the binary the
 * kernel resolved), where action deny fails the execve with EPERM; elsewhere deny is refused.
 */
import type { BpfObject } from '../core/bpf-object.ts';
import { FILE_OP } from './records.ts';
import { createPathRuleMaps, resolvedRuleMaps, type PathRule, type PathRuleEntry } from './path-rules.ts';

/** An exec rule: a file rule without ops (the operation is exec). */
export type ExecRule = Omit<PathRule<'exec'>, 'ops'>;

export interface ExecPolicyMaps {
  addExact(path: string, rule: ExecRule): void;
  addPrefix(prefix: string, rule: ExecRule): void;
  removeExact(path: string): boolean;
  removePrefix(prefix: string): boolean;
  clear(): void;
  list(): PathRuleEntry<'exec'>[];
}

/** The exec rule maps of a loaded bpf_exec_policy object, and of a loaded bpf_exec_lsm object when given (lsm mode). */
export function createExecPolicyMaps(object: BpfObject, lsm: BpfObject | null = null): ExecPolicyMaps {
  const maps = createPathRuleMaps<'exec'>({
    maps: {
      exact: object.map('exec_rules_exact'),
      prefix: object.map('exec_rules_prefix'),
      prefixAll: object.map('exec_rules_prefix_all'),
      name: object.map('exec_rules_name'),
      filter: object.map('exec_rules_filter'),
      ...(lsm && { resolved: resolvedRuleMaps(lsm, 'exec') }),
    },
    opBits: { exec: FILE_OP.exec },
    denyOps: lsm ? ['exec'] : [],
  });
  return {
    addExact: (path, rule) => maps.addExact(path, { ...rule, ops: ['exec'] }),
    addPrefix: (prefix, rule) => maps.addPrefix(prefix, { ...rule, ops: ['exec'] }),
    removeExact: (path) => maps.removeExact(path),
    removePrefix: (prefix) => maps.removePrefix(prefix),
    clear: () => maps.clear(),
    list: () => maps.list(),
  };
}
