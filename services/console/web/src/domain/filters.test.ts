import { test } from 'node:test';
import assert from 'node:assert/strict';
import { treeTargetOf, DEFAULT_FILE_PATH, EMPTY_FILTERS, filterParams, formatLocation, fromDateTimeInput, parseLocation, streamParams, timeRange, toDateTimeInput, type PageLocation } from './filters.ts';

const NOW = Date.parse('2026-12-02T12:00:00Z');

test('an empty address is the overview of the last hour with no filters and /etc/passwd as the file', () => {
  const location = parseLocation(new URLSearchParams(''));
  assert.equal(location.view, 'overview');
  assert.deepEqual(location.filters, EMPTY_FILTERS);
  assert.equal(location.path, DEFAULT_FILE_PATH);
  assert.equal(location.tree, null);
  assert.equal(formatLocation(location), '');
});

test('every filter and view choice survives the address bar', () => {
  const location: PageLocation = {
    view: 'files',
    filters: { ...EMPTY_FILTERS, window: '6h', namespace: 'shop', pod: 'web-1', workload: 'web', binary: 'cat', kinds: ['file', 'exec'], severities: ['high'] },
    path: '/etc/',
    pathPrefix: true,
    tree: { namespace: 'shop', pod: 'web-1' },
  };
  assert.deepEqual(parseLocation(new URLSearchParams(formatLocation(location))), location);
  const host: PageLocation = { ...location, view: 'tree', tree: { node: 'node-a' } };
  assert.deepEqual(parseLocation(new URLSearchParams(formatLocation(host))), host);
});

test('a custom window keeps its times; unknown views and windows fall back to the defaults', () => {
  const custom = parseLocation(new URLSearchParams('window=custom&from=2026-12-02T10:00:00Z&to=1764669600000'));
  assert.equal(custom.filters.window, 'custom');
  assert.equal(custom.filters.from, Date.parse('2026-12-02T10:00:00Z'));
  assert.equal(custom.filters.to, 1764669600000);
  assert.deepEqual(timeRange(custom.filters, NOW), { from: Date.parse('2026-12-02T10:00:00Z'), to: 1764669600000 });
  const junk = parseLocation(new URLSearchParams('view=nope&window=3y'));
  assert.equal(junk.view, 'overview');
  assert.equal(junk.filters.window, '1h');
});

test('the API gets the window as absolute times and each filter once, kinds and severities repeated', () => {
  const filters = { ...EMPTY_FILTERS, window: '15m' as const, namespace: 'shop', kinds: ['file', 'exec'], severities: ['high', 'critical'] };
  assert.deepEqual(filterParams(filters, NOW), [
    ['from', String(NOW - 15 * 60_000)],
    ['to', String(NOW)],
    ['namespace', 'shop'],
    ['kind', 'file'],
    ['kind', 'exec'],
    ['severity', 'high'],
    ['severity', 'critical'],
  ]);
});

test('the live stream of a relative window has no end, a custom window keeps its end', () => {
  assert.equal(streamParams(EMPTY_FILTERS, NOW).some(([key]) => key === 'to'), false);
  const custom = { ...EMPTY_FILTERS, window: 'custom' as const, from: NOW - 1000, to: NOW };
  assert.deepEqual(streamParams(custom, NOW), [['from', String(NOW - 1000)], ['to', String(NOW)]]);
});

test('datetime inputs are read and written as UTC minutes; a malformed one is null', () => {
  assert.equal(toDateTimeInput(Date.parse('2026-12-02T09:05:59Z')), '2026-12-02T09:05');
  assert.equal(fromDateTimeInput('2026-12-02T09:05'), Date.parse('2026-12-02T09:05:00Z'));
  assert.equal(fromDateTimeInput(''), null);
  assert.equal(fromDateTimeInput('yesterday'), null);
});

test('the process tree shows the pod chosen in its view, else the pod the filters name', () => {
  assert.equal(treeTargetOf(parseLocation(new URLSearchParams('view=tree'))), null);
  assert.deepEqual(treeTargetOf(parseLocation(new URLSearchParams('view=tree&namespace=shop&pod=web-1'))), { namespace: 'shop', pod: 'web-1' });
  assert.deepEqual(treeTargetOf(parseLocation(new URLSearchParams('view=tree&namespace=shop&pod=web-1&treeNode=n1'))), { node: 'n1' });
});
