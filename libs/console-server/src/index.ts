/**
 * @stinger/console-server: the web console's HTTP side — the JSON API v1 over a ConsoleStore, the live stream
 * (Server-Sent Events), the page's files, /healthz and /readyz, bearer-token checks. node:http, no Kafka: the service
 * (services/console) feeds the store and publishes what it stored.
 */
export { startConsoleServer, bearerMatches, type ConsoleServer, type ConsoleServerOptions, type Readiness } from './server.ts';
export { createLiveHub, PING_INTERVAL_MS, type LiveHub, type LiveMessage } from './live-hub.ts';
export { NOT_BUILT_PAGE } from './static-files.ts';
export { answerEndpoint, type ApiAnswer } from './endpoints.ts';
export { createQueryPool, inProcessQueries, type ApiRequest, type QueryRunner, type QueryWorkerData } from './query-pool.ts';
