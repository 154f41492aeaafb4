/**
 * What each agent last reported for each policy (the compacted stinger.policies.status topic, key
 * `<node>/<policy key>`, a tombstone when the policy is gone from the node), by policy key.
 */
import type { PolicyStatus } from '@stinger/events';

export class NodeReports {
  readonly #byPolicy = new Map<string, Map<string, PolicyStatus>>();

  /**
   * Records one status record; returns the policy key it concerns, or null when the record key is not
   * `<node>/<policy key>`. Node names hold no '/', so the first '/' separates the node from the policy key.
   */
  apply(recordKey: string, status: PolicyStatus | null): string | null {
    const slash = recordKey.indexOf('/');
    if (slash <= 0 || slash === recordKey.length - 1) return null;
    const node = recordKey.slice(0, slash);
    const policy = recordKey.slice(slash + 1);
    let nodes = this.#byPolicy.get(policy);
    if (status === null) {
      nodes?.delete(node);
      if (nodes?.size === 0) this.#byPolicy.delete(policy);
      return policy;
    }
    if (nodes === undefined) this.#byPolicy.set(policy, (nodes = new Map()));
    nodes.set(node, status);
    return policy;
  }

  /** The reports for `policyKey`, by node name. */
  of(policyKey: string): PolicyStatus[] {
    return [...(this.#byPolicy.get(policyKey)?.values() ?? [])].sort((a, b) => a.node.localeCompare(b.node));
  }
}
