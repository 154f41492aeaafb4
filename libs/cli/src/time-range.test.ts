import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CliError } from './errors.ts';
import { parseTime, timeRange } from './time-range.ts';

const NOW = Date.parse('2026-12-02T08:00:00Z');

test('parseTime: durations back from now, now, RFC 3339; anything else is a usage error naming the flag', () => {
  assert.equal(parseTime('--from', '10m', NOW), NOW - 600_000);
  assert.equal(parseTime('--from', '1d', NOW), NOW - 86_400_000);
  assert.equal(parseTime('--to', 'now', NOW), NOW);
  assert.equal(parseTime('--from', '2026-12-02T07:30:00Z', NOW), NOW - 1_800_000);
  assert.throws(() => parseTime('--to', 'yesterday', NOW), (error: unknown) => error instanceof CliError && error.exitCode === 2 && /^--to "yesterday"/.test(error.message));
  assert.throws(() => parseTime('--from', '12', NOW), CliError, 'a bare number is not a time');
});

test('timeRange: bounded reads default to the last 10 minutes up to the end; --since is --from', () => {
  assert.deepEqual(timeRange({}, { now: NOW, defaultFrom: '10m' }), { fromMs: NOW - 600_000, toMs: null, follow: false });
  assert.deepEqual(timeRange({ since: '1h', to: '30m' }, { now: NOW, defaultFrom: '10m' }), { fromMs: NOW - 3_600_000, toMs: NOW - 1_800_000, follow: false });
  assert.throws(() => timeRange({}, { now: NOW, defaultFrom: null }), /--from is required/);
  assert.throws(() => timeRange({ from: '10m', to: '1h' }, { now: NOW, defaultFrom: null }), /--to .* is not after --from/);
  assert.throws(() => timeRange({ from: '1h', since: '1h' }, { now: NOW, defaultFrom: null }), /same option/);
});

test('timeRange: --follow starts at --from or at new records, and refuses --to', () => {
  assert.deepEqual(timeRange({ follow: true }, { now: NOW, defaultFrom: '10m' }), { fromMs: null, toMs: null, follow: true });
  assert.deepEqual(timeRange({ follow: true, since: '5m' }, { now: NOW, defaultFrom: '10m' }), { fromMs: NOW - 300_000, toMs: null, follow: true });
  assert.throws(() => timeRange({ follow: true, to: 'now' }, { now: NOW, defaultFrom: '10m' }), (error: unknown) => error instanceof CliError && error.exitCode === 2);
});
