/**
 * One HTTPS request to the dev cluster's API server, authenticated with a client certificate and verified against the
 * cluster's CA: enough for readiness probes and tests without kubectl or a client library.
 */
import { request } from 'node:https';

export interface KubeApiRequestOptions {
  /** `https://127.0.0.1:<port>` */
  readonly server: string;
  readonly path: string;
  readonly method?: string;
  /** Sent as JSON when given. */
  readonly body?: unknown;
  readonly caCertPem: string;
  /** The client certificate and key; without them the request is anonymous. */
  readonly clientCertPem?: string;
  readonly clientKeyPem?: string;
  readonly timeoutMs?: number;
}

export interface KubeApiResponse {
  readonly status: number;
  readonly body: string;
}

/** Resolves with any HTTP status (callers decide what counts as success); rejects on connection or TLS failure or timeout. */
export function kubeApiRequest(options: KubeApiRequestOptions): Promise<KubeApiResponse> {
  const { server, path, method = 'GET', body, caCertPem, clientCertPem, clientKeyPem, timeoutMs = 10_000 } = options;
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, server),
      {
        method,
        ca: caCertPem,
        ...(clientCertPem === undefined || clientKeyPem === undefined ? {} : { cert: clientCertPem, key: clientKeyPem }),
        timeout: timeoutMs,
        agent: false,
        headers: {
          accept: 'application/json',
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
    req.once('timeout', () => req.destroy(new Error(`${method} ${path} timed out after ${timeoutMs} ms`)));
    req.once('error', reject);
    req.end(payload);
  });
}
