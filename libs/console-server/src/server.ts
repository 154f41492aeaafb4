/**
 * The console's HTTP server (node:http): the JSON API v1 (libs/console-api) over the store, the live stream, the
 * page's files, and the probes.
 *
 * Contract:
 * - GET /api/v1/<endpoint>: the endpoint's JSON (endpoints.ts, run by `queries`); a bad parameter 400 `{error}` naming
 *   it; an unknown endpoint 404; a query that fails 500 (logged, the server keeps serving). Other methods 405.
 * - With a token configured, every /api request must carry `Authorization: Bearer <token>` (compared in constant
 *   time), else 401. The page and the probes are served without it: the page holds no data and passes the token on.
 * - GET /healthz: 200 while the process serves. GET /readyz: 200 when `readiness()` says the consumers are connected
 *   and caught up, else 503, with its detail.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { API_PATHS, ApiParamError, parseFilters, type ErrorBody } from '@stinger/console-api';
import { namespaced, type Logger } from '@stinger/log';
import { parseHostPort } from '@stinger/metrics';
import { createLiveHub, type LiveMessage } from './live-hub.ts';
import type { QueryRunner } from './query-pool.ts';
import { serveStatic } from './static-files.ts';

export interface Readiness {
  readonly ready: boolean;
  readonly detail: Readonly<Record<string, unknown>>;
}

export interface ConsoleServerOptions {
  /** Where the endpoints' queries run (query-pool.ts). */
  readonly queries: QueryRunner;
  /** host:port (port 0: any free port). */
  readonly address: string;
  /** Bearer token every /api request must carry; null: none asked (loopback only, enforced by the config). */
  readonly token: string | null;
  /** Directory of the built front end. */
  readonly webDir: string;
  readonly logger: Logger;
  readonly readiness: () => Readiness;
  /** The clock the default window ends at; replaced in tests. */
  readonly now?: () => number;
  readonly pingIntervalMs?: number;
}

export interface ConsoleServer {
  /** e.g. http://127.0.0.1:7070 */
  readonly url: string;
  readonly port: number;
  /** Sends a row the store just stored to the stream's subscribers. */
  publish(message: LiveMessage): void;
  stop(): Promise<void>;
}

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' } as const;

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, JSON_HEADERS);
  response.end(JSON.stringify(body));
}

const sendError = (response: ServerResponse, status: number, error: string): void => sendJson(response, status, { error } satisfies ErrorBody);

/** Whether `header` is `Bearer <token>`: digests compared in constant time, so neither content nor length leaks. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const presented = /^Bearer (.+)$/i.exec(header ?? '')?.[1] ?? '';
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(presented), digest(token)) && presented !== '';
}

export async function startConsoleServer(options: ConsoleServerOptions): Promise<ConsoleServer> {
  const { queries, token, webDir, readiness } = options;
  const logger = namespaced(options.logger, 'Http');
  const now = options.now ?? Date.now;
  const hub = createLiveHub({ logger: options.logger, ...(options.pingIntervalMs !== undefined ? { pingIntervalMs: options.pingIntervalMs } : {}) });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://console');
    const { pathname, searchParams } = url;
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('allow', 'GET, HEAD');
      sendError(response, 405, `${request.method ?? '?'}: only GET is served`);
      return;
    }
    if (pathname === '/healthz') {
      sendJson(response, 200, { status: 'ok' });
      return;
    }
    if (pathname === '/readyz') {
      const state = readiness();
      sendJson(response, state.ready ? 200 : 503, { ready: state.ready, ...state.detail });
      return;
    }
    if (pathname === '/api' || pathname.startsWith('/api/')) {
      if (token !== null && !bearerMatches(request.headers.authorization, token)) {
        response.setHeader('www-authenticate', 'Bearer realm="stinger-console"');
        sendError(response, 401, 'this console requires Authorization: Bearer <token>');
        return;
      }
      if (pathname === API_PATHS.stream) {
        hub.subscribe(response, parseFilters(searchParams, now()));
        return;
      }
      const answer = await queries.answer({ pathname, search: url.search, now: now() });
      if (answer.status === 200) {
        response.writeHead(200, JSON_HEADERS);
        response.end(answer.json);
      } else {
        sendError(response, answer.status, answer.error);
      }
      return;
    }
    await serveStatic(response, webDir, pathname);
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (error instanceof ApiParamError) {
        sendError(response, 400, error.message);
        return;
      }
      logger.error({ err: error, url: request.url }, 'request failed');
      if (!response.headersSent) sendError(response, 500, 'internal error (see the console log)');
      else response.end();
    });
  });
  const { host, port } = parseHostPort(options.address);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => reject(new Error(`cannot serve the console on ${options.address}: ${error.message}`, { cause: error })));
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${bound}`,
    port: bound,
    publish: (message) => hub.publish(message),
    async stop() {
      hub.close();
      await queries.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
