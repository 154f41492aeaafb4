/**
 * Turns the page's location into API requests and their answers into store updates. The only caller of the API
 * client. Contract:
 * - the current view's data is fetched when the view, the filters or the view's own choice change, and again every
 *   REFRESH_MS while the tab is visible (a change aborts the request in flight, so a late answer never overwrites a
 *   newer one);
 * - the live view reads the first page of events, then streams (`/api/v1/stream`) with the same filters, and
 *   reconnects after a break, backing off up to 10 s; other views close the stream;
 * - facets (the filter bar's choices) follow the time window;
 * - a 401 marks the page unauthorized instead of showing an error per view.
 */
import { ApiRequestError, type ApiClient, type QueryParams } from '../api/client.ts';
import type { EventRow } from '@stinger/console-api';
import { filterParams, streamParams, treeTargetOf, type PageLocation } from '../domain/filters.ts';
import { actions, type ConsoleState, type FetchedView } from '../store/state.ts';
import type { Store } from '../store/store.ts';

export const REFRESH_MS = 5000;
const FACETS_REFRESH_MS = 30_000;
/** Streamed events are applied to the store at most this often (a burst renders once). */
const STREAM_FLUSH_MS = 250;

export interface DataLayer {
  /** Fetches the current view again now. */
  refresh(): void;
  stop(): void;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function isAbort(error: unknown): boolean {
  return error instanceof DOMException && error.name === 'AbortError';
}

/** What a view's data depends on: when this key changes, the data is fetched again. */
function dataKey(location: PageLocation): string {
  const { view, filters, path, pathPrefix, tree } = location;
  const own = view === 'files' ? [path, pathPrefix] : view === 'tree' ? [tree] : [];
  return JSON.stringify([view, filters, own]);
}

interface ViewRequest {
  readonly api: ApiClient;
  readonly location: PageLocation;
  readonly now: number;
  readonly signal: AbortSignal;
}

async function fetchView(request: ViewRequest): Promise<((s: ConsoleState) => ConsoleState) | null> {
  const { api, location, now, signal } = request;
  const params = filterParams(location.filters, now);
  const view = location.view;
  switch (view) {
    case 'overview': {
      const [overTime, topFiles, topTalkers, alerts] = await Promise.all([
        api.eventsOverTime(params, signal),
        api.topFiles([...params, ['limit', '10']], signal),
        api.topTalkers([...params, ['limit', '10']], signal),
        api.alerts([...params, ['limit', '8']], signal),
      ]);
      return actions.loaded('overview', { overTime, topFiles: topFiles.rows, topTalkers: topTalkers.rows, alerts: alerts.alerts }, now);
    }
    case 'files': {
      const pathParam: [string, string] = [location.pathPrefix ? 'pathPrefix' : 'path', location.path];
      return actions.loaded('files', (await api.fileAccess([...params, pathParam], signal)).rows, now);
    }
    case 'egress': {
      const egress = await api.egress(params, signal);
      return actions.loaded('egress', { names: egress.names, connections: egress.rows }, now);
    }
    case 'tree': {
      const tree = treeTargetOf(location);
      if (tree === null) return actions.loaded('tree', [], now);
      const target: QueryParams = 'node' in tree ? [['node', tree.node]] : [['namespace', tree.namespace], ['pod', tree.pod]];
      // The tree is chosen by its own pod or node: the filter bar's pod and namespace would contradict it.
      const rest = params.filter(([key]) => key !== 'namespace' && key !== 'pod' && key !== 'workload');
      return actions.loaded('tree', (await api.processTree([...rest, ...target], signal)).roots, now);
    }
    case 'alerts':
      return actions.loaded('alerts', (await api.alerts(params, signal)).alerts, now);
    case 'agents':
      return actions.loaded('agents', (await api.agents(params, signal)).agents, now);
    case 'live':
      return null;
  }
}

export function startDataLayer(options: { store: Store<ConsoleState>; api: ApiClient; clock: () => number }): DataLayer {
  const { store, api, clock } = options;
  let viewRequest: AbortController | null = null;
  let facetsRequest: AbortController | null = null;
  let stream: AbortController | null = null;
  let streamKey = '';
  let lastDataKey = '';
  let lastFacetsKey = '';

  const failed = (view: FetchedView | null, error: unknown) => {
    if (isAbort(error)) return;
    if (error instanceof ApiRequestError && error.status === 401) store.update(actions.unauthorized());
    else if (view !== null) store.update(actions.failed(view, errorText(error)));
  };

  const loadView = () => {
    const location = store.get().location;
    if (location.view === 'live') return;
    const view: FetchedView = location.view;
    viewRequest?.abort();
    const controller = new AbortController();
    viewRequest = controller;
    store.update(actions.loading(view));
    fetchView({ api, location, now: clock(), signal: controller.signal }).then(
      (update) => {
        if (update && !controller.signal.aborted) store.update(update);
      },
      (error: unknown) => {
        if (!controller.signal.aborted) failed(view, error);
      },
    );
  };

  const loadFacets = () => {
    facetsRequest?.abort();
    const controller = new AbortController();
    facetsRequest = controller;
    const { window, from, to } = store.get().location.filters;
    const range = filterParams({ ...store.get().location.filters, window, from, to, namespace: '', pod: '', workload: '', binary: '', kinds: [], severities: [] }, clock());
    api.facets(range, controller.signal).then(
      (facets) => store.update(actions.facetsLoaded(facets)),
      (error: unknown) => failed(null, error),
    );
  };

  /** Keeps one stream open while the live view is shown, with its filters; reopens after a break. */
  const syncStream = () => {
    const location = store.get().location;
    const key = location.view === 'live' ? JSON.stringify(location.filters) : '';
    if (key === streamKey) return;
    streamKey = key;
    stream?.abort();
    stream = null;
    if (key === '') {
      store.update(actions.liveConnection('off', null));
      return;
    }
    const controller = new AbortController();
    stream = controller;
    void runStream(location, controller.signal);
  };

  const runStream = async (location: PageLocation, signal: AbortSignal) => {
    let backoffMs = 500;
    let pending: EventRow[] = [];
    let flushTimer: ReturnType<typeof setTimeout> | null = null;
    const flush = () => {
      flushTimer = null;
      if (signal.aborted || pending.length === 0) return;
      store.update(actions.liveEvents(pending));
      pending = [];
    };
    store.update(actions.clearLive());
    while (!signal.aborted) {
      store.update(actions.liveConnection('connecting', null));
      try {
        const now = clock();
        const first = await api.events([...filterParams(location.filters, now), ['limit', '200']], signal);
        if (signal.aborted) return;
        store.update(actions.liveLoaded(first.events));
        await api.stream(
          streamParams(location.filters, now),
          {
            onOpen: () => {
              backoffMs = 500;
              store.update(actions.liveConnection('open', null));
            },
            onEvent: (event) => {
              pending.push(event);
              flushTimer ??= setTimeout(flush, STREAM_FLUSH_MS);
            },
            onAlert: (alert) => store.update(actions.alertStreamed(alert)),
            onEnforcement: (update) => store.update(actions.enforcementStreamed(update)),
          },
          signal,
        );
        if (signal.aborted) return;
        store.update(actions.liveConnection('retrying', 'the server ended the stream'));
      } catch (error) {
        if (signal.aborted || isAbort(error)) return;
        if (error instanceof ApiRequestError && error.status === 401) {
          store.update(actions.unauthorized());
          store.update(actions.liveConnection('off', errorText(error)));
          return;
        }
        store.update(actions.liveConnection('retrying', errorText(error)));
      }
      await new Promise((resolve) => setTimeout(resolve, backoffMs));
      backoffMs = Math.min(backoffMs * 2, 10_000);
    }
  };

  const onChange = () => {
    const location = store.get().location;
    const key = dataKey(location);
    if (key !== lastDataKey) {
      lastDataKey = key;
      loadView();
    }
    const facetsKey = JSON.stringify([location.filters.window, location.filters.from, location.filters.to]);
    if (facetsKey !== lastFacetsKey) {
      lastFacetsKey = facetsKey;
      loadFacets();
    }
    syncStream();
  };

  const unsubscribe = store.subscribe((state, previous) => {
    if (state.location !== previous.location) onChange();
  });
  onChange();

  const visible = () => typeof document === 'undefined' || document.visibilityState === 'visible';
  const refreshTimer = setInterval(() => {
    if (visible()) loadView();
  }, REFRESH_MS);
  const facetsTimer = setInterval(() => {
    if (visible()) loadFacets();
  }, FACETS_REFRESH_MS);
  const clockTimer = setInterval(() => store.update(actions.tick(clock())), 1000);

  return {
    refresh: loadView,
    stop() {
      unsubscribe();
      clearInterval(refreshTimer);
      clearInterval(facetsTimer);
      clearInterval(clockTimer);
      viewRequest?.abort();
      facetsRequest?.abort();
      stream?.abort();
    },
  };
}
