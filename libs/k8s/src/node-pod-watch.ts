/**
 * NodePodWatch: the pods the API server puts on one node (fieldSelector spec.nodeName=<node>), for the agent's kernel
 * pod scopes: uid, namespace, name and labels of each, kept current by a list+watch informer that is restarted with
 * back-off when it fails (InformerSupervisor).
 *
 * Contract: `start()` returns at once; `pods()` answers from what is known (empty until the first list);
 * `onChange` listeners run after every add, update and delete; `synced()` says whether the first list came back.
 * Needs get/list/watch on pods for the caller's identity (the agent's ServiceAccount: k8s/base).
 */
import { CoreV1Api, ListWatch, Watch, type KubeConfig, type KubernetesObject, type V1Pod } from '@kubernetes/client-node';
import { namespaced, type Logger } from '@stinger/log';
import type { BackoffOptions } from '@stinger/retry';
import { InformerSupervisor } from './informer-supervisor.ts';
import type { PodLike } from './pod-metadata.ts';

/** What the pod scopes need of a pod. */
export interface NodePodInfo {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface NodePodWatch {
  start(): Promise<void>;
  pods(): NodePodInfo[];
  synced(): boolean;
  onChange(listener: () => void): () => void;
  stop(): Promise<void>;
}

export interface CreateNodePodWatchOptions {
  readonly kubeConfig: KubeConfig;
  readonly nodeName: string;
  readonly logger: Logger;
  readonly backoff?: BackoffOptions;
}

/** The scope-relevant part of a pod object; null for one without uid, name or namespace. Pure. */
export function nodePodOf(pod: PodLike): NodePodInfo | null {
  const { uid, name, namespace, labels } = pod.metadata ?? {};
  if (!uid || !name || !namespace) return null;
  return { uid, namespace, name, labels: { ...labels } };
}

export function createNodePodWatch(options: CreateNodePodWatchOptions): NodePodWatch {
  const { kubeConfig, nodeName } = options;
  const logger = namespaced(options.logger, 'NodePodWatch');
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const fieldSelector = `spec.nodeName=${nodeName}`;
  const informer = new ListWatch<V1Pod>('/api/v1/pods', new Watch(kubeConfig), () => core.listPodForAllNamespaces({ fieldSelector }), false, undefined, fieldSelector);
  const supervisor = new InformerSupervisor(logger, options.backoff);
  const listeners = new Set<() => void>();
  const changed = (): void => {
    for (const listener of listeners) listener();
  };
  informer.on('add', changed);
  informer.on('update', changed);
  informer.on('delete', changed);
  informer.on('connect', changed); // a relist may have replaced the cache wholesale
  return {
    async start() {
      supervisor.supervise('node-pods', informer as unknown as ListWatch<KubernetesObject>);
      logger.info({ server: kubeConfig.getCurrentCluster()?.server, nodeName }, 'watching the node\'s pods');
    },
    pods: () => informer.list().map(nodePodOf).filter((pod): pod is NodePodInfo => pod !== null),
    synced: () => informer.latestResourceVersion() !== '',
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async stop() {
      supervisor.stop();
      await informer.stop();
    },
  };
}
