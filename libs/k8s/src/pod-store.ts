/**
 * The pod index's state, without I/O: informer events in (pod, ReplicaSet and Job upserts and
 * deletes, full resyncs), lookups by container id and pod uid out. Deleted pods, and containers a pod
 * no longer lists (a restarted container gets a new id), move to a bounded tombstone cache so events
 * that arrive after the API server forgot them still resolve.
 *
 * Single-threaded by construction (Node's event loop): lookups always see a consistent state.
 */
import {
  podMetadataFromPod,
  type IntermediateOwnerKind,
  type OwnedObjectLike,
  type OwnerReferenceLike,
  type PodLike,
  type PodMetadata,
  type PodMetadataOptions,
} from './pod-metadata.ts';
import { TombstoneCache } from './tombstone-cache.ts';

/** What the enricher asks: the pod behind a container id, or a pod by uid. Live pods first, then tombstones. */
export interface PodLookup {
  byContainerId(containerId: string): PodMetadata | null;
  byPodUid(uid: string): PodMetadata | null;
}

export interface PodStoreOptions {
  /** How many deleted pods and replaced containers to remember. Default 4096. */
  readonly tombstoneCapacity?: number;
  /** How long to remember them. Default 5 minutes. */
  readonly tombstoneTtlMs?: number;
  readonly now?: () => number;
  readonly metadata?: PodMetadataOptions;
}

export interface PodStoreStats {
  readonly pods: number;
  readonly containers: number;
  readonly tombstones: number;
}

export interface PodStoreSnapshot {
  readonly pods: readonly PodLike[];
  readonly replicaSets: readonly OwnedObjectLike[];
  readonly jobs: readonly OwnedObjectLike[];
}

function ownerKey(kind: IntermediateOwnerKind, namespace: string, name: string): string {
  return `${kind}/${namespace}/${name}`;
}

/** The ReplicaSet or Job a pod's workload resolution depends on, if any. */
function intermediateOwnerKeyOf(pod: PodLike): string | null {
  const references = pod.metadata?.ownerReferences ?? [];
  const owner = references.find((r) => r.controller === true) ?? references[0];
  if (!owner || (owner.kind !== 'ReplicaSet' && owner.kind !== 'Job')) return null;
  return ownerKey(owner.kind, pod.metadata?.namespace ?? '', owner.name);
}

interface LivePod {
  readonly pod: PodLike;
  readonly meta: PodMetadata;
  readonly ownerKey: string | null;
}

export class PodStore implements PodLookup {
  readonly #pods = new Map<string, LivePod>();
  readonly #containers = new Map<string, string>();
  readonly #owners = new Map<string, readonly OwnerReferenceLike[]>();
  readonly #podsByOwner = new Map<string, Set<string>>();
  readonly #tombstones: TombstoneCache<string, PodMetadata>;
  readonly #metadataOptions: PodMetadataOptions;
  readonly #lookupOwner = (kind: IntermediateOwnerKind, namespace: string, name: string) => this.#owners.get(ownerKey(kind, namespace, name)) ?? null;

  constructor(options: PodStoreOptions = {}) {
    this.#tombstones = new TombstoneCache({
      capacity: options.tombstoneCapacity ?? 4096,
      ttlMs: options.tombstoneTtlMs ?? 5 * 60_000,
      ...(options.now ? { now: options.now } : {}),
    });
    this.#metadataOptions = options.metadata ?? {};
  }

  byContainerId(containerId: string): PodMetadata | null {
    const uid = this.#containers.get(containerId);
    const live = uid === undefined ? undefined : this.#pods.get(uid);
    return live?.meta ?? this.#tombstones.get(`c:${containerId}`) ?? null;
  }

  byPodUid(uid: string): PodMetadata | null {
    return this.#pods.get(uid)?.meta ?? this.#tombstones.get(`u:${uid}`) ?? null;
  }

  upsertPod(pod: PodLike): void {
    const meta = podMetadataFromPod(pod, this.#lookupOwner, this.#metadataOptions);
    if (!meta) return;
    const previous = this.#pods.get(meta.uid);
    const current = new Set(meta.containers.map((c) => c.id));
    if (previous) {
      for (const container of previous.meta.containers) {
        if (current.has(container.id)) continue;
        this.#containers.delete(container.id);
        this.#tombstones.put(`c:${container.id}`, previous.meta);
      }
      this.#unlinkOwner(previous.ownerKey, meta.uid);
    }
    for (const id of current) this.#containers.set(id, meta.uid);
    const key = intermediateOwnerKeyOf(pod);
    if (key !== null) {
      let set = this.#podsByOwner.get(key);
      if (!set) this.#podsByOwner.set(key, (set = new Set()));
      set.add(meta.uid);
    }
    this.#pods.set(meta.uid, { pod, meta, ownerKey: key });
    this.#tombstones.delete(`u:${meta.uid}`);
  }

  deletePod(pod: PodLike): void {
    const uid = pod.metadata?.uid;
    const live = uid === undefined ? undefined : this.#pods.get(uid);
    if (!uid || !live) return;
    this.#pods.delete(uid);
    this.#unlinkOwner(live.ownerKey, uid);
    this.#tombstones.put(`u:${uid}`, live.meta);
    for (const container of live.meta.containers) {
      if (this.#containers.get(container.id) === uid) this.#containers.delete(container.id);
      this.#tombstones.put(`c:${container.id}`, live.meta);
    }
  }

  /** A ReplicaSet or Job was added or changed: pods it owns re-resolve their workload. */
  upsertOwner(kind: IntermediateOwnerKind, object: OwnedObjectLike): void {
    const { namespace, name } = object.metadata ?? {};
    if (!namespace || !name) return;
    const key = ownerKey(kind, namespace, name);
    this.#owners.set(key, object.metadata?.ownerReferences ?? []);
    this.#refreshOwned(key);
  }

  deleteOwner(kind: IntermediateOwnerKind, object: OwnedObjectLike): void {
    const { namespace, name } = object.metadata ?? {};
    if (!namespace || !name) return;
    // Pods already resolved keep their workload: an orphaned pod still belongs to what created it.
    this.#owners.delete(ownerKey(kind, namespace, name));
  }

  /** A full list (resync or relist): whatever is not in it is deleted, the rest upserted. */
  replaceAll(snapshot: PodStoreSnapshot): void {
    this.#owners.clear();
    for (const rs of snapshot.replicaSets) this.upsertOwner('ReplicaSet', rs);
    for (const job of snapshot.jobs) this.upsertOwner('Job', job);
    const listed = new Set(snapshot.pods.map((p) => p.metadata?.uid));
    for (const live of [...this.#pods.values()]) if (!listed.has(live.meta.uid)) this.deletePod(live.pod);
    for (const pod of snapshot.pods) this.upsertPod(pod);
    this.#tombstones.prune();
  }

  stats(): PodStoreStats {
    return { pods: this.#pods.size, containers: this.#containers.size, tombstones: this.#tombstones.size };
  }

  #refreshOwned(key: string): void {
    for (const uid of [...(this.#podsByOwner.get(key) ?? [])]) {
      const live = this.#pods.get(uid);
      if (live) this.upsertPod(live.pod);
    }
  }

  #unlinkOwner(key: string | null, uid: string): void {
    if (key === null) return;
    const set = this.#podsByOwner.get(key);
    set?.delete(uid);
    if (set?.size === 0) this.#podsByOwner.delete(key);
  }
}
