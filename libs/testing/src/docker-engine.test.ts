import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dockerEndpoint, dockerEngineAnswers } from './docker-engine.ts';

test('dockerEndpoint reads DOCKER_HOST and reports nothing when no socket file exists', () => {
  assert.deepEqual(dockerEndpoint({ DOCKER_HOST: 'tcp://127.0.0.1:2375' }), { host: '127.0.0.1', port: 2375 });
  assert.equal(dockerEndpoint({ DOCKER_HOST: 'unix:///nonexistent/docker.sock' }), null);
  assert.equal(dockerEndpoint({ DOCKER_HOST: 'ssh://somewhere' }), null);
});

test('dockerEndpoint prefers the rootless socket in XDG_RUNTIME_DIR when it exists', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'stinger-docker-runtime-'));
  try {
    await writeFile(join(dir, 'docker.sock'), '');
    assert.deepEqual(dockerEndpoint({ XDG_RUNTIME_DIR: dir }), { socketPath: join(dir, 'docker.sock') });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('dockerEngineAnswers says no at once without an endpoint', async () => {
  const began = Date.now();
  assert.equal(await dockerEngineAnswers(null), false);
  assert.ok(Date.now() - began < 50);
});

test('dockerEngineAnswers says yes to an engine answering _ping with OK over a unix socket', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'stinger-docker-probe-'));
  const socketPath = join(dir, 'docker.sock');
  const server = createServer((req, res) => res.end(req.url === '/_ping' ? 'OK' : 'no'));
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  try {
    assert.equal(await dockerEngineAnswers({ socketPath }), true);
  } finally {
    server.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('dockerEngineAnswers gives up within its timeout on a socket that never answers', async () => {
  const server = createTcpServer(() => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  try {
    const began = Date.now();
    assert.equal(await dockerEngineAnswers({ host: '127.0.0.1', port: address.port }, 300), false);
    assert.ok(Date.now() - began < 1000, `took ${Date.now() - began} ms`);
  } finally {
    server.close();
  }
});

test('this machine has no Docker engine, and finding that out takes well under a second', async () => {
  const began = Date.now();
  const answers = await dockerEngineAnswers();
  if (answers) return; // a machine with Docker: nothing to check here
  assert.ok(Date.now() - began < 1000, `took ${Date.now() - began} ms`);
});
