import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { freePort, isPortFree } from '@stinger/processes';
import { chooseBrokerPorts } from './ports.ts';
import { BrokerStartError } from './errors.ts';

const HOST = '127.0.0.1';

async function occupy(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  return { server, port: address.port };
}

test('chooseBrokerPorts takes the preferred port when it is free', async () => {
  const preferredPort = await freePort(HOST);
  const ports = await chooseBrokerPorts({ host: HOST, preferredPort });
  assert.equal(ports.port, preferredPort);
  assert.equal(ports.fellBack, false);
  assert.notEqual(ports.controllerPort, ports.port);
});

test('chooseBrokerPorts falls back to another free port when the preferred one is taken, and says so', async () => {
  const { server, port: taken } = await occupy();
  try {
    const ports = await chooseBrokerPorts({ host: HOST, preferredPort: taken });
    assert.notEqual(ports.port, taken);
    assert.equal(ports.fellBack, true);
    assert.equal(await isPortFree(ports.port, HOST), true);
  } finally {
    server.close();
  }
});

test('chooseBrokerPorts refuses an explicitly requested port that is taken', async () => {
  const { server, port: taken } = await occupy();
  try {
    await assert.rejects(chooseBrokerPorts({ host: HOST, port: taken }), (error: unknown) => {
      assert.ok(error instanceof BrokerStartError);
      assert.match(error.message, new RegExp(`${taken} was asked for but is already in use`));
      return true;
    });
  } finally {
    server.close();
  }
});
