/**
 * What the page knows: where it is (the address bar's state), the server's answers per view, and the live list.
 * Each view's data is a Resource that keeps its last answer while a newer one loads, so a refresh never blanks a
 * table. Transitions are pure functions (`(state, …) → state`), dispatched by components and the data layer.
 */
import type {
  AgentRow,
  AlertRow,
  EgressNameRow,
  EgressRow,
  EnforcementMessage,
  EventRow,
  EventsOverTimeResponse,
  FacetsResponse,
  FileAccessRow,
  ProcessNode,
  TopFilesResponse,
  TopTalkersResponse,
} from '@stinger/console-api';
import { applyEnforcement, prependNewest } from '../domain/events.ts';
import type { Filters, PageLocation, TreeTarget, ViewName } from '../domain/filters.ts';

export interface Resource<T> {
  readonly loading: boolean;
  readonly data: T | null;
  readonly error: string | null;
  /** When `data` last arrived (ms since the epoch). */
  readonly updatedAt: number | null;
}

export const EMPTY_RESOURCE: Resource<never> = { loading: false, data: null, error: null, updatedAt: null };

export interface OverviewData {
  readonly overTime: EventsOverTimeResponse;
  readonly topFiles: TopFilesResponse['rows'];
  readonly topTalkers: TopTalkersResponse['rows'];
  readonly alerts: readonly AlertRow[];
}

/** The egress view: names asked for (DNS, TLS server names, HTTP hosts) and connections, per pod and command. */
export interface EgressData {
  readonly names: readonly EgressNameRow[];
  readonly connections: readonly EgressRow[];
}

export type StreamConnection = 'off' | 'connecting' | 'open' | 'retrying';

export interface LiveState {
  readonly events: readonly EventRow[];
  readonly paused: boolean;
  /** Events that arrived while paused, shown on resume. */
  readonly held: readonly EventRow[];
  readonly connection: StreamConnection;
  readonly error: string | null;
}

export interface ConsoleState {
  readonly location: PageLocation;
  /** The API refused the page's token (or it has none): the page says how to open it. */
  readonly unauthorized: boolean;
  readonly facets: FacetsResponse | null;
  readonly overview: Resource<OverviewData>;
  readonly live: LiveState;
  readonly files: Resource<readonly FileAccessRow[]>;
  readonly egress: Resource<EgressData>;
  readonly tree: Resource<readonly ProcessNode[]>;
  readonly alerts: Resource<readonly AlertRow[]>;
  readonly agents: Resource<readonly AgentRow[]>;
  /** The clock the page shows relative times against; ticks once a second. */
  readonly now: number;
}

/** The views whose data is a Resource fetched from the API (the live view streams instead). */
export type FetchedView = 'overview' | 'files' | 'egress' | 'tree' | 'alerts' | 'agents';

/** At most this many live events are kept; older ones fall off the end. */
export const LIVE_LIMIT = 500;

export function initialState(location: PageLocation, now: number): ConsoleState {
  return {
    location,
    unauthorized: false,
    facets: null,
    overview: EMPTY_RESOURCE,
    live: { events: [], paused: false, held: [], connection: 'off', error: null },
    files: EMPTY_RESOURCE,
    egress: EMPTY_RESOURCE,
    tree: EMPTY_RESOURCE,
    alerts: EMPTY_RESOURCE,
    agents: EMPTY_RESOURCE,
    now,
  };
}

function withLocation(state: ConsoleState, change: Partial<PageLocation>): ConsoleState {
  return { ...state, location: { ...state.location, ...change } };
}

/** A change of the page's state: a pure function of the previous one. */
export type Action = (state: ConsoleState) => ConsoleState;

export const actions = {
  navigate: (view: ViewName): Action => (state) => withLocation(state, { view }),
  setFilters: (change: Partial<Filters>): Action => (state) => withLocation(state, { filters: { ...state.location.filters, ...change } }),
  setLocation: (location: PageLocation): Action => (state) => ({ ...state, location }),
  /** Another file, or another process tree: the previous answer is about something else, so it is not shown meanwhile. */
  setFilePath: (path: string, pathPrefix: boolean): Action => (state) => ({ ...withLocation(state, { path, pathPrefix }), files: EMPTY_RESOURCE }),
  setTreeTarget: (tree: TreeTarget | null): Action => (state) => ({ ...withLocation(state, { tree }), tree: EMPTY_RESOURCE }),
  tick: (now: number): Action => (state) => ({ ...state, now }),

  setPaused: (paused: boolean): Action => (state) => ({
    ...state,
    live: paused
      ? { ...state.live, paused }
      : { ...state.live, paused, events: prependNewest(state.live.events, state.live.held, LIVE_LIMIT), held: [] },
  }),
  clearLive: (): Action => (state) => ({ ...state, live: { ...state.live, events: [], held: [] } }),
  liveConnection: (connection: StreamConnection, error: string | null): Action => (state) => ({ ...state, live: { ...state.live, connection, error } }),
  /** The first page of events when the stream (re)opens: replaces the list, keeping streamed rows not in it. */
  liveLoaded: (events: readonly EventRow[]): Action => (state) => ({ ...state, live: { ...state.live, events: prependNewest(events, state.live.events, LIVE_LIMIT), held: [] } }),
  liveEvents: (events: readonly EventRow[]): Action => (state) =>
    state.live.paused
      ? { ...state, live: { ...state.live, held: prependNewest(state.live.held, events, LIVE_LIMIT) } }
      : { ...state, live: { ...state.live, events: prependNewest(state.live.events, events, LIVE_LIMIT) } },
  alertStreamed: (alert: AlertRow): Action => (state) =>
    state.alerts.data === null ? state : { ...state, alerts: { ...state.alerts, data: prependNewest(state.alerts.data, [alert], LIVE_LIMIT) } },
  enforcementStreamed: (update: EnforcementMessage): Action => (state) =>
    state.alerts.data === null ? state : { ...state, alerts: { ...state.alerts, data: applyEnforcement(state.alerts.data, update) } },

  facetsLoaded: (facets: FacetsResponse): Action => (state) => ({ ...state, facets }),
  unauthorized: (): Action => (state) => ({ ...state, unauthorized: true }),
  loading: (view: FetchedView): Action => (state) => ({ ...state, [view]: { ...state[view], loading: true } }),
  loaded:
    <V extends FetchedView>(view: V, data: NonNullable<ConsoleState[V]['data']>, now: number) =>
    (state: ConsoleState) => ({ ...state, unauthorized: false, [view]: { loading: false, data, error: null, updatedAt: now } }),
  failed: (view: FetchedView, error: string): Action => (state) => ({ ...state, [view]: { ...state[view], loading: false, error } }),
};
