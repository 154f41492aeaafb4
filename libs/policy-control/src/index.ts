// @stinger/policy-control: the policy-controller's logic. TracingPolicy / TracingPolicyNamespaced custom resources →
// validated, compiled, signed records on stinger.policies (tombstones on delete, orphans removed at start), and the
// `.status` written back from what the agents report; the CRDs generated from the validator's tables.
export { POLICY_GROUP, POLICY_RESOURCE_TYPES, POLICY_VERSION, type PolicyResourceType } from './policy-resources.ts';
export {
  CONDITION_STATUSES,
  CONDITION_TYPES,
  NODE_POLICY_STATES,
  policyStatusSchema,
  type ConditionStatus,
  type JsonSchema,
  type NodeCounts,
  type NodePolicyState,
  type NodePolicyStateName,
  type PolicyCondition,
  type PolicyConditionType,
  type PolicyFieldError,
  type RuleCounts,
  type TracingPolicyStatus,
} from './policy-status.ts';
export { policyCrd, policyCrdFiles, type CrdFile } from './crds.ts';
export { policiesInForce, type PoliciesInForce, type PolicyInForce, type RefusedPolicyRecord } from './policies-in-force.ts';
export {
  judgePolicyObject,
  objectPolicyKey,
  orphanedKeys,
  ruleCounts,
  ruleCountsOfRecord,
  sameCompiledPolicy,
  type PolicyObject,
  type PolicyVerdict,
} from './reconcile.ts';
export { NodeReports } from './node-reports.ts';
export { buildPolicyStatus, statusUnchanged, type PolicyStatusInput } from './status-builder.ts';
export { PolicyController, type PolicyControllerOptions, type PolicyObjectEvents, type PolicyRecordToSend } from './policy-controller.ts';
export { createClusterPolicyResources, DisabledPolicyResources, type ClusterPolicyResourcesOptions, type PolicyResources } from './policy-resources-source.ts';
export { startPolicyControl, type RunningPolicyControl, type StartPolicyControlOptions } from './start-policy-control.ts';
