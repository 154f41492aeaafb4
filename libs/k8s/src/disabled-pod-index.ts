/**
 * The pod index outside a cluster (no KUBECONFIG, no service account): the same interface, every
 * lookup misses and `disabledReason` says why, so the enricher adds container identity only and
 * marks container events not_enriched with that reason instead of waiting for pods that never come.
 */
import type { PodIndex } from './pod-index.ts';

export const NO_CLUSTER_REASON = 'no cluster';

export class DisabledPodIndex implements PodIndex {
  readonly mode = 'disabled' as const;
  readonly disabledReason: string;

  constructor(reason: string = NO_CLUSTER_REASON) {
    this.disabledReason = reason;
  }

  byContainerId(_containerId: string): null {
    return null;
  }

  byPodUid(_uid: string): null {
    return null;
  }

  async start(): Promise<void> {}

  async waitForSync(): Promise<boolean> {
    return true;
  }

  onChange(): () => void {
    return () => {};
  }

  stats() {
    return { pods: 0, containers: 0, tombstones: 0, synced: true, reconnects: 0 };
  }

  async stop(): Promise<void> {}
}
