import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alertMessage, baseName, countOf, eventWhat, formatCommand, formatAgo, formatAncestry, formatBytes, formatCount, formatEndpoint, formatFileIo, formatOutcome, formatPod, formatTime, outcomeTone } from './format.ts';

const NOW = Date.parse('2026-12-02T12:00:00Z');

test('times of the same UTC day show the clock, others the date too', () => {
  assert.equal(formatTime(Date.parse('2026-12-02T09:03:07.500Z'), NOW), '09:03:07');
  assert.equal(formatTime(Date.parse('2026-11-30T23:59:00Z'), NOW), 'Nov 30 23:59');
});

test('relative times', () => {
  assert.equal(formatAgo(NOW + 500, NOW), 'just now');
  assert.equal(formatAgo(NOW - 5_000, NOW), '5 s ago');
  assert.equal(formatAgo(NOW - 3 * 60_000, NOW), '3 min ago');
  assert.equal(formatAgo(NOW - 2 * 3_600_000, NOW), '2 h ago');
  assert.equal(formatAgo(NOW - 4 * 86_400_000, NOW), '4 d ago');
});

test('bytes and counts', () => {
  assert.equal(formatBytes(null), '—');
  assert.equal(formatBytes(512), '512 B');
  assert.equal(formatBytes(1536), '1.5 KiB');
  assert.equal(formatBytes(12 * 1024 * 1024), '12 MiB');
  assert.equal(formatCount(999), '999');
  assert.equal(formatCount(1234), '1.2k');
  assert.equal(formatCount(34_567), '35k');
  assert.equal(formatCount(1_500_000), '1.5M');
});

test('processes, pods and endpoints', () => {
  assert.equal(baseName('/usr/bin/cat'), 'cat');
  assert.equal(baseName('cat'), 'cat');
  assert.equal(formatAncestry('/usr/bin/cat', ['/bin/sh', '/usr/bin/containerd-shim']), 'cat ← sh ← containerd-shim');
  assert.equal(formatPod('shop', 'web-1'), 'shop/web-1');
  assert.equal(formatPod(null, null), 'host');
  assert.equal(formatEndpoint('10.0.0.1', 443), '10.0.0.1:443');
  assert.equal(formatEndpoint('2001:db8::1', 443), '[2001:db8::1]:443');
  assert.equal(formatEndpoint('10.0.0.1', null), '10.0.0.1');
});

test('an outcome says whether the process was stopped, allowed on purpose, or not reached', () => {
  assert.equal(outcomeTone('killed'), 'stopped');
  assert.equal(outcomeTone('killed_in_kernel'), 'stopped');
  assert.equal(outcomeTone('denied_in_kernel'), 'stopped');
  assert.equal(outcomeTone('monitor_only'), 'allowed');
  assert.equal(outcomeTone('dry_run'), 'allowed');
  assert.equal(outcomeTone('timed_out'), 'failed');
  assert.equal(outcomeTone('target_gone'), 'failed');
  assert.equal(outcomeTone(null), 'pending');
  assert.equal(formatOutcome('killed_in_kernel'), 'killed in kernel');
});

test('an alert message loses the policy/rule prefix the table shows already, and only that', () => {
  assert.equal(alertMessage({ policy: 'p', rule: 'r', message: 'p/r: /usr/bin/cat open /etc/shadow' }), '/usr/bin/cat open /etc/shadow');
  assert.equal(alertMessage({ policy: 'p', rule: 'r', message: 'cat read /etc/shadow' }), 'cat read /etc/shadow');
});

test('what an event did leaves out the time, node and kind its summary starts with', () => {
  const summary = '2026-12-02T07:03:57.774693067Z node-a exec      pid=42 /usr/bin/true marker';
  assert.equal(eventWhat({ summary, node: 'node-a', kind: 'exec' }), 'pid=42 /usr/bin/true marker');
  assert.equal(eventWhat({ summary, node: 'node-b', kind: 'exec' }), summary, 'another shape is kept whole');
  assert.equal(eventWhat({ summary: 'open /etc/passwd', node: 'n', kind: 'file' }), 'open /etc/passwd');
});

test('counted nouns and command lines', () => {
  assert.equal(countOf(1, 'connection'), '1 connection');
  assert.equal(countOf(1200, 'connection'), '1.2k connections');
  assert.equal(countOf(2, 'access', 'accesses'), '2 accesses');
  assert.equal(formatCommand('/usr/bin/curl', '-s http://x/'), 'curl -s http://x/');
  assert.equal(formatCommand('/usr/bin/true', null), 'true');
});

test('formatFileIo says what went through the opens', () => {
  assert.equal(formatFileIo({ bytesRead: 2150, bytesWritten: 0, closes: 14 }), 'read 2.1 KiB in 14 opens');
  assert.equal(formatFileIo({ bytesRead: 0, bytesWritten: 10, closes: 1 }), 'read 0 B, wrote 10 B in 1 open');
});
