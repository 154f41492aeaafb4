/**
 * The one real-broker test of this library: resolves the pinned jars into the configured cache (a no-op when already
 * there), starts one detached broker, and drives it the way `stinger up --detach` / `stinger down` will.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@stinger/config';
import { silentLogger } from '@stinger/log';
import { probeApiVersions } from './api-versions-probe.ts';
import { isAlive, isPortFree } from '@stinger/processes';
import { readRunningBroker, scramFormatArguments, startLocalBroker, stopRunningBroker } from './local-broker.ts';

const API_KEYS = { metadata: 3, apiVersions: 18, createTopics: 19 };

test('a detached local broker answers ApiVersions, is found through its state dir, and stops releasing its port', { timeout: 240_000 }, async () => {
  const root = await mkdtemp(join(tmpdir(), 'stinger-local-broker-test-'));
  const stateDir = join(root, 'state');
  const broker = await startLocalBroker({
    cacheDir: loadConfig().cacheDir,
    dataDir: join(root, 'data'),
    stateDir,
    detached: true,
    logger: silentLogger(),
  });
  try {
    assert.equal(broker.brokers, `127.0.0.1:${broker.port}`);
    const answer = await probeApiVersions({ host: '127.0.0.1', port: broker.port });
    assert.equal(answer.errorCode, 0);
    const keys = answer.apis.map((api) => api.apiKey);
    for (const key of Object.values(API_KEYS)) assert.ok(keys.includes(key), `api ${key} offered`);
    assert.ok(existsSync(broker.logFile), 'broker writes its log4j2 log into the data dir');

    assert.deepEqual(await readRunningBroker(stateDir), { pid: broker.pid, port: broker.port, brokers: broker.brokers, podBrokers: null });
    assert.equal(await stopRunningBroker(stateDir), true);

    assert.equal(isAlive(broker.pid), false, 'broker process is gone');
    assert.equal(await isPortFree(broker.port, '127.0.0.1'), true, 'client port released');
    assert.equal(await isPortFree(broker.controllerPort, '127.0.0.1'), true, 'controller port released');
    assert.equal(existsSync(join(stateDir, 'broker.pid')), false, 'pid file removed');
    assert.equal(await readRunningBroker(stateDir), null);
    assert.equal(await stopRunningBroker(stateDir), false, 'nothing left to stop');
  } finally {
    await broker.stop();
    await rm(root, { recursive: true, force: true });
  }
});

test('scramFormatArguments: one --add-scram per user and SCRAM mechanism; unwritable passwords refused', () => {
  assert.deepEqual(scramFormatArguments([{ name: 'alice', password: 'pw' }]), [
    '--add-scram',
    'SCRAM-SHA-256=[name=alice,password=pw]',
    '--add-scram',
    'SCRAM-SHA-512=[name=alice,password=pw]',
  ]);
  assert.throws(() => scramFormatArguments([{ name: 'alice', password: 'a,b' }]), /cannot be written/);
});
