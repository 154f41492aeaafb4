/**
 * Custom resources through @kubernetes/client-node: a watch (list+watch informers, restarted with back-off by
 * InformerSupervisor) over one or more custom resource types, and a small client (server-side apply, get, list,
 * delete, status replace) whose failures are one error type carrying the API server's per-field causes.
 *
 * Objects are the API server's JSON as is (no client-side model): callers validate what they read.
 */
import { ApiException, CustomObjectsApi, ListWatch, PatchStrategy, setHeaderOptions, Watch, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import { namespaced, type Logger } from '@stinger/log';
import type { BackoffOptions } from '@stinger/retry';
import { InformerSupervisor } from './informer-supervisor.ts';

/** Where a custom resource type is served. */
export interface CustomResourceType {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly kind: string;
  readonly namespaced: boolean;
}

export interface CustomObjectMetadata {
  readonly name: string;
  readonly namespace?: string;
  readonly uid?: string;
  readonly generation?: number;
  readonly resourceVersion?: string;
  readonly creationTimestamp?: string;
  readonly [field: string]: unknown;
}

export interface CustomObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: CustomObjectMetadata;
  readonly spec?: unknown;
  readonly status?: unknown;
  readonly [field: string]: unknown;
}

/** An object's name, and its namespace for a namespaced type. */
export interface ObjectRef {
  readonly name: string;
  readonly namespace?: string | null;
}

// ---------------------------------------------------------------------------------------------------------------
// errors

/** One problem the API server named (a Status cause), e.g. `spec.rules[0].action: Unsupported value: "x"`. */
export interface KubeApiCause {
  /** Field path, '' when the server named none. */
  readonly field: string;
  readonly message: string;
}

/** A request the API server answered with an error (or that did not reach it: status 0). */
export class KubeApiError extends Error {
  /** HTTP status; 0 when there was no answer. */
  readonly status: number;
  /** The Status reason (NotFound, Invalid, BadRequest, Conflict, ...), '' when unknown. */
  readonly reason: string;
  readonly causes: readonly KubeApiCause[];
  /** Worth retrying: no answer, a timeout, a conflict, throttling, or a server-side failure. */
  readonly retriable: boolean;

  constructor(message: string, options: { status: number; reason: string; causes: readonly KubeApiCause[]; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.name = 'KubeApiError';
    this.status = options.status;
    this.reason = options.reason;
    this.causes = options.causes;
    this.retriable = options.status === 0 || options.status === 409 || options.status === 429 || options.status >= 500;
  }
}

interface StatusBody {
  readonly message?: string;
  readonly reason?: string;
  readonly details?: { readonly causes?: ReadonlyArray<{ readonly field?: string; readonly message?: string }> };
}

/**
 * The API server's answer as a KubeApiError. A strict-decoding failure (400, an unknown field) names its fields only
 * in the message (`unknown field "spec.x"`), so those become causes too.
 */
export function toKubeApiError(error: unknown, what: string): KubeApiError {
  if (error instanceof KubeApiError) return error;
  if (!(error instanceof ApiException)) return new KubeApiError(`${what}: ${(error as Error).message ?? String(error)}`, { status: 0, reason: '', causes: [], cause: error });
  let body: StatusBody = {};
  try {
    body = (typeof error.body === 'string' ? JSON.parse(error.body) : error.body) as StatusBody;
  } catch {
    body = { message: String(error.body) };
  }
  const message = body.message ?? `HTTP ${error.code}`;
  let causes: KubeApiCause[] = (body.details?.causes ?? []).map((c) => ({ field: c.field ?? '', message: c.message ?? '' }));
  if (causes.length === 0) {
    const unknown = [...message.matchAll(/unknown field "([^"]+)"/g)].map((m) => ({ field: m[1] ?? '', message: 'unknown field' }));
    const duplicate = [...message.matchAll(/duplicate field "([^"]+)"/g)].map((m) => ({ field: m[1] ?? '', message: 'duplicate field' }));
    causes = [...unknown, ...duplicate];
  }
  return new KubeApiError(`${what}: ${message}`, { status: error.code, reason: body.reason ?? '', causes, cause: error });
}

// ---------------------------------------------------------------------------------------------------------------
// client

export interface ApplyOptions {
  readonly fieldManager: string;
  readonly dryRun?: boolean;
}

export interface CustomObjectClient {
  /**
   * Server-side apply (`fieldManager` owns the fields it sets, taking over conflicting ones) with strict field
   * validation: an unknown field is an error, not silently pruned. Creates or updates; `dryRun` runs admission
   * (schema, defaults) and stores nothing.
   */
  apply(type: CustomResourceType, object: CustomObject, options: ApplyOptions): Promise<CustomObject>;
  /** Null when there is no such object. */
  get(type: CustomResourceType, ref: ObjectRef): Promise<CustomObject | null>;
  /** Every object of the type (all namespaces for a namespaced type). */
  list(type: CustomResourceType): Promise<CustomObject[]>;
  /** False when there was no such object. */
  delete(type: CustomResourceType, ref: ObjectRef): Promise<boolean>;
  /** Replaces `.status` through the status subresource (a JSON patch, so fields left out are removed). */
  replaceStatus(type: CustomResourceType, ref: ObjectRef, status: unknown): Promise<void>;
}

function where(type: CustomResourceType, ref: ObjectRef): string {
  return `${type.kind} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`;
}

function namespaceOf(type: CustomResourceType, ref: ObjectRef): string {
  if (!type.namespaced) return '';
  if (!ref.namespace) throw new KubeApiError(`${where(type, ref)}: a ${type.kind} needs a namespace`, { status: 400, reason: 'BadRequest', causes: [{ field: 'metadata.namespace', message: 'required' }] });
  return ref.namespace;
}

export function createCustomObjectClient(kubeConfig: KubeConfig): CustomObjectClient {
  const api = kubeConfig.makeApiClient(CustomObjectsApi);
  const call = async <T>(what: string, request: () => Promise<T>): Promise<T> => {
    try {
      return await request();
    } catch (error) {
      throw toKubeApiError(error, what);
    }
  };
  return {
    async apply(type, object, { fieldManager, dryRun = false }) {
      const ref = { name: object.metadata.name, namespace: object.metadata.namespace ?? null };
      const { group, version, plural } = type;
      const options = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);
      const common = { group, version, plural, name: ref.name, body: object, fieldManager, force: true, fieldValidation: 'Strict', ...(dryRun ? { dryRun: 'All' } : {}) };
      return call(`apply ${where(type, ref)}`, () =>
        type.namespaced
          ? api.patchNamespacedCustomObject({ ...common, namespace: namespaceOf(type, ref) }, options)
          : api.patchClusterCustomObject(common, options),
      ) as Promise<CustomObject>;
    },
    async get(type, ref) {
      const { group, version, plural } = type;
      try {
        return (await call(`get ${where(type, ref)}`, () =>
          type.namespaced
            ? api.getNamespacedCustomObject({ group, version, plural, name: ref.name, namespace: namespaceOf(type, ref) })
            : api.getClusterCustomObject({ group, version, plural, name: ref.name }),
        )) as CustomObject;
      } catch (error) {
        if (error instanceof KubeApiError && error.status === 404) return null;
        throw error;
      }
    },
    async list(type) {
      const { group, version, plural } = type;
      const list = (await call(`list ${type.plural}`, () =>
        type.namespaced ? api.listCustomObjectForAllNamespaces({ group, version, plural }) : api.listClusterCustomObject({ group, version, plural }),
      )) as { items?: CustomObject[] };
      return list.items ?? [];
    },
    async delete(type, ref) {
      const { group, version, plural } = type;
      try {
        await call(`delete ${where(type, ref)}`, () =>
          type.namespaced
            ? api.deleteNamespacedCustomObject({ group, version, plural, name: ref.name, namespace: namespaceOf(type, ref) })
            : api.deleteClusterCustomObject({ group, version, plural, name: ref.name }),
        );
        return true;
      } catch (error) {
        if (error instanceof KubeApiError && error.status === 404) return false;
        throw error;
      }
    },
    async replaceStatus(type, ref, status) {
      const { group, version, plural } = type;
      // `add` on an existing member replaces it (RFC 6902), and creates /status when there is none yet.
      const body = [{ op: 'add', path: '/status', value: status }];
      const options = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);
      await call(`write the status of ${where(type, ref)}`, () =>
        type.namespaced
          ? api.patchNamespacedCustomObjectStatus({ group, version, plural, name: ref.name, namespace: namespaceOf(type, ref), body }, options)
          : api.patchClusterCustomObjectStatus({ group, version, plural, name: ref.name, body }, options),
      );
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// watch

export interface CustomObjectEvent {
  /** upsert: added, or changed (spec, metadata or status); delete: gone (also when a relist no longer shows it). */
  readonly type: 'upsert' | 'delete';
  readonly resource: CustomResourceType;
  readonly object: CustomObject;
}

export interface CustomObjectWatch {
  /** Starts the informers and returns at once; events flow to `onEvent` from the first list on. */
  start(): Promise<void>;
  /** True once every type has been listed once; false after `timeoutMs` (or when stopped). */
  waitForSync(timeoutMs: number): Promise<boolean>;
  /** Whether every type has been listed once (a readiness probe's question; waitForSync waits for it). */
  synced(): boolean;
  /** Every object of every watched type in the informers' caches, with its type. */
  list(): Array<{ readonly resource: CustomResourceType; readonly object: CustomObject }>;
  stop(): Promise<void>;
}

export interface CreateCustomObjectWatchOptions {
  readonly kubeConfig: KubeConfig;
  readonly types: readonly CustomResourceType[];
  readonly logger: Logger;
  /** Called in the order the API server's events arrive; must not throw. */
  readonly onEvent: (event: CustomObjectEvent) => void;
  readonly backoff?: BackoffOptions;
}

/**
 * List+watch informers for `types`. A type whose resource is not served (its CRD not installed yet) is retried with
 * back-off like any failed watch, so installing the CRD later is picked up without a restart.
 */
export function createCustomObjectWatch(options: CreateCustomObjectWatchOptions): CustomObjectWatch {
  const { kubeConfig, types, onEvent } = options;
  const logger = namespaced(options.logger, 'CustomObjectWatch');
  const api = kubeConfig.makeApiClient(CustomObjectsApi);
  const supervisor = new InformerSupervisor(logger, options.backoff);
  let stopped = false;
  const informers = types.map((resource) => {
    const { group, version, plural } = resource;
    const list = () =>
      (resource.namespaced ? api.listCustomObjectForAllNamespaces({ group, version, plural }) : api.listClusterCustomObject({ group, version, plural })) as Promise<
        KubernetesListObject<KubernetesObject>
      >;
    const informer = new ListWatch<KubernetesObject>(`/apis/${group}/${version}/${plural}`, new Watch(kubeConfig), list, false);
    const emit = (type: CustomObjectEvent['type']) => (object: KubernetesObject) => onEvent({ type, resource, object: object as CustomObject });
    informer.on('add', emit('upsert'));
    informer.on('update', emit('upsert'));
    informer.on('delete', emit('delete'));
    return { resource, informer };
  });
  const synced = () => informers.every(({ informer }) => informer.latestResourceVersion() !== '');
  return {
    async start() {
      for (const { resource, informer } of informers) supervisor.supervise(resource.plural, informer);
      logger.info({ server: kubeConfig.getCurrentCluster()?.server, types: types.map((t) => t.plural) }, 'custom object informers started');
    },
    async waitForSync(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (!synced()) {
        if (Date.now() >= deadline || stopped) return false;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return true;
    },
    synced,
    list: () => informers.flatMap(({ resource, informer }) => informer.list().map((object) => ({ resource, object: object as CustomObject }))),
    async stop() {
      stopped = true;
      supervisor.stop();
      await Promise.all(informers.map(({ informer }) => informer.stop()));
    },
  };
}
