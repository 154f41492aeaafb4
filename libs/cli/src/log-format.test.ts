import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { followLogFiles, formatLogLine } from './log-format.ts';

// Local time of day, as the formatter prints it.
const TIME_MS = new Date(2026, 11, 2, 9, 5, 7, 42).getTime();

test('a pino line: time of day, level, service, namespace and message, then the key fields', () => {
  const line = JSON.stringify({ level: 40, time: TIME_MS, pid: 7, hostname: 'h', name: 'detector', ns: 'PartitionDetector', policy: 'deny-shadow', count: 3, path: '/etc/my file', msg: 'alert raised' });
  assert.equal(formatLogLine('detector', line, { colour: false }), '09:05:07.042 WARN  detector  PartitionDetector: alert raised policy=deny-shadow count=3 path="/etc/my file"');
});

test('an error field shows its type and message, not its stack; long values are cut', () => {
  const line = JSON.stringify({ level: 50, time: TIME_MS, msg: 'ack not published', err: { type: 'KafkaJSError', message: 'broker away', stack: 'Error: broker away\n    at x' }, detail: 'x'.repeat(300) });
  const formatted = formatLogLine('agent', line, { colour: false });
  assert.match(formatted, /^09:05:07\.042 ERROR agent  ack not published err="KafkaJSError: broker away" detail=x+…$/);
  assert.doesNotMatch(formatted, /at x/);
  assert.ok(!formatted.includes('x'.repeat(150)), 'the 300-character value is cut');
});

test('colour marks the level only; a line that is not pino JSON passes as it is', () => {
  const line = JSON.stringify({ level: 30, time: TIME_MS, msg: 'enricher running' });
  assert.equal(formatLogLine('enricher', line, { colour: true }), '09:05:07.042 \x1b[32mINFO \x1b[0m enricher  enricher running');
  assert.equal(formatLogLine('agent', '    at main (file:///x.ts:1:1)', { colour: false }), `${' '.repeat(18)} agent      at main (file:///x.ts:1:1)`);
  assert.match(formatLogLine('agent', '[1,2]', { colour: false }), /agent  \[1,2\]$/);
});

test('the follower hands over whole new lines only, from where each file ended when it started', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'stinger-log-follow-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const a = join(dir, 'a.log');
  const b = join(dir, 'b.log');
  writeFileSync(a, 'old line\n');
  const seen: string[] = [];
  const follower = followLogFiles([{ service: 'a', file: a }, { service: 'b', file: b }], (service, line) => seen.push(`${service}:${line}`));
  follower.poll();
  assert.deepEqual(seen, [], 'what was there before is not repeated; a missing file is no error');
  appendFileSync(a, 'one\ntw');
  writeFileSync(b, 'b1\n');
  follower.poll();
  assert.deepEqual(seen, ['a:one', 'b:b1']);
  appendFileSync(a, 'o\n\n€ three\n');
  follower.poll();
  assert.deepEqual(seen, ['a:one', 'b:b1', 'a:two', 'a:€ three']);
});

test('the follower starts at a given offset: what a service wrote before the follower began is not lost', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'stinger-log-follow-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'agent.log');
  writeFileSync(file, 'previous run\n');
  const offset = 'previous run\n'.length;
  appendFileSync(file, 'first line of this run\n');
  const seen: string[] = [];
  followLogFiles([{ service: 'agent', file, offset }], (_service, line) => seen.push(line)).poll();
  assert.deepEqual(seen, ['first line of this run']);
});
