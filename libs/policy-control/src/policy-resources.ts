/**
 * The two custom resource types a TracingPolicy is written as (stinger.io/v1alpha1): cluster-wide `TracingPolicy`
 * and `TracingPolicyNamespaced`, which applies only to pods of its namespace. One table for the CRDs, the
 * policy-controller's informers and status writes, and `stinger policy` in a cluster.
 */
import { POLICY_API_VERSION, type PolicyKind } from '@stinger/policy';

const [group = '', version = ''] = POLICY_API_VERSION.split('/');
/** `stinger.io`: the API group of both kinds (from the apiVersion the validator accepts). */
export const POLICY_GROUP = group;
/** `v1alpha1`. */
export const POLICY_VERSION = version;

/** Where a custom resource type lives in the API (what a Kubernetes client needs to address it). */
export interface PolicyResourceType {
  readonly group: string;
  readonly version: string;
  readonly kind: PolicyKind;
  readonly listKind: string;
  readonly plural: string;
  readonly singular: string;
  readonly shortNames: readonly string[];
  readonly namespaced: boolean;
}

export const POLICY_RESOURCE_TYPES: Readonly<Record<PolicyKind, PolicyResourceType>> = {
  TracingPolicy: {
    group: POLICY_GROUP,
    version: POLICY_VERSION,
    kind: 'TracingPolicy',
    listKind: 'TracingPolicyList',
    plural: 'tracingpolicies',
    singular: 'tracingpolicy',
    shortNames: ['tp'],
    namespaced: false,
  },
  TracingPolicyNamespaced: {
    group: POLICY_GROUP,
    version: POLICY_VERSION,
    kind: 'TracingPolicyNamespaced',
    listKind: 'TracingPolicyNamespacedList',
    plural: 'tracingpoliciesnamespaced',
    singular: 'tracingpolicynamespaced',
    shortNames: ['tpn'],
    namespaced: true,
  },
};
