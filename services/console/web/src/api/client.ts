/**
 * The only code that talks HTTP: one typed function per endpoint of `/api/v1`, and the live stream. Every request
 * carries `Authorization: Bearer` when the page has a token. Failures are one error type, `ApiRequestError`, with the
 * HTTP status (0 when the server could not be reached) and the server's `{error}` text.
 */
import { API_PATHS, type ApiPath } from '@stinger/console-api';
import { createSseParser } from './sse.ts';
import type {
  AgentsResponse,
  AlertRow,
  AlertsResponse,
  EgressResponse,
  EnforcementMessage,
  EventRow,
  EventsOverTimeResponse,
  EventsResponse,
  FacetsResponse,
  FileAccessResponse,
  ProcessTreeResponse,
  TopFilesResponse,
  TopTalkersResponse,
} from '@stinger/console-api';

export type QueryParams = readonly (readonly [string, string])[];

export class ApiRequestError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = 'ApiRequestError';
    this.status = status;
  }
}

export interface StreamHandlers {
  onOpen(): void;
  onEvent(event: EventRow): void;
  onAlert(alert: AlertRow): void;
  onEnforcement(update: EnforcementMessage): void;
}

export interface ApiClient {
  facets(params: QueryParams, signal: AbortSignal): Promise<FacetsResponse>;
  events(params: QueryParams, signal: AbortSignal): Promise<EventsResponse>;
  fileAccess(params: QueryParams, signal: AbortSignal): Promise<FileAccessResponse>;
  egress(params: QueryParams, signal: AbortSignal): Promise<EgressResponse>;
  processTree(params: QueryParams, signal: AbortSignal): Promise<ProcessTreeResponse>;
  alerts(params: QueryParams, signal: AbortSignal): Promise<AlertsResponse>;
  agents(params: QueryParams, signal: AbortSignal): Promise<AgentsResponse>;
  eventsOverTime(params: QueryParams, signal: AbortSignal): Promise<EventsOverTimeResponse>;
  topFiles(params: QueryParams, signal: AbortSignal): Promise<TopFilesResponse>;
  topTalkers(params: QueryParams, signal: AbortSignal): Promise<TopTalkersResponse>;
  /**
   * Reads `/api/v1/stream` until the server ends it or `signal` aborts; resolves when it ends, rejects with
   * ApiRequestError when it cannot be opened or breaks. Reconnecting is the caller's choice.
   */
  stream(params: QueryParams, handlers: StreamHandlers, signal: AbortSignal): Promise<void>;
}

export function createApiClient(options: { baseUrl: string; token: string | null }): ApiClient {
  const headers: Record<string, string> = options.token ? { authorization: `Bearer ${options.token}` } : {};

  const request = async (path: ApiPath, params: QueryParams, init: { signal: AbortSignal; accept: string }): Promise<Response> => {
    const url = new URL(path, options.baseUrl);
    for (const [key, value] of params) url.searchParams.append(key, value);
    let response: Response;
    try {
      response = await fetch(url, { headers: { ...headers, accept: init.accept }, signal: init.signal });
    } catch (error) {
      if (init.signal.aborted) throw error;
      throw new ApiRequestError(0, `the console did not answer (${(error as Error).message})`);
    }
    if (!response.ok) {
      const text = await response.text().catch(() => '');
      let message = text || response.statusText;
      try {
        message = (JSON.parse(text) as { error?: string }).error ?? message;
      } catch {
        // not JSON: keep the text as it came
      }
      throw new ApiRequestError(response.status, message);
    }
    return response;
  };

  const getJson =
    <T>(path: ApiPath) =>
    async (params: QueryParams, signal: AbortSignal): Promise<T> =>
      (await (await request(path, params, { signal, accept: 'application/json' })).json()) as T;

  return {
    facets: getJson(API_PATHS.facets),
    events: getJson(API_PATHS.events),
    fileAccess: getJson(API_PATHS.fileAccess),
    egress: getJson(API_PATHS.egress),
    processTree: getJson(API_PATHS.processTree),
    alerts: getJson(API_PATHS.alerts),
    agents: getJson(API_PATHS.agents),
    eventsOverTime: getJson(API_PATHS.eventsOverTime),
    topFiles: getJson(API_PATHS.topFiles),
    topTalkers: getJson(API_PATHS.topTalkers),
    async stream(params, handlers, signal) {
      const response = await request(API_PATHS.stream, params, { signal, accept: 'text/event-stream' });
      if (!response.body) throw new ApiRequestError(0, 'the stream has no body');
      handlers.onOpen();
      const parser = createSseParser(({ event, data }) => {
        if (event === 'event') handlers.onEvent(JSON.parse(data) as EventRow);
        else if (event === 'alert') handlers.onAlert(JSON.parse(data) as AlertRow);
        else if (event === 'enforcement') handlers.onEnforcement(JSON.parse(data) as EnforcementMessage);
      });
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          parser.push(value);
        }
      } catch (error) {
        if (signal.aborted) return;
        throw new ApiRequestError(0, `the stream broke (${(error as Error).message})`);
      } finally {
        reader.releaseLock();
      }
    },
  };
}
