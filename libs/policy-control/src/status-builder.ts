/**
 * The `.status` of one custom resource, as a pure function of the controller's verdict on it, the record in force for
 * its key and the agents' reports (see policy-status.ts for the meaning of each field). A condition keeps its
 * lastTransitionTime while its status stays the same, so an unchanged situation gives an identical status and the
 * controller writes nothing.
 */
import { isDeepStrictEqual } from 'node:util';
import type { PolicyStatus } from '@stinger/events';
import { formatIssue } from '@stinger/policy';
import type { PolicyVerdict } from './reconcile.ts';
import type { ConditionStatus, NodePolicyState, PolicyCondition, PolicyConditionType, RuleCounts, TracingPolicyStatus } from './policy-status.ts';

export interface PolicyStatusInput {
  readonly verdict: PolicyVerdict;
  /** The record agents hold for this key and its rule counts (null counts: not known); null when none. */
  readonly inForce: { readonly generation: bigint; readonly counts: RuleCounts | null } | null;
  /** Why the last publication failed, when it did. */
  readonly publishError: string | null;
  readonly reports: readonly PolicyStatus[];
  /** The object's current `.status` (anything: it is read, not trusted). */
  readonly previous: unknown;
  readonly now: Date;
}

/** RFC 3339 in whole seconds, as Kubernetes writes times. */
function timestamp(date: Date): string {
  return date.toISOString().replace(/\.\d+Z$/, 'Z');
}

function previousCondition(previous: unknown, type: PolicyConditionType): { status?: unknown; lastTransitionTime?: unknown } | undefined {
  const conditions = (previous as { conditions?: unknown } | null | undefined)?.conditions;
  if (!Array.isArray(conditions)) return undefined;
  return conditions.find((c: { type?: unknown }) => c?.type === type);
}

function condition(input: PolicyStatusInput, fields: { type: PolicyConditionType; status: ConditionStatus; reason: string; message: string }): PolicyCondition {
  const before = previousCondition(input.previous, fields.type);
  const kept = before?.status === fields.status && typeof before.lastTransitionTime === 'string' ? before.lastTransitionTime : null;
  return { ...fields, lastTransitionTime: kept ?? timestamp(input.now), observedGeneration: input.verdict.generation };
}

function nodeList(reports: readonly PolicyStatus[]): string {
  const names = reports.map((r) => r.node);
  return names.length <= 5 ? names.join(', ') : `${names.slice(0, 5).join(', ')} and ${names.length - 5} more`;
}

function acceptedCondition(input: PolicyStatusInput): PolicyCondition {
  const { verdict } = input;
  if (verdict.kind === 'invalid') {
    const problems = verdict.errors.map((e) => (e.field === '' ? e.message : `${e.field}: ${e.message}`));
    const kept = input.inForce === null ? 'nothing is in force' : `generation ${input.inForce.generation} stays in force`;
    return condition(input, { type: 'Accepted', status: 'False', reason: 'Invalid', message: `${problems.length} problem(s); ${kept}: ${problems.join('; ')}` });
  }
  const notes = [...verdict.warnings, ...verdict.result.reports].map(formatIssue);
  return condition(input, { type: 'Accepted', status: 'True', reason: 'Valid', message: notes.length === 0 ? 'the spec is valid' : `the spec is valid; ${notes.join('; ')}` });
}

function appliedCondition(input: PolicyStatusInput, current: readonly PolicyStatus[], pending: readonly PolicyStatus[]): PolicyCondition {
  const applied = (status: ConditionStatus, reason: string, message: string) => condition(input, { type: 'Applied', status, reason, message });
  if (input.publishError !== null) return applied('False', 'PublishFailed', `could not publish to stinger.policies: ${input.publishError}`);
  if (input.inForce === null) return applied('False', 'NotPublished', 'nothing is in force for this policy');
  const generation = input.inForce.generation;
  const rejected = current.filter((r) => r.state === 'rejected');
  const partial = current.filter((r) => r.state === 'partial');
  if (rejected.length > 0) return applied('False', 'Rejected', `generation ${generation} rejected on ${nodeList(rejected)}`);
  if (partial.length > 0) return applied('False', 'Partial', `generation ${generation} partly applied on ${nodeList(partial)}`);
  if (current.length === 0 && pending.length === 0) return applied('Unknown', 'NoReports', `no agent has reported generation ${generation} yet`);
  if (pending.length > 0) {
    return applied('Unknown', 'Pending', `generation ${generation} applied on ${current.length} of ${current.length + pending.length} node(s); waiting for ${nodeList(pending)}`);
  }
  return applied('True', 'Applied', `generation ${generation} applied on ${current.length} node(s)`);
}

function nodeState(report: PolicyStatus): NodePolicyState {
  return {
    node: report.node,
    state: report.state,
    generation: Number(report.generation),
    kernelRules: report.kernel_rules,
    pipelineRules: report.pipeline_rules,
    messages: [...report.messages],
    reportedAt: timestamp(new Date(Number(report.reported_at_ns / 1_000_000n))),
  };
}

export function buildPolicyStatus(input: PolicyStatusInput): TracingPolicyStatus {
  const { verdict, inForce } = input;
  const reports = [...input.reports].sort((a, b) => a.node.localeCompare(b.node));
  const current = inForce === null ? [] : reports.filter((r) => r.generation === inForce.generation);
  const pending = inForce === null ? [] : reports.filter((r) => r.generation !== inForce.generation);
  const count = (state: PolicyStatus['state']) => current.filter((r) => r.state === state).length;
  return {
    observedGeneration: verdict.generation,
    ...(inForce === null ? {} : { publishedGeneration: Number(inForce.generation) }),
    conditions: [acceptedCondition(input), appliedCondition(input, current, pending)],
    errors: verdict.kind === 'invalid' ? verdict.errors : [],
    ...(inForce?.counts ? { rules: inForce.counts } : {}),
    nodes: { applied: count('applied'), partial: count('partial'), rejected: count('rejected'), pending: pending.length },
    nodeStatuses: reports.map(nodeState),
  };
}

/** Whether `status` is what the object already shows (key order aside). */
export function statusUnchanged(status: TracingPolicyStatus, shown: unknown): boolean {
  return isDeepStrictEqual(JSON.parse(JSON.stringify(status)), shown);
}
