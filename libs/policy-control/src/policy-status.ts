/**
 * `.status` of a TracingPolicy / TracingPolicyNamespaced, as the policy-controller writes it through the status
 * subresource, and its OpenAPI schema for the CRDs. Users read it with `kubectl get tp` (printer columns) and
 * `stinger policy list`.
 *
 * - observedGeneration  the metadata.generation the controller last acted on (accepted or refused)
 * - publishedGeneration CompiledPolicy.generation of the record in force on stinger.policies (absent: none)
 * - conditions          Accepted: the spec passed the policy validator (False: `errors` says which fields, and the
 *                       previous valid version, if any, stays in force); Applied: what the agents reported for the
 *                       record in force (True when every reporting node applied it)
 * - errors              the validator's problems with their field paths (empty when accepted)
 * - rules               rule counts of the version in force: all, decided in the kernel, left to the pipeline
 * - nodes               how many nodes report the version in force applied / partial / rejected, and how many still
 *                       report an older one (pending)
 * - nodeStatuses        each reporting node's state, generation and messages (from stinger.policies.status)
 */
import type { policySpecSchema } from '@stinger/policy';

export type JsonSchema = ReturnType<typeof policySpecSchema>;

export const CONDITION_TYPES = ['Accepted', 'Applied'] as const;
export type PolicyConditionType = (typeof CONDITION_TYPES)[number];
export const CONDITION_STATUSES = ['True', 'False', 'Unknown'] as const;
export type ConditionStatus = (typeof CONDITION_STATUSES)[number];
export const NODE_POLICY_STATES = ['applied', 'partial', 'rejected'] as const;
export type NodePolicyStateName = (typeof NODE_POLICY_STATES)[number];

/** A Kubernetes-style condition (metav1.Condition's fields). */
export interface PolicyCondition {
  readonly type: PolicyConditionType;
  readonly status: ConditionStatus;
  /** CamelCase, machine-readable. */
  readonly reason: string;
  readonly message: string;
  /** RFC 3339; changes only when `status` changes. */
  readonly lastTransitionTime: string;
  readonly observedGeneration: number;
}

export interface PolicyFieldError {
  /** Field path in the object, e.g. `spec.rules[0].match.path.prefix[1]`. */
  readonly field: string;
  readonly message: string;
}

export interface RuleCounts {
  readonly total: number;
  readonly kernel: number;
  readonly pipeline: number;
}

export interface NodeCounts {
  readonly applied: number;
  readonly partial: number;
  readonly rejected: number;
  readonly pending: number;
}

export interface NodePolicyState {
  readonly node: string;
  readonly state: NodePolicyStateName;
  readonly generation: number;
  readonly kernelRules: number;
  readonly pipelineRules: number;
  readonly messages: readonly string[];
  /** RFC 3339. */
  readonly reportedAt: string;
}

export interface TracingPolicyStatus {
  readonly observedGeneration: number;
  readonly publishedGeneration?: number;
  readonly conditions: readonly PolicyCondition[];
  readonly errors: readonly PolicyFieldError[];
  readonly rules?: RuleCounts;
  readonly nodes: NodeCounts;
  readonly nodeStatuses: readonly NodePolicyState[];
}

const integer = (description: string): JsonSchema => ({ type: 'integer', format: 'int64', description });
const count = (description: string): JsonSchema => ({ type: 'integer', format: 'int32', minimum: 0, description });
const text = (description: string, extra: JsonSchema = {}): JsonSchema => ({ type: 'string', description, ...extra });

/** The OpenAPI v3 structural schema of `status` (see the fields above). */
export function policyStatusSchema(): JsonSchema {
  const condition: JsonSchema = {
    type: 'object',
    required: ['type', 'status', 'reason', 'message', 'lastTransitionTime'],
    properties: {
      type: text('Accepted or Applied.', { enum: [...CONDITION_TYPES] }),
      status: text('True, False or Unknown.', { enum: [...CONDITION_STATUSES] }),
      reason: text('Machine-readable, CamelCase.'),
      message: text('Human-readable details.'),
      lastTransitionTime: text('When status last changed.', { format: 'date-time' }),
      observedGeneration: integer('metadata.generation the condition was computed for.'),
    },
  };
  const nodeStatus: JsonSchema = {
    type: 'object',
    required: ['node', 'state', 'generation'],
    properties: {
      node: text('Node of the reporting agent.'),
      state: text('What the agent made of the policy.', { enum: [...NODE_POLICY_STATES] }),
      generation: integer('Published generation the agent reports on.'),
      kernelRules: count('Kernel map entries in force.'),
      pipelineRules: count('Rules left to the detector and enforcer.'),
      messages: { type: 'array', items: { type: 'string' }, description: 'Why a rule is pipeline-only, failed, or was rejected.' },
      reportedAt: text('When the agent reported.', { format: 'date-time' }),
    },
  };
  return {
    type: 'object',
    description: 'Written by the policy-controller (status subresource).',
    properties: {
      observedGeneration: integer('metadata.generation the controller last acted on.'),
      publishedGeneration: integer('Generation of the signed record in force on stinger.policies.'),
      conditions: { type: 'array', items: condition, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] },
      errors: {
        type: 'array',
        description: 'Validation problems of the spec, by field (empty when accepted).',
        items: { type: 'object', required: ['field', 'message'], properties: { field: text('Field path.'), message: text('What is wrong.') } },
      },
      rules: {
        type: 'object',
        description: 'Rule counts of the version in force.',
        properties: { total: count('Rules.'), kernel: count('Kernel map entries.'), pipeline: count('Rules decided in the pipeline.') },
      },
      nodes: {
        type: 'object',
        description: 'Nodes reporting the version in force, by outcome; pending: nodes still reporting an older version.',
        properties: { applied: count('Applied.'), partial: count('Partially applied.'), rejected: count('Rejected.'), pending: count('On an older version.') },
      },
      nodeStatuses: { type: 'array', items: nodeStatus, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['node'] },
    },
  };
}
