/**
 * `stinger policy apply [--defaults] FILE... | delete NAME... | list`.
 *
 * `apply` validates every document of every file first and applies nothing if any is invalid (each problem printed
 * as `file:line: field: message`). `--defaults` adds the default rule pack (k8s/policies, monitor mode); a file's
 * policy of the same name replaces the pack's.
 *
 * Where policies go depends on where Stinger runs, decided once here: in a cluster (KUBECONFIG, or the in-cluster
 * service account) they are TracingPolicy custom resources and the policy-controller publishes them
 * (policy-cluster.ts); without one they go straight to the stinger.policies topic, signed by the CLI
 * (policy-topic.ts).
 */
import type { StingerConfig } from '@stinger/config';
import { loadKubeConfig } from '@stinger/k8s';
import type { Logger } from '@stinger/log';
import { policyKey } from '@stinger/policy';
import { loadDefaultPolicies, readDefaultPolicySources } from '../default-policies.ts';
import { CliError } from '../errors.ts';
import { ClusterPolicies } from './policy-cluster.ts';
import { parsePolicyDocuments, readPolicySources, type PolicyDocument } from './policy-documents.ts';
import { withCompiledRego } from './policy-rego.ts';
import { TopicPolicies } from './policy-topic.ts';

export interface PolicyCommandOptions {
  readonly config: StingerConfig;
  readonly logger: Logger;
  readonly out: (line: string) => void;
}

/** Where `stinger policy` applies, deletes and lists policies. */
export interface PolicyDestination {
  /** `what` names the input (files, the default pack) in errors. */
  apply(documents: readonly PolicyDocument[], what: string): Promise<void>;
  /** Keys are policy keys: `name`, or `namespace/name`; all must exist, or nothing is deleted. */
  delete(keys: readonly string[]): Promise<void>;
  list(): Promise<void>;
}

function destination(options: PolicyCommandOptions): PolicyDestination {
  const kubeConfig = loadKubeConfig(options.config);
  return kubeConfig === null ? new TopicPolicies(options) : new ClusterPolicies(options, kubeConfig);
}

export interface PolicyApplyOptions {
  /** Also apply the default rule pack (k8s/policies). */
  readonly defaults?: boolean;
}

export async function policyApply(options: PolicyCommandOptions, files: readonly string[], apply: PolicyApplyOptions = {}): Promise<number> {
  const defaults = apply.defaults === true;
  if (files.length === 0 && !defaults) throw new CliError('policy apply needs at least one file (or --defaults)', 2);
  const { documents, problems, warnings } = parsePolicyDocuments(readPolicySources(files));
  for (const warning of warnings) options.out(`warning: ${warning}`);
  if (problems.length > 0) {
    for (const problem of problems) process.stderr.write(`${problem}\n`);
    throw new CliError(`${problems.length} problem(s); nothing was applied`);
  }
  if (defaults) {
    // The pack is checked whole (monitor mode, ATT&CK ids, no normalisation) before any of it is used.
    loadDefaultPolicies();
    const named = new Set(documents.map((d) => policyKey(d.policy)));
    documents.unshift(...parsePolicyDocuments(readDefaultPolicySources()).documents.filter((d) => !named.has(policyKey(d.policy))));
  }
  const compiled = await withCompiledRego(options, documents);
  await destination(options).apply(compiled, [...files, ...(defaults ? ['the default rule pack'] : [])].join(', '));
  return 0;
}

export async function policyDelete(options: PolicyCommandOptions, keys: readonly string[]): Promise<number> {
  if (keys.length === 0) throw new CliError('policy delete needs at least one policy name', 2);
  await destination(options).delete(keys);
  return 0;
}

export async function policyList(options: PolicyCommandOptions): Promise<number> {
  await destination(options).list();
  return 0;
}
