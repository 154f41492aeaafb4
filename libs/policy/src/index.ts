// @stinger/policy: TracingPolicy / TracingPolicyNamespaced (stinger.io/v1alpha1) parsing and validation, compilation
// into the CompiledPolicy record plus kernel map entries and pipeline rules (and a record back into its policy),
// rule ids, and the set of loaded policies with incremental kernel diffs. Pure: no I/O, no logging.
export { formatIssue, PolicyError, PolicyValidationError, type PolicyErrorOptions, type PolicyIssue } from './errors.ts';
export * from './policy-types.ts';
export { ALL_MATCH_FIELDS, MATCH_FIELDS, matchFieldsOf, symbolsOf, type MatchFieldDefinition, type MatchFieldKind } from './match-fields.ts';
export { validatePolicy, type ValidatedPolicy } from './validate-policy.ts';
export { isJsonText, parsePolicies, type ParsedPolicies, type ParsePoliciesOptions } from './parse-policies.ts';
export { ATTACK_TECHNIQUE_ID, defaultPolicies, type PolicySource } from './default-policies.ts';
export { RuleIdRegistry, ruleIdOf, type RuleIdCollision, type RuleRef } from './rule-ids.ts';
export {
  ANY_DESTINATION,
  compilePolicy,
  KERNEL_FILE_OPS,
  KERNEL_MAX_PORTS_PER_RULE,
  KERNEL_PATH_MAX_BYTES,
  PID_SCOPED_KERNEL_EVENTS,
  kernelRuleKey,
  type CompiledPolicyResult,
  type CompilePolicyOptions,
  type ConnectKernelRule,
  type ExecKernelRule,
  type FileKernelRule,
  type KernelFileOp,
  type KernelPathMatch,
  type KernelPidScope,
  type KernelPodScope,
  type KernelRule,
  type ModuleKernelRule,
  type NamespaceKernelRule,
  type PipelineRule,
} from './compile-policy.ts';
export {
  identityObstacles,
  identityRuleMessage,
  identityRuleOf,
  type IdentityContext,
  type IdentityObstacle,
  type IdentityRule,
  type IdentityRuleShape,
} from './identity-rules.ts';
export { LSM_DENY_HOOK, lsmDenyRuleMessage, lsmDenyRulesOf, type LsmDenyRule } from './lsm-deny.ts';
export { diffKernelRules, PolicySet, type KernelRuleDiff, type PolicyChange, type PolicyChangeKind, type PolicyEntry, type PolicySetOptions } from './policy-set.ts';
export { policySpecSchema } from './spec-schema.ts';
export { parseCidr, type ParsedCidr } from './values.ts';
export { tracingPolicyFromCompiled } from './tracing-policy-from-compiled.ts';
