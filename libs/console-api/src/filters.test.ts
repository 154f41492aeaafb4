import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EVENT_KIND_SYMBOLS, SEVERITY_SYMBOLS } from '@stinger/events';
import { EVENT_KINDS, SEVERITIES } from './contract.ts';
import { ApiParamError, filtersToQuery, parseFileAccessQuery, parseFilters, parseProcessTreeQuery } from './filters.ts';

const NOW = Date.parse('2026-12-02T08:00:00Z');
const parse = (query: string) => parseFilters(new URLSearchParams(query), NOW);
const badParam = (param: string) => (error: unknown) => error instanceof ApiParamError && error.param === param;

test('the kinds and severities are the schema symbols', () => {
  assert.deepEqual([...EVENT_KINDS], [...EVENT_KIND_SYMBOLS]);
  assert.deepEqual([...SEVERITIES], [...SEVERITY_SYMBOLS]);
});

test('defaults: the last hour, limit 200, nothing filtered', () => {
  assert.deepEqual(parse(''), { from: NOW - 3_600_000, to: NOW, namespace: null, pod: null, workload: null, binary: null, kinds: [], severities: [], node: null, limit: 200 });
});

test('times as ms or RFC 3339; repeated and comma-separated kinds', () => {
  const filters = parse('from=2026-12-02T07:30:00Z&to=1796198400000&kind=exec&kind=file,connect&severity=high&namespace=prod&limit=5000');
  assert.equal(filters.from, Date.parse('2026-12-02T07:30:00Z'));
  assert.equal(filters.to, 1796198400000);
  assert.deepEqual(filters.kinds, ['exec', 'file', 'connect']);
  assert.deepEqual(filters.severities, ['high']);
  assert.equal(filters.namespace, 'prod');
  assert.equal(filters.limit, 5000);
});

test('bad parameters are named', () => {
  assert.throws(() => parse('from=yesterday'), badParam('from'));
  assert.throws(() => parse('from=2026-12-02T09:00:00Z'), /from: .* is not before to/);
  assert.throws(() => parse('limit=5001'), badParam('limit'));
  assert.throws(() => parse('limit=0'), badParam('limit'));
  assert.throws(() => parse('kind=exec&kind=open'), /kind: "open": not one of exec, exit/);
  assert.throws(() => parse('severity=urgent'), badParam('severity'));
  assert.throws(() => parse('pod=a&pod=b'), /pod: given 2 times/);
});

test('file access needs exactly one of path and pathPrefix, absolute', () => {
  assert.deepEqual(parseFileAccessQuery(new URLSearchParams('path=/etc/passwd')), { path: '/etc/passwd', pathPrefix: null });
  assert.deepEqual(parseFileAccessQuery(new URLSearchParams('pathPrefix=/etc/')), { path: null, pathPrefix: '/etc/' });
  assert.throws(() => parseFileAccessQuery(new URLSearchParams('')), badParam('path'));
  assert.throws(() => parseFileAccessQuery(new URLSearchParams('path=/a&pathPrefix=/b')), badParam('path'));
  assert.throws(() => parseFileAccessQuery(new URLSearchParams('pathPrefix=etc')), badParam('pathPrefix'));
});

test('a process tree is a pod (namespace and pod) or a node', () => {
  assert.deepEqual(parseProcessTreeQuery(new URLSearchParams('namespace=a&pod=b')), { namespace: 'a', pod: 'b', node: null });
  assert.deepEqual(parseProcessTreeQuery(new URLSearchParams('node=n1')), { namespace: null, pod: null, node: 'n1' });
  assert.throws(() => parseProcessTreeQuery(new URLSearchParams('namespace=a')), badParam('pod'));
  assert.throws(() => parseProcessTreeQuery(new URLSearchParams('')), badParam('pod'));
});

test('filtersToQuery round-trips through parseFilters', () => {
  const filters = parse('from=1000&to=2000&kind=exec&kind=file&pod=web-1&limit=10');
  assert.deepEqual(parse(filtersToQuery(filters)), filters);
});
