/**
 * `stinger dev-cluster up [--with-node] | down`: a real Kubernetes API server (etcd + kube-apiserver, built from their
 * pinned Go modules and cached) on 127.0.0.1, for developing and testing the enricher without a cluster; with
 * `--with-node` also kube-controller-manager, kube-scheduler, containerd and a kubelet, so workloads run real pods on
 * this machine (`stinger images build --node` puts Stinger's images on it). `up` prints each step with its duration
 * and the kubeconfig path; `down` stops the node (restoring the host) and then the API server.
 */
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import type { StingerConfig } from '@stinger/config';
import {
  DEV_CLUSTER_DIR_NAME,
  nodeContainerdSocket,
  readRunningDevCluster,
  startDevCluster,
  startNode,
  stopNode,
  stopRunningDevCluster,
  type DevCluster,
} from '@stinger/dev-cluster';
import type { Logger } from '@stinger/log';
import { CliError } from '../errors.ts';
import { ensurePrerequisites, NODE_PREREQUISITES } from '../prerequisites.ts';
import { buildDevClusterTools } from '../setup.ts';

/** The dev cluster's one node. No test names it: a kubelet adopts every pod bound to its name. */
export const DEV_NODE_NAME = 'stinger-dev-node';

export function devClusterDir(config: StingerConfig): string {
  return join(config.home, DEV_CLUSTER_DIR_NAME);
}

/** The running dev cluster's node's containerd socket, or a CliError saying how to start one. */
export async function runningNodeSocket(config: StingerConfig): Promise<string> {
  const stateDir = devClusterDir(config);
  const socket = nodeContainerdSocket(stateDir);
  const running = await readRunningDevCluster(stateDir);
  if (!running || !(await access(socket).then(() => true, () => false))) {
    throw new CliError('no dev cluster node is running (start one with: stinger dev-cluster up --with-node)');
  }
  return socket;
}

export interface DevClusterUpOptions {
  readonly config: StingerConfig;
  readonly logger: Logger;
  readonly out: (line: string) => void;
  readonly withNode: boolean;
}

export async function devClusterUp(options: DevClusterUpOptions): Promise<number> {
  const { config, logger, out, withNode } = options;
  const stateDir = devClusterDir(config);
  const running = await readRunningDevCluster(stateDir);
  if (running) {
    out(`a dev cluster is already running at ${running.server}${withNode ? ' (stop it with stinger dev-cluster down, then up --with-node)' : ''}`);
    out(`KUBECONFIG=${running.kubeconfigPath}`);
    return withNode ? 1 : 0;
  }
  if (withNode) {
    if (process.getuid?.() !== 0) throw new CliError('dev-cluster up --with-node must run as root (a kubelet and containerd manage cgroups, mounts and networks)');
    ensurePrerequisites(NODE_PREREQUISITES, logger);
  }
  out('starting etcd and kube-apiserver (the first start builds them from their Go modules; later starts use the cache) ...');
  // Built (or found cached) first, so a first start shows the builds' progress; startDevCluster then finds them cached.
  await buildDevClusterTools({ config, logger, out });
  const cluster = await startDevCluster({ cacheDir: config.cacheDir, stateDir, logger, detached: true, withNode });
  out(`Kubernetes ${cluster.kubernetesVersion} API server ready at ${cluster.server} in ${seconds(cluster.startupMs)} (etcd ${cluster.etcdVersion})`);
  if (withNode) await upNode(options, cluster);
  out(`KUBECONFIG=${cluster.kubeconfigPath}`);
  return 0;
}

async function upNode(options: DevClusterUpOptions, cluster: DevCluster): Promise<void> {
  const { config, logger, out } = options;
  out(`starting node ${DEV_NODE_NAME}: kube-controller-manager, kube-scheduler, containerd and a kubelet (the first start builds three binaries, minutes) ...`);
  try {
    const node = await startNode({
      cluster,
      cacheDir: config.cacheDir,
      nodeName: DEV_NODE_NAME,
      logger,
      detached: true,
      onStep: (step, ms) => out(`  ${step} (${seconds(ms)})`),
    });
    out(`node ${node.nodeName} Ready at ${node.nodeIp} in ${seconds(node.startupMs)} (kubelet ${node.kubernetesVersion}); images: stinger images build --node`);
  } catch (error) {
    await cluster.stop();
    throw error;
  }
}

export async function devClusterDown(config: StingerConfig, out: (line: string) => void): Promise<number> {
  const stateDir = devClusterDir(config);
  const began = Date.now();
  const problems = await stopNode(stateDir);
  if (problems !== null) {
    out(`node: stopped, host restored in ${seconds(Date.now() - began)}`);
    for (const problem of problems) out(`  not restored: ${problem}`);
  }
  out((await stopRunningDevCluster(stateDir)) ? 'dev cluster: stopped' : 'no dev cluster was running');
  return problems !== null && problems.length > 0 ? 1 : 0;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
