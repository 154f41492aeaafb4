/**
 * The policy-controller's decisions, as pure functions of a custom resource and the record in force for its key.
 *
 * - An object that fails the policy validator is `invalid`: nothing is published and whatever is in force stays
 *   (the previous valid version, or nothing).
 * - A valid object is compiled. It is published unless the record in force already says the same (same rules, mode,
 *   selector, uid): a controller restart or a status-only change publishes nothing.
 * - The published generation is metadata.generation, raised past the record in force when that one is not older
 *   (a CR deleted and created again while the controller was down starts again at generation 1, and consumers ignore
 *   a record older than the one they hold).
 * - At start, every key in force without a custom resource is an orphan: its custom resource was deleted while the
 *   controller was away, or the record was written around the API server. In a cluster the custom resources are the
 *   authority, so orphans get tombstones.
 */
import type { CompiledPolicy } from '@stinger/events';
import type { RegoCompilation } from '@stinger/rego';
import { compilePolicy, PolicyValidationError, tracingPolicyFromCompiled, validatePolicy, type CompiledPolicyResult, type PolicyIssue } from '@stinger/policy';
import type { PolicyFieldError, RuleCounts } from './policy-status.ts';

/** The parts of a custom resource the decisions read (the API server's JSON). */
export interface PolicyObject {
  readonly apiVersion?: unknown;
  readonly kind?: unknown;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly uid?: string; readonly generation?: number };
  readonly spec?: unknown;
  readonly status?: unknown;
}

export type PolicyVerdict =
  | { readonly kind: 'invalid'; readonly generation: number; readonly errors: readonly PolicyFieldError[] }
  | {
      readonly kind: 'valid';
      readonly generation: number;
      /** Compiled with the generation to publish, or the one in force when `publish` is false. */
      readonly result: CompiledPolicyResult;
      readonly publish: boolean;
      /** Normalisations the validator applied (the policy is valid, but differs from what was written). */
      readonly warnings: readonly PolicyIssue[];
    };

/** The stinger.policies key of an object: `name`, or `namespace/name` for a namespaced kind (policyKey's rule). */
export function objectPolicyKey(object: Pick<PolicyObject, 'metadata'>): string {
  const { name, namespace } = object.metadata;
  return namespace ? `${namespace}/${name}` : name;
}

/**
 * Same content: everything but generation and compile time (uid included: a re-created CR is a new policy), and a
 * Rego module's wasm, which is what opa makes of the module and entrypoint compared.
 */
export function sameCompiledPolicy(a: CompiledPolicy, b: CompiledPolicy): boolean {
  const strip = (p: CompiledPolicy) =>
    JSON.stringify({ ...p, generation: 0, compiled_at_ns: 0, rego: p.rego === null ? null : { ...p.rego, wasm: null } }, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
  return strip(a) === strip(b);
}

export function ruleCounts(result: Pick<CompiledPolicyResult, 'compiled' | 'kernelRules' | 'pipelineRules'>): RuleCounts {
  return { total: result.compiled.rules.length, kernel: result.kernelRules.length, pipeline: result.pipelineRules.length };
}

/** Rule counts of a record from the topic (compiled again from the record); null when it cannot be. */
export function ruleCountsOfRecord(compiled: CompiledPolicy): RuleCounts | null {
  try {
    return ruleCounts(compilePolicy(tracingPolicyFromCompiled(compiled), { generation: compiled.generation, ...(compiled.rego === null ? {} : { regoWasm: compiled.rego.wasm }) }));
  } catch {
    return null;
  }
}

/**
 * The verdict on one custom resource. `rego`: its spec.rego compiled (regoSourceOf, then @stinger/rego compileRego,
 * done by the controller before judging); a module that does not compile makes the object invalid, each problem at
 * spec.rego.module with the module's line.
 */
export function judgePolicyObject(object: PolicyObject, inForce: CompiledPolicy | null | undefined, rego?: RegoCompilation): PolicyVerdict {
  const generation = object.metadata.generation ?? 0;
  let validated: ReturnType<typeof validatePolicy>;
  try {
    validated = validatePolicy(object);
  } catch (error) {
    if (!(error instanceof PolicyValidationError)) throw error;
    return { kind: 'invalid', generation, errors: error.issues.map((issue) => ({ field: issue.path, message: issue.message })) };
  }
  let regoWasm: Buffer | undefined;
  if (validated.policy.spec.rego !== null) {
    const compiled = rego ?? { problems: [{ line: null, message: 'the module was not compiled (no opa)' }] };
    if (compiled.problems !== undefined) {
      return { kind: 'invalid', generation, errors: compiled.problems.map((p) => ({ field: 'spec.rego.module', message: p.line === null ? p.message : `line ${p.line}: ${p.message}` })) };
    }
    regoWasm = compiled.wasm;
  }
  const wasm = regoWasm === undefined ? {} : { regoWasm };
  const declared = BigInt(generation);
  const candidate = compilePolicy(validated.policy, { generation: declared, ...wasm });
  if (inForce && sameCompiledPolicy(inForce, candidate.compiled)) {
    const current = compilePolicy(validated.policy, { generation: inForce.generation, compiledAtNs: inForce.compiled_at_ns, ...(inForce.rego === null ? {} : { regoWasm: inForce.rego.wasm }) });
    return { kind: 'valid', generation, result: current, publish: false, warnings: validated.warnings };
  }
  const published = inForce && inForce.generation >= declared ? inForce.generation + 1n : declared;
  const result = published === declared ? candidate : compilePolicy(validated.policy, { generation: published, compiledAtNs: candidate.compiled.compiled_at_ns, ...wasm });
  return { kind: 'valid', generation, result, publish: true, warnings: validated.warnings };
}

/** The Rego source of an object's spec.rego when it has one to compile (validation judges the rest). */
export function regoSourceOf(object: PolicyObject): { readonly module: string; readonly entrypoint: string } | null {
  const rego = (object.spec as { rego?: { module?: unknown; entrypoint?: unknown } } | undefined)?.rego;
  return typeof rego?.module === 'string' && typeof rego.entrypoint === 'string' ? { module: rego.module, entrypoint: rego.entrypoint } : null;
}

/** Keys in force that no custom resource accounts for, sorted. */
export function orphanedKeys(inForce: Iterable<string>, objectKeys: ReadonlySet<string>): string[] {
  return [...inForce].filter((key) => !objectKeys.has(key)).sort();
}
