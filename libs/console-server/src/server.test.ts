import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventRow, EventsResponse, FileAccessResponse } from '@stinger/console-api';
import { ConsoleStore } from '@stinger/console-store';
import { createLogger } from '@stinger/log';
import { sampleEvent } from '@stinger/testing';
import { bearerMatches, inProcessQueries, NOT_BUILT_PAGE, startConsoleServer, type ConsoleServer } from './index.ts';

const NOW = Date.parse('2026-12-02T08:00:00Z');
const TOKEN = 'test-token-0123456789';
const logger = createLogger({ name: 'console-server-test', level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'console-server-'));
const webDir = join(dir, 'dist');
const store = new ConsoleStore({ path: ':memory:', retentionMs: 3_600_000, maxEvents: 100 });
let ready = false;
let open: ConsoleServer;
let guarded: ConsoleServer;

const fileEvent = (seq: bigint, pod: string | null) =>
  sampleEvent({
    seq,
    time: BigInt(NOW - 1000) * 1_000_000n,
    kind: 'file',
    process: { binary: '/usr/bin/cat' },
    payload: { group: 'file', op: 'open', path: '/etc/passwd', path_as_given: '/etc/passwd', new_path: null, flags: 0, mode: null, result: 3, reached_by: null, io: null },
    pod:
      pod === null
        ? null
        : { namespace: 'shop', name: pod, uid: pod, labels: {}, annotations: {}, workload: null, workload_kind: null, container: null },
  });

before(async () => {
  const common = { webDir, logger, readiness: () => ({ ready, detail: { lag: ready ? 0 : 5 } }), now: () => NOW, pingIntervalMs: 50 };
  open = await startConsoleServer({ ...common, queries: inProcessQueries(store), address: '127.0.0.1:0', token: null });
  guarded = await startConsoleServer({ ...common, queries: inProcessQueries(store), address: '127.0.0.1:0', token: TOKEN });
  store.ingestEvents([fileEvent(1n, 'web-1')], NOW);
});

after(async () => {
  await open.stop();
  await guarded.stop();
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

test('an endpoint answers its JSON; the filters apply', async () => {
  const response = await fetch(`${open.url}/api/v1/file-access?path=/etc/passwd`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /application\/json/);
  const body = (await response.json()) as FileAccessResponse;
  assert.deepEqual(body.rows.map((r) => [r.pod, r.binary, r.flags, r.count]), [['web-1', '/usr/bin/cat', 'O_RDONLY', 1]]);
  const none = (await (await fetch(`${open.url}/api/v1/events?pod=web-2`)).json()) as EventsResponse;
  assert.deepEqual(none.events, []);
});

test('a bad parameter is a 400 naming it; an unknown endpoint 404; another method 405', async () => {
  const bad = await fetch(`${open.url}/api/v1/events?limit=lots`);
  assert.equal(bad.status, 400);
  assert.match(((await bad.json()) as { error: string }).error, /^limit: "lots"/);
  const missing = await fetch(`${open.url}/api/v1/file-access`);
  assert.equal(missing.status, 400);
  assert.match(((await missing.json()) as { error: string }).error, /^path: /);
  assert.equal((await fetch(`${open.url}/api/v1/nothing`)).status, 404);
  assert.equal((await fetch(`${open.url}/api/v1/events`, { method: 'POST' })).status, 405);
});

test('with a token: /api needs the bearer token (401 without or wrong), the page and probes do not', async () => {
  assert.equal((await fetch(`${guarded.url}/api/v1/events`)).status, 401);
  assert.equal((await fetch(`${guarded.url}/api/v1/events`, { headers: { authorization: `Bearer ${TOKEN}x` } })).status, 401);
  assert.equal((await fetch(`${guarded.url}/api/v1/stream`)).status, 401);
  assert.equal((await fetch(`${guarded.url}/api/v1/events`, { headers: { authorization: `Bearer ${TOKEN}` } })).status, 200);
  assert.equal((await fetch(`${guarded.url}/`)).status, 200);
  assert.equal((await fetch(`${guarded.url}/healthz`)).status, 200);
  assert.equal(bearerMatches('Bearer ', ''), false, 'an empty token never matches');
});

test('/readyz follows readiness; /healthz is always 200', async () => {
  ready = false;
  const notReady = await fetch(`${open.url}/readyz`);
  assert.equal(notReady.status, 503);
  assert.deepEqual(await notReady.json(), { ready: false, lag: 5 });
  ready = true;
  assert.equal((await fetch(`${open.url}/readyz`)).status, 200);
  assert.equal((await fetch(`${open.url}/healthz`)).status, 200);
});

test('the page: a plain page while the front end is not built, then its files; nothing outside the directory', async () => {
  assert.equal(await (await fetch(`${open.url}/`)).text(), NOT_BUILT_PAGE);
  mkdirSync(join(webDir, 'assets'), { recursive: true });
  writeFileSync(join(webDir, 'index.html'), '<html>built</html>');
  writeFileSync(join(webDir, 'assets', 'app.js'), 'console.log(1)');
  writeFileSync(join(dir, 'secret.txt'), 'secret');
  assert.equal(await (await fetch(`${open.url}/`)).text(), '<html>built</html>');
  assert.equal(await (await fetch(`${open.url}/alerts`)).text(), '<html>built</html>', 'a route of the page');
  const script = await fetch(`${open.url}/assets/app.js`);
  assert.match(script.headers.get('content-type') ?? '', /javascript/);
  assert.equal(await script.text(), 'console.log(1)');
  assert.equal((await fetch(`${open.url}/assets/missing.js`)).status, 404);
  assert.equal((await fetch(`${open.url}/..%2fsecret.txt`)).status, 404);
});

/** Reads Server-Sent Events from `url` until `count` messages (pings included) arrived. */
async function readStream(url: string, count: number, whileOpen: () => void): Promise<string[]> {
  const controller = new AbortController();
  const response = await fetch(url, { signal: controller.signal });
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /text\/event-stream/);
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  whileOpen();
  const messages: string[] = [];
  while (messages.length < count) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
    const parts = text.split('\n\n');
    text = parts.pop() ?? '';
    messages.push(...parts.filter((p) => p !== ': connected'));
  }
  controller.abort();
  return messages;
}

test('the stream: rows published after subscribing that match its filters, and pings', async () => {
  const messages = await readStream(`${open.url}/api/v1/stream?pod=web-9`, 3, () => {
    setTimeout(() => {
      for (const [row] of [store.ingestEvents([fileEvent(2n, 'web-8')], NOW), store.ingestEvents([fileEvent(3n, 'web-9')], NOW)]) {
        if (row) open.publish({ type: 'event', row });
      }
      open.publish({ type: 'enforcement', row: { alertId: 'a1', outcome: 'killed', reason: null, time: NOW } });
    }, 20);
  });
  const events = messages.filter((m) => m.startsWith('event: event\n'));
  assert.equal(events.length, 1, 'only the matching pod');
  const row = JSON.parse(events[0]!.split('\ndata: ')[1]!) as EventRow;
  assert.equal(row.pod, 'web-9');
  assert.ok(messages.some((m) => m.startsWith('event: enforcement\n')));
  const pings = await readStream(`${open.url}/api/v1/stream`, 1, () => undefined);
  assert.deepEqual(pings, [': ping']);
});
