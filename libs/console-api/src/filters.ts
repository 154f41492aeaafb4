/**
 * The query parameters of the console's API, parsed and validated. The server parses every request with these; the
 * page may use `filtersToQuery` to build its URLs. Standard JavaScript only (URLSearchParams, Date): it runs in the
 * browser as well.
 *
 * A bad parameter throws `ApiParamError` naming it; the server answers 400 with its message.
 */
import { EVENT_KINDS, SEVERITIES } from './contract.ts';

export const DEFAULT_WINDOW_MS = 3_600_000;
export const DEFAULT_LIMIT = 200;
export const MAX_LIMIT = 5000;

export class ApiParamError extends Error {
  readonly param: string;
  constructor(param: string, message: string) {
    super(`${param}: ${message}`);
    this.name = 'ApiParamError';
    this.param = param;
  }
}

/** The filters every list and aggregate endpoint takes. null: not filtered on. */
export interface Filters {
  /** Window start, ms since the epoch (inclusive). */
  readonly from: number;
  /** Window end, ms since the epoch (exclusive). */
  readonly to: number;
  readonly namespace: string | null;
  readonly pod: string | null;
  readonly workload: string | null;
  /** Substring of the binary's path. */
  readonly binary: string | null;
  /** Event kinds; empty: all. */
  readonly kinds: readonly string[];
  /** Alert severities; empty: all. */
  readonly severities: readonly string[];
  readonly node: string | null;
  readonly limit: number;
}

export interface FileAccessQuery {
  /** Exactly one of path and pathPrefix is set. */
  readonly path: string | null;
  readonly pathPrefix: string | null;
}

/** A pod's processes (namespace and pod) or a node's host processes (node). */
export type ProcessTreeQuery = { readonly namespace: string; readonly pod: string; readonly node: string | null } | { readonly namespace: null; readonly pod: null; readonly node: string };

const FILTER_PARAMS = ['from', 'to', 'namespace', 'pod', 'workload', 'binary', 'kind', 'severity', 'node', 'limit'] as const;

function single(params: URLSearchParams, name: string): string | null {
  const values = params.getAll(name);
  if (values.length > 1) throw new ApiParamError(name, `given ${values.length} times; give it once`);
  const value = values[0];
  if (value === undefined || value === '') return null;
  return value;
}

/** ms since the epoch as digits, or an RFC 3339 date-time (e.g. 2026-12-02T07:00:00Z). */
export function parseTime(name: string, raw: string): number {
  if (/^\d{1,16}$/.test(raw)) return Number(raw);
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i.test(raw)) {
    const ms = Date.parse(raw);
    if (!Number.isNaN(ms)) return ms;
  }
  throw new ApiParamError(name, `"${raw}" is neither ms since the epoch nor an RFC 3339 time such as 2026-12-02T07:00:00Z`);
}

function oneOf(name: string, values: readonly string[], allowed: readonly string[]): string[] {
  const unknown = values.filter((v) => !allowed.includes(v));
  if (unknown.length > 0) throw new ApiParamError(name, `${unknown.map((v) => JSON.stringify(v)).join(', ')}: not one of ${allowed.join(', ')}`);
  return [...new Set(values)];
}

/** Repeatable parameters also accept comma-separated values (kind=exec,file). */
function repeated(params: URLSearchParams, name: string): string[] {
  return params
    .getAll(name)
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');
}

/** The common filters of a request's query; `now` ends the default window (the last hour). */
export function parseFilters(params: URLSearchParams, now: number): Filters {
  const rawTo = single(params, 'to');
  const rawFrom = single(params, 'from');
  const to = rawTo === null ? now : parseTime('to', rawTo);
  const from = rawFrom === null ? to - DEFAULT_WINDOW_MS : parseTime('from', rawFrom);
  if (from >= to) throw new ApiParamError('from', `${new Date(from).toISOString()} is not before to (${new Date(to).toISOString()})`);
  const rawLimit = single(params, 'limit');
  let limit = DEFAULT_LIMIT;
  if (rawLimit !== null) {
    if (!/^\d+$/.test(rawLimit) || Number(rawLimit) < 1 || Number(rawLimit) > MAX_LIMIT) throw new ApiParamError('limit', `"${rawLimit}" is not a whole number from 1 to ${MAX_LIMIT}`);
    limit = Number(rawLimit);
  }
  return {
    from,
    to,
    namespace: single(params, 'namespace'),
    pod: single(params, 'pod'),
    workload: single(params, 'workload'),
    binary: single(params, 'binary'),
    kinds: oneOf('kind', repeated(params, 'kind'), EVENT_KINDS),
    severities: oneOf('severity', repeated(params, 'severity'), SEVERITIES),
    node: single(params, 'node'),
    limit,
  };
}

export function parseFileAccessQuery(params: URLSearchParams): FileAccessQuery {
  const path = single(params, 'path');
  const pathPrefix = single(params, 'pathPrefix');
  if ((path === null) === (pathPrefix === null)) throw new ApiParamError('path', 'give either path (exact, e.g. /etc/passwd) or pathPrefix (e.g. /etc/)');
  for (const [name, value] of [['path', path], ['pathPrefix', pathPrefix]] as const) {
    if (value !== null && !value.startsWith('/')) throw new ApiParamError(name, `"${value}" is not an absolute path`);
  }
  return { path, pathPrefix };
}

export function parseProcessTreeQuery(params: URLSearchParams): ProcessTreeQuery {
  const namespace = single(params, 'namespace');
  const pod = single(params, 'pod');
  const node = single(params, 'node');
  if (namespace !== null && pod !== null) return { namespace, pod, node };
  if (namespace !== null || pod !== null) throw new ApiParamError(namespace === null ? 'namespace' : 'pod', 'a pod is named by both namespace and pod');
  if (node !== null) return { namespace: null, pod: null, node };
  throw new ApiParamError('pod', 'give namespace and pod for a pod, or node for its host processes');
}

/** The query string (without `?`) for these filters; what is unset or default is left out. */
export function filtersToQuery(filters: Partial<Filters>): string {
  const params = new URLSearchParams();
  for (const name of FILTER_PARAMS) {
    switch (name) {
      case 'kind':
        for (const kind of filters.kinds ?? []) params.append('kind', kind);
        break;
      case 'severity':
        for (const severity of filters.severities ?? []) params.append('severity', severity);
        break;
      case 'from':
      case 'to':
      case 'namespace':
      case 'pod':
      case 'workload':
      case 'binary':
      case 'node':
      case 'limit': {
        const value = filters[name];
        if (value !== undefined && value !== null) params.set(name, String(value));
        break;
      }
    }
  }
  return params.toString();
}
