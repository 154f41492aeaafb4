/**
 * @stinger/console-api: the console's HTTP API, v1 — response types, endpoint paths and query-parameter parsing,
 * shared by the server (services/console) and the page (services/console/web). Free of Node-only imports: the browser
 * bundle imports it too.
 */
export * from './contract.ts';
export { ApiParamError, DEFAULT_LIMIT, DEFAULT_WINDOW_MS, MAX_LIMIT, filtersToQuery, parseFileAccessQuery, parseFilters, parseProcessTreeQuery, parseTime } from './filters.ts';
export type { FileAccessQuery, Filters, ProcessTreeQuery } from './filters.ts';
