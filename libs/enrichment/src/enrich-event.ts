/**
 * RawEvent → Event: the container identity of the process (from the agent's container_id or its
 * cgroup path), and the pod behind it from a PodLookup. Pure: the lookup is passed in.
 *
 * Outcome (Event.enrichment):
 *  - host: the process is in no container and no pod cgroup; pod null.
 *  - enriched: the pod was found (by container id, else by the pod uid kubelet put in the cgroup path);
 *    pod.container is null when the pod is known but not (yet) the container.
 *  - not_enriched: a container or pod process whose pod is unknown; `reason` says why
 *    ('no cluster' outside a cluster, 'pod-not-found', 'container-without-pod' for a container that is
 *    not kubelet's). process.container_id is filled in either way.
 */
import type { Event, Pod, RawEvent } from '@stinger/events';
import type { PodLookup, PodMetadata } from '@stinger/k8s';
import { containerIdFromCgroupPath, isKubernetesPodCgroup, podUidFromCgroupPath } from '@stinger/process-cache';

export const NOT_ENRICHED_REASONS = {
  podNotFound: 'pod-not-found',
  containerWithoutPod: 'container-without-pod',
} as const;

export interface ContainerIdentity {
  readonly containerId: string | null;
  readonly podUid: string | null;
  /** kubelet made the cgroup: the process belongs to a pod (worth waiting for its metadata). */
  readonly inPod: boolean;
}

export function containerIdentityOf(raw: RawEvent): ContainerIdentity {
  const path = raw.process.cgroup_path;
  const podUid = podUidFromCgroupPath(path);
  return {
    containerId: raw.process.container_id ?? containerIdFromCgroupPath(path),
    podUid,
    inPod: podUid !== null || isKubernetesPodCgroup(path),
  };
}

export function isHostIdentity(identity: ContainerIdentity): boolean {
  return identity.containerId === null && !identity.inPod;
}

/** The pod for an identity: by container id first, then by the pod uid of the cgroup path. */
export function lookupPod(identity: ContainerIdentity, lookup: PodLookup): PodMetadata | null {
  const byContainer = identity.containerId === null ? null : lookup.byContainerId(identity.containerId);
  if (byContainer) return byContainer;
  return identity.podUid === null ? null : lookup.byPodUid(identity.podUid);
}

export function toEventPod(meta: PodMetadata, containerId: string | null): Pod {
  const container = containerId === null ? undefined : meta.containers.find((c) => c.id === containerId);
  // The schema's contract: workload and workload_kind are null for a bare pod.
  const bare = meta.workload.kind === 'Pod';
  return {
    namespace: meta.namespace,
    name: meta.name,
    uid: meta.uid,
    labels: { ...meta.labels },
    annotations: { ...meta.annotations },
    workload: bare ? null : meta.workload.name,
    workload_kind: bare ? null : meta.workload.kind,
    container: container ? { id: container.id, name: container.name, image: container.image } : null,
  };
}

export interface EnrichOptions {
  /** The not_enriched reason when the lookup cannot know any pod (DisabledPodIndex: 'no cluster'). */
  readonly unavailableReason?: string | null;
}

export function enrichEvent(raw: RawEvent, lookup: PodLookup, options: EnrichOptions = {}): Event {
  const identity = containerIdentityOf(raw);
  const process = identity.containerId === raw.process.container_id ? raw.process : { ...raw.process, container_id: identity.containerId };
  const base = { ...raw, process };
  if (isHostIdentity(identity)) return { ...base, pod: null, enrichment: { status: 'host', reason: null } };
  const meta = options.unavailableReason ? null : lookupPod(identity, lookup);
  if (meta) return { ...base, pod: toEventPod(meta, identity.containerId), enrichment: { status: 'enriched', reason: null } };
  const reason = options.unavailableReason || (identity.inPod ? NOT_ENRICHED_REASONS.podNotFound : NOT_ENRICHED_REASONS.containerWithoutPod);
  return { ...base, pod: null, enrichment: { status: 'not_enriched', reason } };
}
