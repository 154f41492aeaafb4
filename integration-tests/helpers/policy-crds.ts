/**
 * The TracingPolicy CRDs in a test's API server: `installPolicyCrds` creates them from the committed k8s/crds/*.yaml
 * (the files users apply, not a fresh rendering) and waits until the API server serves them; `kubeRequest` sends one
 * request with the admin certificate and any status, for tests that expect a refusal or read objects back.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import type { TestCluster } from './dev-cluster.ts';

const CRDS_DIR = fileURLToPath(new URL('../../k8s/crds/', import.meta.url));

export interface KubeRequest {
  readonly method?: string;
  readonly path: string;
  /** Sent as JSON. */
  readonly body?: unknown;
  /** Default application/json (a Table, e.g., is `application/json;as=Table;v=v1;g=meta.k8s.io`). */
  readonly accept?: string;
}

/** One request as the cluster admin; resolves with whatever status the server answers. */
export function kubeRequest(kube: TestCluster, options: KubeRequest): Promise<{ readonly status: number; readonly body: string }> {
  const { certificates, server } = kube.cluster;
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(options.path, server),
      {
        method: options.method ?? 'GET',
        ca: readFileSync(certificates.caCert, 'utf8'),
        cert: readFileSync(certificates.adminCert, 'utf8'),
        key: readFileSync(certificates.adminKey, 'utf8'),
        agent: false,
        timeout: 10_000,
        headers: {
          accept: options.accept ?? 'application/json',
          ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.once('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.once('error', reject);
      },
    );
    req.once('timeout', () => req.destroy(new Error(`${options.method ?? 'GET'} ${options.path} timed out`)));
    req.once('error', reject);
    req.end(payload);
  });
}

/** GET `path` as JSON; null on 404. */
export async function kubeGet<T = Record<string, unknown>>(kube: TestCluster, path: string): Promise<T | null> {
  const answer = await kubeRequest(kube, { path });
  if (answer.status === 404) return null;
  if (answer.status !== 200) throw new Error(`GET ${path} answered ${answer.status}: ${answer.body.slice(0, 500)}`);
  return JSON.parse(answer.body) as T;
}

/** The CRD objects of k8s/crds/. */
export function policyCrdObjects(): Array<{ metadata: { name: string }; spec: { group: string; names: { plural: string } } }> {
  return readdirSync(CRDS_DIR)
    .filter((name) => name.endsWith('.yaml'))
    .sort()
    .map((name) => parse(readFileSync(join(CRDS_DIR, name), 'utf8')));
}

/** Creates every CRD of k8s/crds/ and waits (up to 30 s) until each is Established and its resource is served. */
export async function installPolicyCrds(kube: TestCluster): Promise<void> {
  const crds = policyCrdObjects();
  for (const crd of crds) await kube.create('/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd);
  const deadline = Date.now() + 30_000;
  for (const crd of crds) {
    for (;;) {
      const current = await kubeGet<{ status?: { conditions?: Array<{ type: string; status: string }> } }>(
        kube,
        `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`,
      );
      const established = current?.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ?? false;
      const served = established && (await kubeRequest(kube, { path: `/apis/${crd.spec.group}/v1alpha1/${crd.spec.names.plural}` })).status === 200;
      if (served) break;
      if (Date.now() > deadline) throw new Error(`CRD ${crd.metadata.name} not established after 30 s`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
