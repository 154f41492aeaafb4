/**
 * A real Kubernetes API server (etcd + kube-apiserver from @stinger/dev-cluster) for one test file: started in
 * `before()`, stopped in `after()`, its state in a temp dir removed on stop. With the binaries cached it starts in a
 * few seconds. There is no controller-manager, scheduler or kubelet: the test creates every object itself (a
 * Deployment does not make its ReplicaSet, nothing sets a pod's status) and deletes pods with grace period 0.
 *
 * Requests go over node:https with the admin client certificate (no client library outside libs/k8s); unlike
 * `kubeApiRequest` the content type is chosen per request, so the status subresource can take a merge patch.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@stinger/config';
import { startDevCluster, type DevCluster } from '@stinger/dev-cluster';
import { createLogger } from '@stinger/log';

export interface KubeObject {
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly uid: string; readonly resourceVersion: string };
  readonly [field: string]: unknown;
}

export interface TestCluster {
  readonly cluster: DevCluster;
  readonly kubeconfigPath: string;
  /** POST `body` to the collection at `path`; rejects unless the server answers 201 (or 200). */
  create(path: string, body: unknown): Promise<KubeObject>;
  /** application/merge-patch+json to `path` (an object, or its `/status`). */
  mergePatch(path: string, body: unknown): Promise<KubeObject>;
  /** DELETE with gracePeriodSeconds 0: gone at once (no kubelet would confirm a graceful delete). */
  remove(path: string): Promise<void>;
  /** Stops etcd and kube-apiserver and starts them again on the same API port, data and certificates. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

interface Tls {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

function send(server: string, tls: Tls, options: { method: string; path: string; body?: unknown; contentType?: string }): Promise<{ status: number; body: string }> {
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(options.path, server),
      {
        method: options.method,
        ...tls,
        agent: false,
        timeout: 10_000,
        headers: {
          accept: 'application/json',
          ...(payload === undefined ? {} : { 'content-type': options.contentType ?? 'application/json', 'content-length': Buffer.byteLength(payload) }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.once('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.once('error', reject);
      },
    );
    req.once('timeout', () => req.destroy(new Error(`${options.method} ${options.path} timed out`)));
    req.once('error', reject);
    req.end(payload);
  });
}

export async function startTestCluster(): Promise<TestCluster> {
  const stateDir = await mkdtemp(join(tmpdir(), 'stinger-it-dev-cluster-'));
  const logger = createLogger({ name: 'dev-cluster-test', level: 'warn' });
  let cluster: DevCluster;
  try {
    cluster = await startDevCluster({ cacheDir: loadConfig().cacheDir, stateDir, logger });
  } catch (error) {
    await rm(stateDir, { recursive: true, force: true });
    throw error;
  }
  const tls: Tls = {
    ca: await readFile(cluster.certificates.caCert, 'utf8'),
    cert: await readFile(cluster.certificates.adminCert, 'utf8'),
    key: await readFile(cluster.certificates.adminKey, 'utf8'),
  };
  const expect = async (what: string, answer: Promise<{ status: number; body: string }>, ok: readonly number[]): Promise<string> => {
    const { status, body } = await answer;
    if (!ok.includes(status)) throw new Error(`${what} answered ${status}: ${body.slice(0, 500)}`);
    return body;
  };
  return {
    get cluster() {
      return cluster;
    },
    kubeconfigPath: cluster.kubeconfigPath,
    async create(path, body) {
      return JSON.parse(await expect(`POST ${path}`, send(cluster.server, tls, { method: 'POST', path, body }), [200, 201])) as KubeObject;
    },
    async mergePatch(path, body) {
      const answer = send(cluster.server, tls, { method: 'PATCH', path, body, contentType: 'application/merge-patch+json' });
      return JSON.parse(await expect(`PATCH ${path}`, answer, [200])) as KubeObject;
    },
    async remove(path) {
      const body = { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0 };
      await expect(`DELETE ${path}`, send(cluster.server, tls, { method: 'DELETE', path, body }), [200, 202]);
    },
    async restart() {
      await cluster.stop();
      cluster = await startDevCluster({ cacheDir: loadConfig().cacheDir, stateDir, logger, securePort: cluster.securePort });
    },
    async stop() {
      try {
        await cluster.stop();
      } finally {
        await rm(stateDir, { recursive: true, force: true });
      }
    },
  };
}

/** `containerd://`-less 64-hex container id, unique per call. */
export function randomContainerId(): string {
  return randomBytes(32).toString('hex');
}

export interface PodSpecOptions {
  readonly namespace: string;
  readonly name: string;
  readonly nodeName: string;
  readonly containers: ReadonlyArray<{ readonly name: string; readonly image: string }>;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly owner?: { readonly apiVersion: string; readonly kind: string; readonly name: string; readonly uid: string };
}

/** A Pod object as a controller would create it (bound to `nodeName`: nothing schedules it here). */
export function podObject(options: PodSpecOptions): unknown {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: options.name,
      namespace: options.namespace,
      labels: options.labels ?? {},
      annotations: options.annotations ?? {},
      ...(options.owner ? { ownerReferences: [{ ...options.owner, controller: true, blockOwnerDeletion: true }] } : {}),
    },
    spec: { nodeName: options.nodeName, containers: options.containers.map((c) => ({ name: c.name, image: c.image })) },
  };
}

/** What kubelet would report once the containers run: phase Running and a containerd id for each container. */
export function runningStatus(containers: ReadonlyArray<{ readonly name: string; readonly image: string; readonly id: string }>): unknown {
  const startedAt = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  return {
    status: {
      phase: 'Running',
      containerStatuses: containers.map((c) => ({
        name: c.name,
        image: c.image,
        imageID: '',
        containerID: `containerd://${c.id}`,
        ready: true,
        restartCount: 0,
        started: true,
        state: { running: { startedAt } },
      })),
    },
  };
}
