// @stinger/k8s: the one home of @kubernetes/client-node. Pod informers and the container id → pod index
// (PodIndex, or DisabledPodIndex outside a cluster), custom resources (watch, apply, status), kubeconfig loading,
// and the pure metadata pieces.
export { createPodIndex } from './pod-index.ts';
export type { PodIndex, PodIndexStats, CreatePodIndexOptions } from './pod-index.ts';
export { DisabledPodIndex, NO_CLUSTER_REASON } from './disabled-pod-index.ts';
export { loadKubeConfig } from './kubeconfig.ts';
export type { KubeConfig } from '@kubernetes/client-node';
export { PodStore } from './pod-store.ts';
export type { PodLookup, PodStoreOptions, PodStoreStats, PodStoreSnapshot } from './pod-store.ts';
export { podMetadataFromPod, resolveWorkload, stripRuntimePrefix } from './pod-metadata.ts';
export type {
  PodMetadata,
  ContainerMetadata,
  WorkloadRef,
  PodLike,
  OwnedObjectLike,
  OwnerReferenceLike,
  OwnerLookup,
  IntermediateOwnerKind,
  PodMetadataOptions,
} from './pod-metadata.ts';
export { TombstoneCache } from './tombstone-cache.ts';
export type { TombstoneCacheOptions } from './tombstone-cache.ts';
export { backoffDelay } from '@stinger/retry';
export type { BackoffOptions } from '@stinger/retry';
export { createCustomObjectClient, createCustomObjectWatch, KubeApiError, toKubeApiError } from './custom-objects.ts';
export type {
  ApplyOptions,
  CreateCustomObjectWatchOptions,
  CustomObject,
  CustomObjectClient,
  CustomObjectEvent,
  CustomObjectMetadata,
  CustomObjectWatch,
  CustomResourceType,
  KubeApiCause,
  ObjectRef,
} from './custom-objects.ts';
export { InformerSupervisor } from './informer-supervisor.ts';
export { createNodePodWatch, nodePodOf } from './node-pod-watch.ts';
export type { NodePodWatch, NodePodInfo, CreateNodePodWatchOptions } from './node-pod-watch.ts';
