/**
 * A local Kafka cluster of several KRaft nodes on 127.0.0.1, each a JVM of its own (broker and controller combined),
 * for `stinger up --brokers 3` and `stinger broker up --brokers 3`: the replication production uses
 * (clusterReplication: three copies, min.insync.replicas=2) on one machine, with nothing but Java.
 *
 * Contract:
 * - `startLocalCluster(options)` picks two free ports per node, writes (or reuses) the cluster id in
 *   `<dataDir>/cluster.id`, and starts every node at once through startLocalBroker, each with its data in
 *   `<dataDir>/node-<id>` (a node answers only once a majority of controllers has formed the quorum, so they cannot
 *   be started one after the other). It resolves when every node answers; if one fails the others are stopped and the
 *   first failure is thrown.
 * - Recorded (detached, or `recordState`): each node in `<stateDir>/node-<id>` as a single broker is, and
 *   `<stateDir>/cluster.size`; readRunningBroker and stopRunningBroker on `stateDir` then see the whole cluster.
 * - A reused data dir keeps its topics; the ports may differ from the last start (the quorum is static, every node is
 *   told every voter's port on each start).
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { freePort } from '@stinger/processes';
import { randomClusterId } from './cluster-id.ts';
import { BrokerStartError } from './errors.ts';
import { CLUSTER_FILE, clusterNodeDir, startLocalBroker, type LocalBroker, type StartLocalBrokerOptions } from './local-broker.ts';
import { BROKER_HOST, clusterReplication, type ClusterReplication } from './server-properties.ts';

export interface StartLocalClusterOptions
  extends Omit<StartLocalBrokerOptions, 'port' | 'cluster' | 'secureListener' | 'podListenerHost' | 'podListenerPort' | 'autoCreateTopics'> {
  /** Number of nodes (each a voter); 3 for the replication production uses. */
  readonly size: number;
}

export interface LocalCluster {
  /** Bootstrap list for clients: every node's `127.0.0.1:<port>`, comma-separated. */
  readonly brokers: string;
  readonly nodes: readonly LocalBroker[];
  /** What the internal topics were given, and what Stinger's topics should be given (bootstrapTopics). */
  readonly replication: ClusterReplication;
  /** Milliseconds from launch until the last node answered. */
  readonly startupMs: number;
  /** Stops every node (in parallel) and, when recorded, removes `cluster.size`. Idempotent. */
  stop(): Promise<void>;
}

const CLUSTER_ID_FILE = 'cluster.id';

export async function startLocalCluster(options: StartLocalClusterOptions): Promise<LocalCluster> {
  const { size } = options;
  const replication = clusterReplication(size);
  const dataDir = resolve(options.dataDir);
  const stateDir = resolve(options.stateDir ?? dataDir);
  const recorded = (options.detached ?? false) || (options.recordState ?? false);
  await mkdir(dataDir, { recursive: true });
  const clusterId = await readOrWriteClusterId(join(dataDir, CLUSTER_ID_FILE));
  const ports = await distinctFreePorts(2 * size);
  const voters = Array.from({ length: size }, (_, index) => ({ nodeId: index + 1, controllerPort: ports[2 * index + 1]! }));
  const began = Date.now();
  const started = await Promise.allSettled(
    voters.map((voter, index) =>
      startLocalBroker({
        ...options,
        dataDir: clusterNodeDir(dataDir, voter.nodeId),
        stateDir: clusterNodeDir(stateDir, voter.nodeId),
        port: ports[2 * index]!,
        cluster: { nodeId: voter.nodeId, clusterId, voters },
      }),
    ),
  );
  const nodes = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failed = started.find((result) => result.status === 'rejected');
  if (failed !== undefined) {
    await Promise.allSettled(nodes.map((node) => node.stop()));
    throw failed.reason instanceof Error ? failed.reason : new BrokerStartError(String(failed.reason));
  }
  if (recorded) await writeFile(join(stateDir, CLUSTER_FILE), `${size}\n`);
  let stopping: Promise<void> | null = null;
  return {
    brokers: nodes.map((node) => node.brokers).join(','),
    nodes,
    replication,
    startupMs: Date.now() - began,
    stop: () => {
      stopping ??= (async () => {
        await Promise.all(nodes.map((node) => node.stop()));
        if (recorded) await rm(join(stateDir, CLUSTER_FILE), { force: true });
      })();
      return stopping;
    },
  };
}

/** The cluster id a data dir was first formatted with (every node's log dir must carry the same one). */
async function readOrWriteClusterId(file: string): Promise<string> {
  const existing = (await readFile(file, 'utf8').catch(() => '')).trim();
  if (existing !== '') return existing;
  const clusterId = randomClusterId();
  await writeFile(file, `${clusterId}\n`);
  return clusterId;
}

async function distinctFreePorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < count) {
    const port = await freePort(BROKER_HOST);
    if (!ports.includes(port)) ports.push(port);
  }
  return ports;
}
