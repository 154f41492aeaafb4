/**
 * `stinger policy` in a cluster (KUBECONFIG, or the in-cluster service account): the custom resources are the
 * policies, and the policy-controller turns them into signed records. `apply` creates or updates TracingPolicy /
 * TracingPolicyNamespaced objects by server-side apply with strict field validation — first a dry run of every
 * object, so one the API server refuses (each problem shown by field) leaves all of them unapplied; `delete` deletes
 * them (a key `namespace/name` names a TracingPolicyNamespaced); `list` reads them with the status the controller
 * wrote (accepted or not, what each node made of the version in force).
 */
import { createCustomObjectClient, KubeApiError, type CustomObject, type CustomObjectClient, type KubeConfig } from '@stinger/k8s';
import { compilePolicy, formatIssue, policyKey } from '@stinger/policy';
import { POLICY_RESOURCE_TYPES, type PolicyResourceType, type TracingPolicyStatus } from '@stinger/policy-control';
import { CliError } from '../errors.ts';
import type { PolicyCommandOptions, PolicyDestination } from './policy.ts';
import { identityCount, type PolicyDocument } from './policy-documents.ts';

/** Owner of the fields `stinger policy apply` sets (server-side apply). */
export const FIELD_MANAGER = 'stinger-cli';

/** What is sent: the document as written, with only the metadata a user sets. */
function customObject(document: PolicyDocument): CustomObject {
  const { policy, written } = document;
  const metadata = (written['metadata'] ?? {}) as Record<string, unknown>;
  return {
    apiVersion: String(written['apiVersion']),
    kind: policy.kind,
    metadata: {
      name: policy.metadata.name,
      ...(policy.metadata.namespace === null ? {} : { namespace: policy.metadata.namespace }),
      ...(metadata['labels'] === undefined ? {} : { labels: metadata['labels'] }),
      ...(metadata['annotations'] === undefined ? {} : { annotations: metadata['annotations'] }),
    },
    spec: written['spec'],
  };
}

/** `namespace/name` → a TracingPolicyNamespaced; `name` → a TracingPolicy. */
function resourceOfKey(key: string): { type: PolicyResourceType; ref: { name: string; namespace: string | null } } {
  const slash = key.indexOf('/');
  if (slash < 0) return { type: POLICY_RESOURCE_TYPES.TracingPolicy, ref: { name: key, namespace: null } };
  return { type: POLICY_RESOURCE_TYPES.TracingPolicyNamespaced, ref: { name: key.slice(slash + 1), namespace: key.slice(0, slash) } };
}

export class ClusterPolicies implements PolicyDestination {
  readonly #options: PolicyCommandOptions;
  readonly #client: CustomObjectClient;
  readonly #server: string;

  constructor(options: PolicyCommandOptions, kubeConfig: KubeConfig) {
    this.#options = options;
    this.#client = createCustomObjectClient(kubeConfig);
    this.#server = kubeConfig.getCurrentCluster()?.server ?? 'the API server';
  }

  /** A KubeApiError the user can act on, as a CliError; other errors pass. */
  #explain(error: unknown): unknown {
    if (!(error instanceof KubeApiError)) return error;
    if (error.status === 0) return new CliError(`cannot reach the API server at ${this.#server}: ${error.message}`);
    if (error.status === 404 && error.reason !== 'NotFound') {
      return new CliError(`the TracingPolicy custom resource definitions are not installed at ${this.#server} (kubectl apply -f k8s/crds/)`);
    }
    if (error.status === 401 || error.status === 403) return new CliError(`${this.#server} refused: ${error.message}`);
    return error;
  }

  async #call<T>(request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      throw this.#explain(error);
    }
  }

  async apply(documents: readonly PolicyDocument[]): Promise<void> {
    const { out } = this.#options;
    // Every object through admission first (dry run): one refusal and nothing is applied.
    const problems: string[] = [];
    for (const document of documents) {
      const type = POLICY_RESOURCE_TYPES[document.policy.kind];
      try {
        await this.#call(() => this.#client.apply(type, customObject(document), { fieldManager: FIELD_MANAGER, dryRun: true }));
      } catch (error) {
        if (!(error instanceof KubeApiError)) throw error;
        const where = `${document.source}: ${policyKey(document.policy)}`;
        if (error.causes.length === 0) problems.push(`${where}: ${error.message}`);
        for (const cause of error.causes) problems.push(`${where}: ${cause.field === '' ? '' : `${cause.field}: `}${cause.message}`);
      }
    }
    if (problems.length > 0) {
      for (const problem of problems) process.stderr.write(`${problem}\n`);
      throw new CliError(`the API server refused ${problems.length} field(s); nothing was applied`);
    }
    for (const document of documents) {
      const type = POLICY_RESOURCE_TYPES[document.policy.kind];
      const key = policyKey(document.policy);
      const ref = { name: document.policy.metadata.name, namespace: document.policy.metadata.namespace };
      const before = await this.#call(() => this.#client.get(type, ref));
      const after = await this.#call(() => this.#client.apply(type, customObject(document), { fieldManager: FIELD_MANAGER }));
      const generation = after.metadata.generation ?? 0;
      if (before !== null && before.metadata.generation === generation) {
        out(`${key}: unchanged (${type.kind}, generation ${generation})`);
        continue;
      }
      const result = compilePolicy(document.policy);
      out(
        `${key}: ${before === null ? 'created' : 'updated'} (${type.kind}, generation ${generation}, ${result.kernelRules.length} kernel rules, ${result.pipelineRules.length} pipeline rules${identityCount(result.identityRules.length)})`,
      );
      for (const report of result.reports) out(`  note: ${formatIssue(report)}`);
    }
  }

  async delete(keys: readonly string[]): Promise<void> {
    const targets = keys.map((key) => ({ key, ...resourceOfKey(key) }));
    const missing: string[] = [];
    for (const { key, type, ref } of targets) if ((await this.#call(() => this.#client.get(type, ref))) === null) missing.push(key);
    if (missing.length > 0) throw new CliError(`no such policy: ${missing.join(', ')}`);
    for (const { key, type, ref } of targets) {
      await this.#call(() => this.#client.delete(type, ref));
      this.#options.out(`${key}: deleted (${type.kind})`);
    }
  }

  async list(): Promise<void> {
    const { out } = this.#options;
    const objects: Array<{ key: string; kind: string; object: CustomObject }> = [];
    for (const type of Object.values(POLICY_RESOURCE_TYPES)) {
      for (const object of await this.#call(() => this.#client.list(type))) {
        const { name, namespace } = object.metadata;
        objects.push({ key: namespace ? `${namespace}/${name}` : name, kind: type.kind, object });
      }
    }
    if (objects.length === 0) {
      out('no policies');
      return;
    }
    for (const { key, kind, object } of objects.sort((a, b) => a.key.localeCompare(b.key))) {
      const spec = (object.spec ?? {}) as { mode?: string; rules?: unknown[] };
      out(`${key}  ${kind}  mode=${spec.mode ?? 'enforce'}  generation=${object.metadata.generation ?? 0}  rules=${spec.rules?.length ?? 0}`);
      for (const line of statusLines(object.status as TracingPolicyStatus | undefined, object.metadata.generation ?? 0)) out(`  ${line}`);
    }
  }
}

/** What `list` says about one object's status, one line each. */
export function statusLines(status: TracingPolicyStatus | undefined, generation: number): string[] {
  if (status === undefined || !Array.isArray(status.conditions)) return ['the policy-controller has not reported on it yet'];
  const lines: string[] = [];
  if (status.observedGeneration !== generation) lines.push(`the policy-controller has not seen generation ${generation} yet (last saw ${status.observedGeneration})`);
  const accepted = status.conditions.find((c) => c.type === 'Accepted');
  if (accepted?.status === 'False') {
    lines.push(`not accepted: ${accepted.message.split(': ')[0] ?? accepted.message}`);
    for (const error of status.errors ?? []) lines.push(`  ${error.field === '' ? '' : `${error.field}: `}${error.message}`);
  }
  const published = status.publishedGeneration;
  lines.push(published === undefined ? 'nothing in force' : `in force: generation ${published}${status.rules ? `, ${status.rules.kernel} kernel rules, ${status.rules.pipeline} pipeline rules` : ''}`);
  if ((status.nodeStatuses ?? []).length === 0 && published !== undefined) lines.push('no agent has reported this policy yet');
  for (const node of status.nodeStatuses ?? []) {
    const stale = node.generation === published ? '' : ` (reports generation ${node.generation})`;
    lines.push(`${node.node}: ${node.state}${stale}, ${node.kernelRules} kernel rules, ${node.pipelineRules} pipeline rules`);
    for (const message of node.messages ?? []) lines.push(`  ${message}`);
  }
  return lines;
}
