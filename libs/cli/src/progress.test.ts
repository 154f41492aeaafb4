import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createProgress, formatCount, formatDuration, formatProgress } from './progress.ts';

test('formatProgress: count, share, rate and ETA; counts and times for people', () => {
  assert.equal(formatProgress({ label: 'replay', done: 1_200_000, total: 3_600_000, elapsedMs: 4000, unit: 'events' }), 'replay 1.20M/3.60M events 33% 300.0k/s ETA 8s');
  assert.equal(formatProgress({ label: 'export', done: 12_345, total: null, elapsedMs: 3000, unit: 'records' }), 'export 12.3k records 4.12k/s 3s');
  assert.equal(formatProgress({ label: 'building etcd', done: 0, total: 300_000, elapsedMs: 72_000, unit: null }), 'building etcd 1m12s of ≈5m00s');
  assert.equal(formatCount(950), '950');
  assert.equal(formatDuration(3_725_000), '1h02m');
});

test('progress is redrawn in place on a terminal and cleared at the end; silent when stderr is not a terminal', () => {
  const written: string[] = [];
  let clock = 0;
  const tty = { isTTY: true, write: (text: string) => written.push(text) > 0 };
  const progress = createProgress({ label: 'replay', unit: 'events', total: 100, stream: tty, intervalMs: 250, now: () => clock });
  clock = 1000;
  progress.update(50);
  clock = 1100;
  progress.update(60); // within the interval: not redrawn
  progress.finish();
  assert.deepEqual(written, ['\rreplay 50/100 events 50% 50/s ETA 1s', `\r${' '.repeat(36)}\r`]);

  const piped: string[] = [];
  const silent = createProgress({ label: 'replay', unit: 'events', total: 100, stream: { isTTY: false, write: (text: string) => piped.push(text) > 0 } });
  silent.update(50);
  silent.finish();
  assert.deepEqual(piped, []);
});
