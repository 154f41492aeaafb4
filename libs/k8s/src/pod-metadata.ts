/**
 * Pod metadata as the enricher needs it, extracted from Pod objects; and workload resolution through
 * owner references. Pure: plain objects in (the API's JSON shape), plain objects out; the informers in
 * pod-index.ts feed it.
 */

export interface ContainerMetadata {
  /** Container id without the runtime prefix (`containerd://`, `cri-o://`, `docker://`). */
  readonly id: string;
  readonly name: string;
  /** Image reference from the pod status (what runs), else from the spec. */
  readonly image: string;
}

export interface WorkloadRef {
  readonly name: string;
  /** Deployment, StatefulSet, DaemonSet, Job, CronJob, another controller's kind, or 'Pod' for a bare pod. */
  readonly kind: string;
}

export interface PodMetadata {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  /** spec.nodeName; null while the pod is unscheduled. */
  readonly node: string | null;
  readonly workload: WorkloadRef;
  /** Every container with an id so far: regular, init and ephemeral. */
  readonly containers: readonly ContainerMetadata[];
}

// The API's JSON shape, only the fields read here (client-node's V1Pod etc. are assignable to these).
export interface OwnerReferenceLike {
  readonly kind: string;
  readonly name: string;
  readonly controller?: boolean;
}
export interface ObjectMetaLike {
  readonly uid?: string;
  readonly name?: string;
  readonly namespace?: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
  readonly ownerReferences?: readonly OwnerReferenceLike[];
}
export interface ContainerStatusLike {
  readonly name: string;
  readonly containerID?: string;
  readonly image?: string;
}
export interface ContainerSpecLike {
  readonly name: string;
  readonly image?: string;
}
export interface PodLike {
  readonly metadata?: ObjectMetaLike;
  readonly spec?: {
    readonly nodeName?: string;
    readonly containers?: readonly ContainerSpecLike[];
    readonly initContainers?: readonly ContainerSpecLike[];
    readonly ephemeralContainers?: readonly ContainerSpecLike[];
  };
  readonly status?: {
    readonly containerStatuses?: readonly ContainerStatusLike[];
    readonly initContainerStatuses?: readonly ContainerStatusLike[];
    readonly ephemeralContainerStatuses?: readonly ContainerStatusLike[];
  };
}
/** A ReplicaSet or Job, for its owners. */
export interface OwnedObjectLike {
  readonly metadata?: ObjectMetaLike;
}

/** The intermediate owners the index watches; everything else is a top-level workload itself. */
export type IntermediateOwnerKind = 'ReplicaSet' | 'Job';

/** Owner references of a ReplicaSet or Job; null when the index does not know the object (yet). */
export type OwnerLookup = (kind: IntermediateOwnerKind, namespace: string, name: string) => readonly OwnerReferenceLike[] | null;

const RUNTIME_PREFIX = /^[a-z0-9-]+:\/\//;

/** `containerd://<id>` → `<id>`; the runtime prefixes of containerd, CRI-O (`cri-o://`) and Docker. */
export function stripRuntimePrefix(containerId: string): string {
  return containerId.replace(RUNTIME_PREFIX, '');
}

function controllerOf(references: readonly OwnerReferenceLike[] | undefined): OwnerReferenceLike | null {
  if (!references || references.length === 0) return null;
  return references.find((r) => r.controller === true) ?? references[0] ?? null;
}

/**
 * The top-level workload of a pod: its controller owner, one level further up for a ReplicaSet
 * (→ Deployment) and a Job (→ CronJob). When the ReplicaSet is not known yet, the Deployment name is
 * derived from kubelet's naming (`<deployment>-<pod-template-hash>`); a Job not known yet is reported
 * as the Job. No owner: the bare pod itself, kind 'Pod'.
 */
export function resolveWorkload(pod: PodLike, owners: OwnerLookup): WorkloadRef {
  const namespace = pod.metadata?.namespace ?? '';
  const owner = controllerOf(pod.metadata?.ownerReferences);
  if (!owner) return { name: pod.metadata?.name ?? '', kind: 'Pod' };
  if (owner.kind === 'ReplicaSet' || owner.kind === 'Job') {
    const ownersOfOwner = owners(owner.kind, namespace, owner.name);
    if (ownersOfOwner !== null) {
      const top = controllerOf(ownersOfOwner);
      return top ? { name: top.name, kind: top.kind } : { name: owner.name, kind: owner.kind };
    }
    const hash = pod.metadata?.labels?.['pod-template-hash'];
    if (owner.kind === 'ReplicaSet' && hash && owner.name.endsWith(`-${hash}`)) {
      return { name: owner.name.slice(0, -hash.length - 1), kind: 'Deployment' };
    }
  }
  return { name: owner.name, kind: owner.kind };
}

export interface PodMetadataOptions {
  /** Annotation values longer than this are dropped (last-applied-configuration and the like). Default 1024. */
  readonly maxAnnotationValueLength?: number;
}

function containersOf(pod: PodLike): ContainerMetadata[] {
  const specImages = new Map<string, string>();
  for (const list of [pod.spec?.containers, pod.spec?.initContainers, pod.spec?.ephemeralContainers]) {
    for (const container of list ?? []) if (container.image) specImages.set(container.name, container.image);
  }
  const containers: ContainerMetadata[] = [];
  for (const list of [pod.status?.containerStatuses, pod.status?.initContainerStatuses, pod.status?.ephemeralContainerStatuses]) {
    for (const status of list ?? []) {
      if (!status.containerID) continue;
      containers.push({ id: stripRuntimePrefix(status.containerID), name: status.name, image: status.image || specImages.get(status.name) || '' });
    }
  }
  return containers;
}

/** PodMetadata of a Pod object; null for an object without uid, name or namespace. */
export function podMetadataFromPod(pod: PodLike, owners: OwnerLookup, options: PodMetadataOptions = {}): PodMetadata | null {
  const { maxAnnotationValueLength = 1024 } = options;
  const meta = pod.metadata;
  if (!meta?.uid || !meta.name || !meta.namespace) return null;
  const annotations: Record<string, string> = {};
  for (const [key, value] of Object.entries(meta.annotations ?? {})) {
    if (value.length <= maxAnnotationValueLength) annotations[key] = value;
  }
  return {
    uid: meta.uid,
    namespace: meta.namespace,
    name: meta.name,
    labels: { ...(meta.labels ?? {}) },
    annotations,
    node: pod.spec?.nodeName ?? null,
    workload: resolveWorkload(pod, owners),
    containers: containersOf(pod),
  };
}
