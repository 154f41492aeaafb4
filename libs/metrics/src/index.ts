export { serveMetrics, parseHostPort, MetricsAddressError } from './metrics-server.ts';
export { isLoopbackHost } from '@stinger/net-address';
export type { Scrape, ServeMetricsOptions, MetricsServer } from './metrics-server.ts';
export { deferredCheck, evaluateHealth } from './health.ts';
export type { DeferredCheck, HealthCheck, HealthChecks, HealthReport } from './health.ts';
export { createProcessMetrics } from './process-metrics.ts';
export type { ProcessMetrics } from './process-metrics.ts';
