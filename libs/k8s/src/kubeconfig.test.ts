import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { loadConfig, processEnvironment } from '@stinger/config';
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

/** What client-node's own loader makes of `env` (it reads the process environment, so that is set for the call). */
function loadFromDefault(env: Readonly<Record<string, string>>): string {
  const processEnv = processEnvironment() as NodeJS.ProcessEnv;
  const saved = { KUBECONFIG: processEnv['KUBECONFIG'], HOME: processEnv['HOME'] };
  try {
    delete processEnv['KUBECONFIG'];
    Object.assign(processEnv, env);
    const kubeConfig = new KubeConfig();
    // contextFromStartingConfig: the first file that names a current context keeps it, as kubectl does.
    kubeConfig.loadFromDefault(undefined, true);
    return kubeConfig.exportConfig();
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete processEnv[name];
      else processEnv[name] = value;
    }
  }
}

test('loadKubeConfig loads what client-node\'s loadFromDefault loads: KUBECONFIG (merged), else ~/.kube/config', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kubeconfig-default-'));
  const write = (path: string, name: string, port: number) =>
    writeFileSync(
      path,
      [
        'apiVersion: v1',
        'kind: Config',
        `clusters: [{ name: ${name}, cluster: { server: "https://127.0.0.1:${port}" } }]`,
        `users: [{ name: ${name}, user: { token: t-${name} } }]`,
        `contexts: [{ name: ${name}, context: { cluster: ${name}, user: ${name} } }]`,
        `current-context: ${name}`,
      ].join('\n'),
    );
  mkdirSync(join(dir, 'home', '.kube'), { recursive: true });
  write(join(dir, 'home', '.kube', 'config'), 'home', 6001);
  write(join(dir, 'a'), 'a', 6002);
  write(join(dir, 'b'), 'b', 6003);
  const cases: Array<Readonly<Record<string, string>>> = [{ HOME: join(dir, 'home') }, { HOME: join(dir, 'home'), KUBECONFIG: `${join(dir, 'a')}:${join(dir, 'b')}` }];
  for (const env of cases) {
    const ours = loadKubeConfig(loadConfig(env));
    assert.notEqual(ours, null);
    assert.equal(ours?.exportConfig(), loadFromDefault(env), JSON.stringify(env));
  }
  assert.equal(loadKubeConfig(loadConfig({ HOME: join(dir, 'home') }))?.getCurrentCluster()?.server, 'https://127.0.0.1:6001');
  assert.equal(loadKubeConfig(loadConfig({ HOME: join(dir, 'home'), KUBECONFIG: join(dir, 'b') }))?.getCurrentCluster()?.server, 'https://127.0.0.1:6003');
  assert.equal(loadKubeConfig(loadConfig({ HOME: join(dir, 'nobody') })), null, 'no file and no service account: no cluster');
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
