/**
 * What the page shows, as it is written in the address bar: the view, the filters shared by every view, and each
 * view's own choice (the file path, the process tree's pod or node). The query string is the whole state, so a view
 * can be shared by its address. Pure: no DOM, no clock (callers pass `now`).
 */

export const VIEW_NAMES = ['overview', 'live', 'files', 'egress', 'tree', 'alerts', 'agents'] as const;
export type ViewName = (typeof VIEW_NAMES)[number];

/** Relative windows end at "now"; `custom` uses `from`/`to`. */
export const TIME_WINDOWS = ['15m', '1h', '6h', '24h', 'custom'] as const;
export type TimeWindow = (typeof TIME_WINDOWS)[number];

const WINDOW_MS: Record<Exclude<TimeWindow, 'custom'>, number> = {
  '15m': 15 * 60_000,
  '1h': 60 * 60_000,
  '6h': 6 * 60 * 60_000,
  '24h': 24 * 60 * 60_000,
};

export interface Filters {
  readonly window: TimeWindow;
  /** ms since the epoch; set only for the custom window. */
  readonly from: number | null;
  readonly to: number | null;
  readonly namespace: string;
  readonly pod: string;
  readonly workload: string;
  /** Substring of the binary's path. */
  readonly binary: string;
  readonly kinds: readonly string[];
  readonly severities: readonly string[];
}

/** The process tree's subject: a pod, or a node's host processes. */
export type TreeTarget = { readonly namespace: string; readonly pod: string } | { readonly node: string };

export interface PageLocation {
  readonly view: ViewName;
  readonly filters: Filters;
  /** File access: the path asked about, or a path prefix when `pathPrefix`. */
  readonly path: string;
  readonly pathPrefix: boolean;
  readonly tree: TreeTarget | null;
}

export const DEFAULT_FILE_PATH = '/etc/passwd';

export const EMPTY_FILTERS: Filters = {
  window: '1h',
  from: null,
  to: null,
  namespace: '',
  pod: '',
  workload: '',
  binary: '',
  kinds: [],
  severities: [],
};

function isOneOf<T extends string>(list: readonly T[], value: string | null): value is T {
  return value !== null && (list as readonly string[]).includes(value);
}

/** A time as written in the query: ms since the epoch or an ISO date; null when it is neither. */
export function parseTime(text: string | null): number | null {
  if (text === null || text === '') return null;
  if (/^\d+$/.test(text)) return Number(text);
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : ms;
}

export function parseLocation(query: URLSearchParams): PageLocation {
  const view = query.get('view');
  const window = query.get('window');
  const from = parseTime(query.get('from'));
  const to = parseTime(query.get('to'));
  const custom = window === 'custom' || (window === null && from !== null);
  const filters: Filters = {
    window: custom && from !== null ? 'custom' : isOneOf(TIME_WINDOWS, window) && window !== 'custom' ? window : EMPTY_FILTERS.window,
    from: custom ? from : null,
    to: custom ? to : null,
    namespace: query.get('namespace') ?? '',
    pod: query.get('pod') ?? '',
    workload: query.get('workload') ?? '',
    binary: query.get('binary') ?? '',
    kinds: query.getAll('kind').filter((k) => k !== ''),
    severities: query.getAll('severity').filter((s) => s !== ''),
  };
  const treeNode = query.get('treeNode');
  const treePod = query.get('treePod');
  const tree: TreeTarget | null = treeNode
    ? { node: treeNode }
    : treePod
      ? { namespace: query.get('treeNamespace') ?? '', pod: treePod }
      : null;
  return {
    view: isOneOf(VIEW_NAMES, view) ? view : 'overview',
    filters,
    path: query.get('path') ?? DEFAULT_FILE_PATH,
    pathPrefix: query.get('pathPrefix') === '1',
    tree,
  };
}

/** The query string of a location; defaults are left out so shared addresses stay short. */
export function formatLocation(location: PageLocation): string {
  const query = new URLSearchParams();
  const { filters } = location;
  if (location.view !== 'overview') query.set('view', location.view);
  if (filters.window === 'custom') {
    query.set('window', 'custom');
    if (filters.from !== null) query.set('from', new Date(filters.from).toISOString());
    if (filters.to !== null) query.set('to', new Date(filters.to).toISOString());
  } else if (filters.window !== EMPTY_FILTERS.window) {
    query.set('window', filters.window);
  }
  for (const key of ['namespace', 'pod', 'workload', 'binary'] as const) if (filters[key] !== '') query.set(key, filters[key]);
  for (const kind of filters.kinds) query.append('kind', kind);
  for (const severity of filters.severities) query.append('severity', severity);
  if (location.path !== DEFAULT_FILE_PATH) query.set('path', location.path);
  if (location.pathPrefix) query.set('pathPrefix', '1');
  if (location.tree !== null) {
    if ('node' in location.tree) query.set('treeNode', location.tree.node);
    else {
      query.set('treeNamespace', location.tree.namespace);
      query.set('treePod', location.tree.pod);
    }
  }
  return query.toString();
}

/** The window as absolute times; a custom window missing its end ends now. */
export function timeRange(filters: Filters, now: number): { from: number; to: number } {
  if (filters.window === 'custom') {
    const to = filters.to ?? now;
    return { from: filters.from ?? to - WINDOW_MS['1h'], to };
  }
  return { from: now - WINDOW_MS[filters.window], to: now };
}

/** The API's common filter parameters (`from`, `to`, `namespace`, …, repeated `kind` and `severity`). */
export function filterParams(filters: Filters, now: number): [string, string][] {
  const { from, to } = timeRange(filters, now);
  const params: [string, string][] = [
    ['from', String(from)],
    ['to', String(to)],
  ];
  for (const key of ['namespace', 'pod', 'workload', 'binary'] as const) if (filters[key] !== '') params.push([key, filters[key]]);
  for (const kind of filters.kinds) params.push(['kind', kind]);
  for (const severity of filters.severities) params.push(['severity', severity]);
  return params;
}

/** The live stream's parameters: the same filters, but open-ended (a fixed `to` would end the stream's window). */
export function streamParams(filters: Filters, now: number): [string, string][] {
  return filterParams(filters, now).filter(([key]) => key !== 'to' || filters.window === 'custom');
}

/** How many filters narrow the view (the time window is always set and not counted). */
export function activeFilterCount(filters: Filters): number {
  return (['namespace', 'pod', 'workload', 'binary'] as const).filter((key) => filters[key] !== '').length + filters.kinds.length + filters.severities.length;
}

/** A time as a `datetime-local` input holds it, read as UTC (the page shows UTC throughout): `2026-12-02T14:03`. */
export function toDateTimeInput(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16);
}

/** The inverse of toDateTimeInput; null for an empty or malformed value. */
export function fromDateTimeInput(value: string): number | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(value)) return null;
  const ms = Date.parse(`${value}Z`);
  return Number.isNaN(ms) ? null : ms;
}

/** The process tree's subject: the one chosen in the view, else the pod the filters name, else none. */
export function treeTargetOf(location: PageLocation): TreeTarget | null {
  if (location.tree !== null) return location.tree;
  const { namespace, pod } = location.filters;
  return pod !== '' ? { namespace, pod } : null;
}
