import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatUpStatus, laggingConsumers, LAGGING_RECORDS, recordsPerSecond, StatusDisplay, STATUS_LINE_INTERVAL_MS, type UpStatus } from './up-status.ts';

const AT_MS = new Date(2026, 11, 2, 14, 3, 9).getTime();
const status = (overrides: Partial<UpStatus> = {}): UpStatus => ({
  atMs: AT_MS,
  servicesRunning: 5,
  servicesStarted: 5,
  eventsPerSecond: 84.4,
  alerts: 3,
  lagging: [],
  brokerError: null,
  ...overrides,
});

test('the status line: time, services, events/s, alerts, lag', () => {
  assert.equal(formatUpStatus(status()), '14:03:09  5/5 services running · 84 events/s · 3 alerts · no consumer lag');
  assert.equal(
    formatUpStatus(status({ servicesRunning: 4, eventsPerSecond: null, alerts: 1, lagging: [{ service: 'detector', lag: 1200 }] })),
    '14:03:09  4/5 services running · … events/s · 1 alert · lagging: detector 1200 behind',
  );
  assert.equal(formatUpStatus(status({ brokerError: 'Connection refused' })), '14:03:09  5/5 services running · broker not answering (Connection refused)');
});

test('events per second from two samples of the end offsets; none from one sample', () => {
  assert.equal(recordsPerSecond(null, { total: 100n, atMs: 1000 }), null);
  assert.equal(recordsPerSecond({ total: 100n, atMs: 1000 }, { total: 600n, atMs: 6000 }), 100);
  assert.equal(recordsPerSecond({ total: 600n, atMs: 1000 }, { total: 100n, atMs: 6000 }), 0, 'a recreated topic is no negative rate');
  assert.equal(recordsPerSecond({ total: 1n, atMs: 1000 }, { total: 5n, atMs: 1000 }), null);
});

test('only consumers at least LAGGING_RECORDS behind are named', () => {
  assert.deepEqual(laggingConsumers([{ service: 'enricher', lag: LAGGING_RECORDS - 1 }, { service: 'detector', lag: LAGGING_RECORDS }]), [{ service: 'detector', lag: LAGGING_RECORDS }]);
});

test('without a terminal a status is printed at most once a minute; other lines always', () => {
  const lines: string[] = [];
  const display = new StatusDisplay({ out: (line) => lines.push(line) });
  display.status('s1', 0);
  display.status('s2', STATUS_LINE_INTERVAL_MS - 1);
  display.line('agent stopped (exit code 1)');
  display.status('s3', STATUS_LINE_INTERVAL_MS);
  display.finish();
  assert.deepEqual(lines, ['s1', 'agent stopped (exit code 1)', 's3']);
});

test('on a terminal the status is redrawn in place, and other lines are printed above it', () => {
  const written: string[] = [];
  const display = new StatusDisplay({ out: (line) => written.push(`${line}\n`), redraw: (text) => written.push(text) });
  display.line('before any status');
  display.status('s1', 0);
  display.status('s2', 1);
  display.line('enricher stopped (exit code 1)');
  display.finish();
  assert.equal(written.join(''), 'before any status\n\r\x1b[2Ks1\r\x1b[2Ks2\r\x1b[2Kenricher stopped (exit code 1)\ns2\r\x1b[2Ks2\n');
});

test('on a terminal a status wider than it is cut, so that it stays on one line', () => {
  const written: string[] = [];
  const display = new StatusDisplay({ out: (line) => written.push(`${line}\n`), redraw: (text) => written.push(text), width: () => 10 });
  display.status('0123456789abc', 0);
  assert.deepEqual(written, ['\r\x1b[2K01234567…']);
});
