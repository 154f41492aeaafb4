import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DisabledPodIndex, NO_CLUSTER_REASON } from './disabled-pod-index.ts';
import { loadKubeConfig } from './kubeconfig.ts';

test('loadKubeConfig: none → null; a kubeconfig file; in-cluster from the service host and token file', () => {
  assert.equal(loadKubeConfig({ kubeconfig: { kind: 'none' } }), null);
  const dir = mkdtempSync(join(tmpdir(), 'kubeconfig-'));
  const path = join(dir, 'config');
  writeFileSync(
    path,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters: [{ name: dev, cluster: { server: "https://127.0.0.1:6443", insecure-skip-tls-verify: true } }]',
      'users: [{ name: dev, user: { token: abc } }]',
      'contexts: [{ name: dev, context: { cluster: dev, user: dev } }]',
      'current-context: dev',
    ].join('\n'),
  );
  assert.equal(loadKubeConfig({ kubeconfig: { kind: 'file', paths: [path] } })?.getCurrentCluster()?.server, 'https://127.0.0.1:6443');
  const inCluster = loadKubeConfig({ kubeconfig: { kind: 'in-cluster', host: 'fd00::1', port: 443, tokenPath: '/t', caPath: '/ca' } });
  assert.equal(inCluster?.getCurrentCluster()?.server, 'https://[fd00::1]:443');
});

test('DisabledPodIndex misses every lookup and says why', async () => {
  const index = new DisabledPodIndex();
  await index.start();
  assert.equal(index.mode, 'disabled');
  assert.equal(index.disabledReason, NO_CLUSTER_REASON);
  assert.equal(index.byContainerId('a'.repeat(64)), null);
  assert.equal(index.byPodUid('u'), null);
  assert.equal(await index.waitForSync(), true);
  await index.stop();
});
