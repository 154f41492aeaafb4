/**
 * PodIndex: container id → pod, kept current by list+watch informers on Pods (all namespaces, or one
 * node's with `nodeName` for a DaemonSet deployment), ReplicaSets and Jobs (for workload resolution).
 *
 * Contract:
 *  - `start()` starts the informers and returns at once; `waitForSync(ms)` resolves true when every
 *    informer has listed once (false on timeout: lookups then answer from what is known).
 *  - A watch that fails is restarted with exponential back-off (InformerSupervisor); a relist rebuilds
 *    from the list.
 *  - Every `resyncMs` the index is rebuilt from the informers' caches (drift from missed owner updates
 *    is repaired) and expired tombstones are pruned.
 *  - `onChange` listeners run after each pod change (the enricher's late-metadata wait wakes on them).
 */
import { AppsV1Api, BatchV1Api, CoreV1Api, ListWatch, Watch, type KubeConfig, type KubernetesObject, type V1Job, type V1Pod, type V1ReplicaSet } from '@kubernetes/client-node';
import { namespaced, type Logger } from '@stinger/log';
import type { BackoffOptions } from '@stinger/retry';
import { InformerSupervisor } from './informer-supervisor.ts';
import type { PodMetadataOptions } from './pod-metadata.ts';
import { PodStore, type PodLookup, type PodStoreStats } from './pod-store.ts';

export interface PodIndexStats extends PodStoreStats {
  readonly synced: boolean;
  readonly reconnects: number;
}

export interface PodIndex extends PodLookup {
  /** 'cluster': informers against an API server; 'disabled': outside a cluster, every lookup misses. */
  readonly mode: 'cluster' | 'disabled';
  /** Why the index is disabled (the enricher's not_enriched reason); null in a cluster. */
  readonly disabledReason: string | null;
  start(): Promise<void>;
  waitForSync(timeoutMs: number): Promise<boolean>;
  onChange(listener: () => void): () => void;
  stats(): PodIndexStats;
  stop(): Promise<void>;
}

export interface CreatePodIndexOptions {
  readonly kubeConfig: KubeConfig;
  readonly logger: Logger;
  readonly tombstoneCapacity?: number;
  readonly tombstoneTtlMs?: number;
  /** Only this node's pods (fieldSelector spec.nodeName=…), for an enricher running beside each agent. */
  readonly nodeName?: string;
  /** Rebuild the index from the informer caches this often. Default 5 minutes. */
  readonly resyncMs?: number;
  readonly backoff?: BackoffOptions;
  readonly metadata?: PodMetadataOptions;
}

interface Supervised {
  readonly name: string;
  readonly informer: ListWatch<KubernetesObject>;
}

export function createPodIndex(options: CreatePodIndexOptions): PodIndex {
  const { kubeConfig, resyncMs = 5 * 60_000 } = options;
  const logger = namespaced(options.logger, 'PodIndex');
  const store = new PodStore({
    ...(options.tombstoneCapacity !== undefined ? { tombstoneCapacity: options.tombstoneCapacity } : {}),
    ...(options.tombstoneTtlMs !== undefined ? { tombstoneTtlMs: options.tombstoneTtlMs } : {}),
    ...(options.metadata ? { metadata: options.metadata } : {}),
  });
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const apps = kubeConfig.makeApiClient(AppsV1Api);
  const batch = kubeConfig.makeApiClient(BatchV1Api);
  const fieldSelector = options.nodeName ? `spec.nodeName=${options.nodeName}` : undefined;

  const pods = new ListWatch<V1Pod>('/api/v1/pods', new Watch(kubeConfig), () => core.listPodForAllNamespaces(fieldSelector ? { fieldSelector } : {}), false, undefined, fieldSelector);
  const replicaSets = new ListWatch<V1ReplicaSet>('/apis/apps/v1/replicasets', new Watch(kubeConfig), () => apps.listReplicaSetForAllNamespaces(), false);
  const jobs = new ListWatch<V1Job>('/apis/batch/v1/jobs', new Watch(kubeConfig), () => batch.listJobForAllNamespaces(), false);

  const listeners = new Set<() => void>();
  const changed = () => {
    for (const listener of listeners) listener();
  };
  // Owners first: a pod added before its ReplicaSet is re-resolved when the ReplicaSet arrives.
  replicaSets.on('add', (rs) => store.upsertOwner('ReplicaSet', rs));
  replicaSets.on('update', (rs) => store.upsertOwner('ReplicaSet', rs));
  replicaSets.on('delete', (rs) => store.deleteOwner('ReplicaSet', rs));
  jobs.on('add', (job) => store.upsertOwner('Job', job));
  jobs.on('update', (job) => store.upsertOwner('Job', job));
  jobs.on('delete', (job) => store.deleteOwner('Job', job));
  pods.on('add', (pod) => (store.upsertPod(pod), changed()));
  pods.on('update', (pod) => (store.upsertPod(pod), changed()));
  pods.on('delete', (pod) => (store.deletePod(pod), changed()));

  const supervised: Supervised[] = [
    { name: 'replicasets', informer: replicaSets as unknown as ListWatch<KubernetesObject> },
    { name: 'jobs', informer: jobs as unknown as ListWatch<KubernetesObject> },
    { name: 'pods', informer: pods as unknown as ListWatch<KubernetesObject> },
  ];
  const supervisor = new InformerSupervisor(logger, options.backoff);
  let stopped = false;

  function isSynced(): boolean {
    return supervised.every((s) => s.informer.latestResourceVersion() !== '');
  }

  function resync(): void {
    store.replaceAll({ pods: pods.list(), replicaSets: replicaSets.list(), jobs: jobs.list() });
    changed();
    logger.debug({ ...store.stats() }, 'resynced');
  }

  return {
    mode: 'cluster',
    disabledReason: null,
    byContainerId: (id) => store.byContainerId(id),
    byPodUid: (uid) => store.byPodUid(uid),
    async start() {
      for (const s of supervised) supervisor.supervise(s.name, s.informer);
      supervisor.every(resyncMs, resync);
      logger.info({ server: kubeConfig.getCurrentCluster()?.server, nodeName: options.nodeName ?? null }, 'pod informers started');
    },
    async waitForSync(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (!isSynced()) {
        if (Date.now() >= deadline || stopped) return false;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return true;
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    stats: () => ({ ...store.stats(), synced: isSynced(), reconnects: supervisor.reconnects }),
    async stop() {
      stopped = true;
      supervisor.stop();
      await Promise.all(supervised.map((s) => s.informer.stop()));
    },
  };
}
