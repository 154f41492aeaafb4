export { serveMetrics, parseHostPort, isLoopbackHost, MetricsAddressError } from './metrics-server.ts';
export type { Scrape, ServeMetricsOptions, MetricsServer } from './metrics-server.ts';
