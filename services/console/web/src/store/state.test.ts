import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AlertRow, EventRow } from '@stinger/console-api';
import { parseLocation } from '../domain/filters.ts';
import { actions, initialState, type ConsoleState } from './state.ts';
import { createStore } from './store.ts';

function event(id: string, time: number): EventRow {
  return { id, time, node: 'n', kind: 'exec', namespace: null, pod: null, workload: null, container: null, pid: 1, binary: '/bin/sh', args: null, parentBinary: null, ancestry: [], summary: '', detail: {} };
}

function start(): ConsoleState {
  return initialState(parseLocation(new URLSearchParams('view=live')), 0);
}

test('while paused, streamed events are held; resuming shows them in time order', () => {
  let state = actions.liveEvents([event('a', 1)])(start());
  state = actions.setPaused(true)(state);
  state = actions.liveEvents([event('b', 2), event('c', 3)])(state);
  assert.deepEqual(state.live.events.map((e) => e.id), ['a']);
  assert.equal(state.live.held.length, 2);
  state = actions.setPaused(false)(state);
  assert.deepEqual(state.live.events.map((e) => e.id), ['c', 'b', 'a']);
  assert.equal(state.live.held.length, 0);
});

test('an enforcement streamed after its alert fills in the listed alert', () => {
  const alert = { id: 'x', time: 1, enforcement: null } as unknown as AlertRow;
  let state = actions.loaded('alerts', [alert], 1)(start());
  state = actions.enforcementStreamed({ alertId: 'x', outcome: 'killed', reason: null, time: 2 })(state);
  assert.equal(state.alerts.data?.[0]?.enforcement?.outcome, 'killed');
});

test('a refresh keeps the previous answer while it loads; a failure keeps it too, with the error', () => {
  const answer = { names: [], connections: [] };
  let state = actions.loaded('egress', answer, 5)(start());
  state = actions.loading('egress')(state);
  assert.deepEqual(state.egress, { loading: true, data: answer, error: null, updatedAt: 5 });
  state = actions.failed('egress', 'boom')(state);
  assert.deepEqual(state.egress, { loading: false, data: answer, error: 'boom', updatedAt: 5 });
});

test('the store tells listeners of a change once, with the previous state, and not of a no-op', () => {
  const store = createStore(start());
  const seen: [string, string][] = [];
  store.subscribe((state, previous) => seen.push([state.location.view, previous.location.view]));
  store.update(actions.navigate('files'));
  store.update((s) => s);
  assert.deepEqual(seen, [['files', 'live']]);
});

test('choosing another pod for the process tree drops the previous tree instead of showing it under the new name', () => {
  let state = actions.loaded('tree', [], 5)(start());
  state = actions.setTreeTarget({ namespace: 'shop', pod: 'web-2' })(state);
  assert.deepEqual(state.location.tree, { namespace: 'shop', pod: 'web-2' });
  assert.equal(state.tree.data, null);
});
