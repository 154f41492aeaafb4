/**
 * The /metrics of a service: Node.js's process metrics (CPU, memory, event-loop lag, handles) and one gauge per health
 * check, so an alert can fire on a service that has been unready for long, not only on a restart. A service with
 * metrics of its own registers them on `registry` (the enricher's createEnrichmentMetrics).
 */
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { evaluateHealth, type HealthChecks } from './health.ts';
import type { Scrape } from './metrics-server.ts';

export interface ProcessMetrics {
  readonly registry: Registry;
  /** For serveMetrics: the health gauges are set from `health` at each scrape. */
  scrape(): Promise<Scrape>;
}

export function createProcessMetrics(health: HealthChecks): ProcessMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const ready = new Gauge({ name: 'stinger_health_check_ready', help: '1 while the health check is ready (/readyz)', labelNames: ['check'] as const, registers: [registry] });
  const live = new Gauge({ name: 'stinger_health_check_live', help: '1 while the health check is live (/healthz)', labelNames: ['check'] as const, registers: [registry] });
  return {
    registry,
    async scrape() {
      for (const [check, result] of Object.entries(evaluateHealth(health).checks)) {
        ready.set({ check }, result.ready ? 1 : 0);
        live.set({ check }, result.live ? 1 : 0);
      }
      return { body: await registry.metrics(), contentType: registry.contentType };
    },
  };
}
