/**
 * Where the controller's custom resources come from, and where their status goes: the API server
 * (ClusterPolicyResources: informers on both kinds, status through the status subresource) or, outside a cluster,
 * nowhere (DisabledPolicyResources: no objects, never a complete list — so nothing in force is ever taken for an
 * orphan — and no status). An absent cluster is this implementation, not a flag checked along the way.
 */
import { createCustomObjectClient, createCustomObjectWatch, KubeApiError, type BackoffOptions, type CustomObject, type KubeConfig } from '@stinger/k8s';
import type { Logger } from '@stinger/log';
import { POLICY_KINDS, type PolicyKind } from '@stinger/policy';
import type { PolicyObjectEvents } from './policy-controller.ts';
import { POLICY_RESOURCE_TYPES } from './policy-resources.ts';
import type { TracingPolicyStatus } from './policy-status.ts';
import type { PolicyObject } from './reconcile.ts';

export interface PolicyResources {
  /** 'cluster': custom resources on an API server; 'disabled': outside a cluster. */
  readonly mode: 'cluster' | 'disabled';
  /** Starts delivering objects to `events`; `events.listed` follows the first complete list of both kinds. */
  start(events: PolicyObjectEvents): Promise<void>;
  /** True once both kinds were listed; false after `timeoutMs`. */
  waitForSync(timeoutMs: number): Promise<boolean>;
  /** Whether both kinds have been listed once, now (the policy-controller's readiness). */
  synced(): boolean;
  /** Replaces the object's `.status`; resolves quietly when the object is gone. */
  writeStatus(object: PolicyObject, status: TracingPolicyStatus): Promise<void>;
  stop(): Promise<void>;
}

export class DisabledPolicyResources implements PolicyResources {
  readonly mode = 'disabled' as const;
  async start(): Promise<void> {}
  async waitForSync(): Promise<boolean> {
    return true;
  }
  synced(): boolean {
    return true;
  }
  async writeStatus(): Promise<void> {}
  async stop(): Promise<void> {}
}

function kindOf(object: PolicyObject): PolicyKind {
  const kind = object.kind;
  if (typeof kind === 'string' && (POLICY_KINDS as readonly string[]).includes(kind)) return kind as PolicyKind;
  throw new Error(`object ${object.metadata.name} has kind ${String(kind)}, not one of ${POLICY_KINDS.join(', ')}`);
}

export interface ClusterPolicyResourcesOptions {
  readonly kubeConfig: KubeConfig;
  readonly logger: Logger;
  readonly backoff?: BackoffOptions;
}

export function createClusterPolicyResources(options: ClusterPolicyResourcesOptions): PolicyResources {
  const { kubeConfig, logger } = options;
  let events: PolicyObjectEvents | null = null;
  const watch = createCustomObjectWatch({
    kubeConfig,
    logger,
    types: Object.values(POLICY_RESOURCE_TYPES),
    ...(options.backoff ? { backoff: options.backoff } : {}),
    onEvent: (event) => {
      const object = event.object as CustomObject & PolicyObject;
      if (event.type === 'upsert') events?.upsert(object);
      else events?.remove(object);
    },
  });
  const client = createCustomObjectClient(kubeConfig);
  return {
    mode: 'cluster',
    async start(sink) {
      events = sink;
      await watch.start();
      // The first complete list, however long the API server (or the CRDs) take to appear.
      void watch.waitForSync(Number.POSITIVE_INFINITY).then((synced) => {
        if (synced) sink.listed(watch.list().map(({ object }) => object as CustomObject & PolicyObject));
      });
    },
    waitForSync: (timeoutMs) => watch.waitForSync(timeoutMs),
    synced: () => watch.synced(),
    async writeStatus(object, status) {
      const ref = { name: object.metadata.name, namespace: object.metadata.namespace ?? null };
      try {
        await client.replaceStatus(POLICY_RESOURCE_TYPES[kindOf(object)], ref, status);
      } catch (error) {
        if (error instanceof KubeApiError && error.status === 404) return;
        throw error;
      }
    },
    stop: () => watch.stop(),
  };
}
