import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '@stinger/log';
import { parseHostPort, serveMetrics } from './metrics-server.ts';
import { createProcessMetrics } from './process-metrics.ts';

test('/metrics serves the scrape, /healthz and /readyz 200 without checks, other paths 404, other methods 405', async () => {
  let scrapes = 0;
  const server = await serveMetrics({
    address: '127.0.0.1:0',
    logger: silentLogger(),
    scrape: async () => ({ body: `stinger_up ${++scrapes}\n`, contentType: 'text/plain; version=0.0.4' }),
  });
  try {
    const base = `http://127.0.0.1:${server.port}`;
    assert.equal(await (await fetch(`${base}/metrics`)).text(), 'stinger_up 1\n');
    assert.equal(await (await fetch(`${base}/metrics`)).text(), 'stinger_up 2\n');
    assert.deepEqual(await (await fetch(`${base}/healthz`)).json(), { live: true, checks: {} });
    assert.equal((await fetch(`${base}/readyz`)).status, 200);
    assert.equal((await fetch(`${base}/nope`)).status, 404);
    assert.equal((await fetch(`${base}/metrics`, { method: 'POST' })).status, 405);
  } finally {
    await server.stop();
  }
});

test('/readyz and /healthz follow the checks at every request, with their detail', async () => {
  let joined = false;
  let stuck = false;
  const server = await serveMetrics({
    address: '127.0.0.1:0',
    logger: silentLogger(),
    scrape: async () => ({ body: '', contentType: 'text/plain' }),
    health: { consumer: () => ({ live: !stuck, ready: joined, detail: { joined } }) },
  });
  try {
    const base = `http://127.0.0.1:${server.port}`;
    const starting = await fetch(`${base}/readyz`);
    assert.equal(starting.status, 503);
    assert.deepEqual(await starting.json(), { ready: false, checks: { consumer: { live: true, ready: false, detail: { joined: false } } } });
    assert.equal((await fetch(`${base}/healthz`)).status, 200, 'starting is not a reason to restart');
    joined = true;
    assert.equal((await fetch(`${base}/readyz`)).status, 200);
    stuck = true;
    assert.equal((await fetch(`${base}/healthz`)).status, 503);
    assert.equal((await fetch(`${base}/readyz`, { method: 'HEAD' })).status, 200);
  } finally {
    await server.stop();
  }
});

test('createProcessMetrics: process metrics and one ready and one live gauge per check', async () => {
  let ready = false;
  const metrics = createProcessMetrics({ consumer: () => ({ live: true, ready, detail: {} }) });
  assert.match((await metrics.scrape()).body, /stinger_health_check_ready\{check="consumer"\} 0/);
  ready = true;
  const { body } = await metrics.scrape();
  assert.match(body, /stinger_health_check_ready\{check="consumer"\} 1/);
  assert.match(body, /stinger_health_check_live\{check="consumer"\} 1/);
  assert.match(body, /nodejs_eventloop_lag_seconds/);
});

test('addresses are host:port', () => {
  assert.deepEqual(parseHostPort('[::1]:9464'), { host: '::1', port: 9464 });
  assert.throws(() => parseHostPort('nowhere'), /"nowhere" is not host:port/);
});
