/**
 * The API's endpoints (all but the stream) as one function: a path and its query string → the status and JSON body.
 * Pure over a ConsoleStore; runs in the server's process (an in-memory store) or in a query worker (query-pool.ts).
 */
import { API_PATHS, ApiParamError, parseFileAccessQuery, parseFilters, parseProcessTreeQuery, type ApiPath } from '@stinger/console-api';
import {
  queryAgents,
  queryAlerts,
  queryEgress,
  queryEvents,
  queryEventsOverTime,
  queryFacets,
  queryFileAccess,
  queryProcessTree,
  queryTopFiles,
  queryTopTalkers,
  type ConsoleStore,
} from '@stinger/console-store';

/** What an endpoint answers: 200 with the JSON text, or a client error with its message. */
export type ApiAnswer = { readonly status: 200; readonly json: string } | { readonly status: 400 | 404; readonly error: string };

type Handler = (params: URLSearchParams, store: ConsoleStore, now: number) => unknown;

const HANDLERS: Readonly<Record<Exclude<ApiPath, typeof API_PATHS.stream>, Handler>> = {
  [API_PATHS.facets]: (params, store, now) => queryFacets(store, parseFilters(params, now)),
  [API_PATHS.events]: (params, store, now) => queryEvents(store, parseFilters(params, now)),
  [API_PATHS.fileAccess]: (params, store, now) => queryFileAccess(store, parseFilters(params, now), parseFileAccessQuery(params)),
  [API_PATHS.egress]: (params, store, now) => queryEgress(store, parseFilters(params, now)),
  [API_PATHS.processTree]: (params, store, now) => queryProcessTree(store, parseFilters(params, now), parseProcessTreeQuery(params)),
  [API_PATHS.alerts]: (params, store, now) => queryAlerts(store, parseFilters(params, now)),
  [API_PATHS.agents]: (params, store, now) => queryAgents(store, now, parseFilters(params, now).node),
  [API_PATHS.eventsOverTime]: (params, store, now) => queryEventsOverTime(store, parseFilters(params, now)),
  [API_PATHS.topFiles]: (params, store, now) => queryTopFiles(store, parseFilters(params, now)),
  [API_PATHS.topTalkers]: (params, store, now) => queryTopTalkers(store, parseFilters(params, now)),
};

/** Answers GET `pathname`?`search` at time `now` (the default window's end). A failing query throws. */
export function answerEndpoint(store: ConsoleStore, request: { readonly pathname: string; readonly search: string }, now: number): ApiAnswer {
  const handler = (HANDLERS as Readonly<Record<string, Handler>>)[request.pathname];
  if (handler === undefined) {
    return { status: 404, error: `${request.pathname}: no such endpoint (see ${Object.values(API_PATHS).join(', ')})` };
  }
  try {
    return { status: 200, json: JSON.stringify(handler(new URLSearchParams(request.search), store, now)) };
  } catch (error) {
    if (error instanceof ApiParamError) return { status: 400, error: error.message };
    throw error;
  }
}
