/**
 * The one HTTP endpoint of each Stinger service but the console (which serves its own): GET/HEAD /metrics (the
 * exposition text the caller's `scrape` returns), /healthz (200 while every health check is live, else 503) and
 * /readyz (200 while every check is ready, else 503), both with the checks' JSON; 404 elsewhere, 405 for other
 * methods. Without checks both probes answer 200 while the process serves. No authentication, so binding beyond
 * loopback is logged.
 *
 * Services start it first, before connecting to anything, so probes answer (503) while the service starts.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { namespaced, type Logger } from '@stinger/log';
import { evaluateHealth, type HealthChecks } from './health.ts';
import { isLoopbackHost, parseHostPort as parseAddressText, type HostPort } from '@stinger/net-address';
import { StingerError } from '@stinger/retry';

export interface Scrape {
  readonly body: string;
  readonly contentType: string;
}

export interface ServeMetricsOptions {
  /** `host:port` (port 0: any free port). */
  readonly address: string;
  readonly logger: Logger;
  /** Produces the exposition text at each scrape (e.g. `registry.metrics()` after pulling gauges). */
  readonly scrape: () => Promise<Scrape>;
  /** Judged at every /healthz and /readyz; none: both answer 200 while the process serves. */
  readonly health?: HealthChecks;
}

export interface MetricsServer {
  readonly port: number;
  stop(): Promise<void>;
}

/** A listen address that is not host:port. */
export class MetricsAddressError extends StingerError {}

/** `address` as host and port; a MetricsAddressError when it is not host:port. */
export function parseHostPort(address: string): HostPort {
  const parsed = parseAddressText(address);
  if (parsed === null) throw new MetricsAddressError(`"${address}" is not host:port`);
  return parsed;
}

export async function serveMetrics(options: ServeMetricsOptions): Promise<MetricsServer> {
  const { address, scrape, health = {} } = options;
  const logger = namespaced(options.logger, 'Metrics');
  const { host, port } = parseHostPort(address);

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = (request.url ?? '/').split('?')[0];
    if (path !== '/metrics' && path !== '/healthz' && path !== '/readyz') {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
      return;
    }
    if (path === '/healthz' || path === '/readyz') {
      const report = evaluateHealth(health);
      const ok = path === '/healthz' ? report.live : report.ready;
      const body = JSON.stringify(path === '/healthz' ? { live: report.live, checks: report.checks } : { ready: report.ready, checks: report.checks });
      response.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' }).end(request.method === 'HEAD' ? undefined : body);
      return;
    }
    try {
      const { body, contentType } = await scrape();
      response.writeHead(200, { 'content-type': contentType }).end(request.method === 'HEAD' ? undefined : body);
    } catch (error) {
      logger.error({ err: error }, 'metrics scrape failed');
      response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('metrics unavailable\n');
    }
  }

  const server = createServer((request, response) => void handle(request, response));
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => reject(new MetricsAddressError(`cannot serve metrics on ${address}: ${error.message}`, { cause: error })));
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  if (!isLoopbackHost(host)) logger.info({ address }, 'metrics served beyond loopback');
  logger.info({ address, port: bound }, 'metrics listening');
  return {
    port: bound,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
