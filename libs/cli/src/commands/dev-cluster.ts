/**
 * `stinger dev-cluster up | down`: a real Kubernetes API server (etcd + kube-apiserver, built from their
 * pinned Go modules and cached) on 127.0.0.1, for developing and testing the enricher without a
 * cluster. `up` prints the kubeconfig path; `down` stops both processes.
 */
import { join } from 'node:path';
import type { StingerConfig } from '@stinger/config';
import { DEV_CLUSTER_DIR_NAME, readRunningDevCluster, startDevCluster, stopRunningDevCluster } from '@stinger/dev-cluster';
import type { Logger } from '@stinger/log';
import { buildDevClusterTools } from '../setup.ts';

export function devClusterDir(config: StingerConfig): string {
  return join(config.home, DEV_CLUSTER_DIR_NAME);
}

export async function devClusterUp(config: StingerConfig, logger: Logger, out: (line: string) => void): Promise<number> {
  const stateDir = devClusterDir(config);
  const running = await readRunningDevCluster(stateDir);
  if (running) {
    out(`a dev cluster is already running at ${running.server}`);
    out(`KUBECONFIG=${running.kubeconfigPath}`);
    return 0;
  }
  out('starting etcd and kube-apiserver (the first start builds them from their Go modules; later starts use the cache) ...');
  // Built (or found cached) first, so a first start shows the builds' progress; startDevCluster then finds them cached.
  await buildDevClusterTools({ config, logger, out });
  const cluster = await startDevCluster({ cacheDir: config.cacheDir, stateDir, logger, detached: true });
  out(`Kubernetes ${cluster.kubernetesVersion} API server ready at ${cluster.server} in ${(cluster.startupMs / 1000).toFixed(1)} s (etcd ${cluster.etcdVersion})`);
  out(`KUBECONFIG=${cluster.kubeconfigPath}`);
  return 0;
}

export async function devClusterDown(config: StingerConfig, out: (line: string) => void): Promise<number> {
  out((await stopRunningDevCluster(devClusterDir(config))) ? 'dev cluster: stopped' : 'no dev cluster was running');
  return 0;
}
