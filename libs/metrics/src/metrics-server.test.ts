import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '@stinger/log';
import { parseHostPort, serveMetrics } from './metrics-server.ts';

test('/metrics serves the scrape, /healthz ok, other paths 404, other methods 405', async () => {
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
    assert.equal(await (await fetch(`${base}/healthz`)).text(), 'ok');
    assert.equal((await fetch(`${base}/nope`)).status, 404);
    assert.equal((await fetch(`${base}/metrics`, { method: 'POST' })).status, 405);
  } finally {
    await server.stop();
  }
});

test('addresses are host:port', () => {
  assert.deepEqual(parseHostPort('[::1]:9464'), { host: '::1', port: 9464 });
  assert.throws(() => parseHostPort('nowhere'), /"nowhere" is not host:port/);
});
