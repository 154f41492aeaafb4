import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EgressRow, EventRow } from '@stinger/console-api';
import { ApiRequestError, type ApiClient, type QueryParams, type StreamHandlers } from '../api/client.ts';
import { parseLocation } from '../domain/filters.ts';
import { actions, initialState, type ConsoleState } from '../store/state.ts';
import { createStore, type Store } from '../store/store.ts';
import { startDataLayer } from './data-layer.ts';

const NOW = Date.parse('2026-12-02T12:00:00Z');

interface Call {
  readonly endpoint: string;
  readonly params: QueryParams;
  readonly signal: AbortSignal;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/** An API client whose every answer the test gives by hand, in any order. */
function fakeApi(): { api: ApiClient; calls: Call[]; streams: { params: QueryParams; handlers: StreamHandlers; signal: AbortSignal }[] } {
  const calls: Call[] = [];
  const streams: { params: QueryParams; handlers: StreamHandlers; signal: AbortSignal }[] = [];
  const endpoint =
    (name: string) =>
    (params: QueryParams, signal: AbortSignal): Promise<never> =>
      new Promise((resolve, reject) => calls.push({ endpoint: name, params, signal, resolve: resolve as (v: unknown) => void, reject }));
  const api = {
    facets: endpoint('facets'),
    events: endpoint('events'),
    fileAccess: endpoint('fileAccess'),
    egress: endpoint('egress'),
    processTree: endpoint('processTree'),
    alerts: endpoint('alerts'),
    agents: endpoint('agents'),
    eventsOverTime: endpoint('eventsOverTime'),
    topFiles: endpoint('topFiles'),
    topTalkers: endpoint('topTalkers'),
    stream: (params: QueryParams, handlers: StreamHandlers, signal: AbortSignal) => {
      streams.push({ params, handlers, signal });
      return new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
    },
  } satisfies ApiClient;
  return { api, calls, streams };
}

function started(query: string): { store: Store<ConsoleState>; fake: ReturnType<typeof fakeApi>; stop: () => void } {
  const store = createStore(initialState(parseLocation(new URLSearchParams(query)), NOW));
  const fake = fakeApi();
  const layer = startDataLayer({ store, api: fake.api, clock: () => NOW });
  return { store, fake, stop: layer.stop };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));
const egressRow = (daddr: string) => ({ daddr }) as unknown as EgressRow;

test('a view fetches with the filters; a newer request aborts the older, whose late answer is dropped', async () => {
  const { store, fake, stop } = started('view=egress&namespace=shop');
  try {
    const first = fake.calls.find((c) => c.endpoint === 'egress');
    assert.ok(first);
    assert.deepEqual(first.params.filter(([k]) => k === 'namespace'), [['namespace', 'shop']]);
    assert.ok(first.params.some(([k, v]) => k === 'from' && Number(v) === NOW - 3_600_000));
    store.update(actions.setFilters({ namespace: 'web' }));
    const second = fake.calls.filter((c) => c.endpoint === 'egress')[1];
    assert.ok(second);
    assert.equal(first.signal.aborted, true);
    second.resolve({ rows: [egressRow('10.0.0.2')], names: [] });
    first.resolve({ rows: [egressRow('10.0.0.1')], names: [] });
    await settle();
    assert.deepEqual(store.get().egress.data, { names: [], connections: [egressRow('10.0.0.2')] });
    assert.equal(store.get().egress.loading, false);
  } finally {
    stop();
  }
});

test('a 401 marks the page unauthorized; another failure is the view\'s error and keeps its data', async () => {
  const { store, fake, stop } = started('view=agents');
  try {
    fake.calls.find((c) => c.endpoint === 'agents')?.reject(new ApiRequestError(401, 'missing token'));
    await settle();
    assert.equal(store.get().unauthorized, true);
    store.update(actions.navigate('egress'));
    const egress = fake.calls.find((c) => c.endpoint === 'egress');
    egress?.reject(new ApiRequestError(500, 'store unavailable'));
    await settle();
    assert.equal(store.get().egress.error, 'store unavailable');
  } finally {
    stop();
  }
});

test('the live view loads the first page, then streams with the same filters; leaving it closes the stream', async () => {
  const { store, fake, stop } = started('view=live&kind=exec');
  try {
    const event = (id: string, time: number) => ({ id, time }) as unknown as EventRow;
    fake.calls.find((c) => c.endpoint === 'events')?.resolve({ events: [event('a', 1)] });
    await settle();
    const stream = fake.streams[0];
    assert.ok(stream);
    assert.deepEqual(stream.params.filter(([k]) => k === 'kind'), [['kind', 'exec']]);
    assert.equal(stream.params.some(([k]) => k === 'to'), false, 'a relative window streams without an end');
    stream.handlers.onOpen();
    assert.equal(store.get().live.connection, 'open');
    stream.handlers.onEvent(event('b', 2));
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(store.get().live.events.map((e) => e.id), ['b', 'a']);
    store.update(actions.navigate('alerts'));
    assert.equal(stream.signal.aborted, true);
    assert.equal(store.get().live.connection, 'off');
  } finally {
    stop();
  }
});
