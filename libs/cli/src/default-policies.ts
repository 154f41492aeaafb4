/**
 * The default rule pack as the CLI finds it: every `*.yaml` file of the repository's `k8s/policies/`, read here and
 * validated by @stinger/policy's `defaultPolicies` (monitor mode, no warnings, ATT&CK ids; the whole pack or
 * nothing). Who calls: `stinger policy apply --defaults`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultPolicies, formatIssue, PolicyValidationError, type PolicySource, type TracingPolicy } from '@stinger/policy';
import { CliError } from './errors.ts';
import { REPO_ROOT } from './workspace.ts';

export const DEFAULT_POLICY_DIR = join(REPO_ROOT, 'k8s', 'policies');

/** The pack's files in name order, each named by its path. @throws CliError when the directory cannot be read */
export function readDefaultPolicySources(dir: string = DEFAULT_POLICY_DIR): PolicySource[] {
  try {
    return readdirSync(dir)
      .filter((name) => name.endsWith('.yaml'))
      .sort()
      .map((name) => ({ source: join(dir, name), text: readFileSync(join(dir, name), 'utf8') }));
  } catch (error) {
    throw new CliError(`cannot read the default rule pack in ${dir}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/** The pack's policies. @throws CliError naming every problem of an invalid pack */
export function loadDefaultPolicies(dir: string = DEFAULT_POLICY_DIR): TracingPolicy[] {
  try {
    return defaultPolicies(readDefaultPolicySources(dir));
  } catch (error) {
    if (!(error instanceof PolicyValidationError)) throw error;
    throw new CliError(`the default rule pack in ${dir} is invalid; nothing was applied:\n${error.issues.map((issue) => `  ${formatIssue(issue)}`).join('\n')}`);
  }
}
