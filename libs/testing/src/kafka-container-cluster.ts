/**
 * A Kafka cluster of `size` KRaft nodes (broker and controller combined), each a container of the locally built
 * image (`stinger images kafka`), run through testcontainers: on the Docker engine DOCKER_HOST names when one answers,
 * else on podman's Docker-compatible API, started here on a socket of this fixture's own (podman-service.ts). Ryuk is
 * disabled (its image cannot be pulled here); `stop()` removes every container instead, and a crashed test run's
 * containers are found by the `stinger.test=kafka-cluster` label.
 *
 * Contract:
 * - Every node uses the host's network on 127.0.0.1 with two free ports (client, controller), so the address a client
 *   is given (advertised) is the one it dials, with no port mapping, and a node restarted keeps its ports.
 * - server.properties comes from @stinger/local-broker's renderServerProperties, the same cluster settings as
 *   `stinger up --brokers 3`: three copies, min.insync.replicas=2, unclean leader election off.
 * - Faults: `kill(nodeId)` is SIGKILL of the broker (the container's PID 1; its data stays in the container),
 *   `start(nodeId)` starts the killed container again and resolves once it answers ApiVersions, `pause`/`unpause`
 *   freeze and thaw it (cgroup freezer: the broker neither answers nor dies).
 * - testcontainers reads its settings only from the environment, so this fixture sets DOCKER_HOST and
 *   TESTCONTAINERS_RYUK_DISABLED in this process's environment before its first use.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { processEnvironment } from '@stinger/config';
import { BROKER_HOST, clusterReplication, probeApiVersions, randomClusterId, renderServerProperties, type ClusterReplication } from '@stinger/local-broker';
import { namespaced, silentLogger, type Logger } from '@stinger/log';
import { freePort } from '@stinger/processes';
import type { ContainerRuntimeClient } from 'testcontainers';
import { dockerEndpoint, dockerEngineAnswers } from './docker-engine.ts';
import { startPodmanService, type PodmanService } from './podman-service.ts';

/** The image `stinger images kafka` builds (libs/cli's kafka-image.ts), as podman stores it. */
export const KAFKA_CLUSTER_IMAGE = 'localhost/stinger/kafka:4.1.1';
const CONFIG_PATH = '/etc/kafka/server.properties';
const DATA_DIR = '/var/lib/kafka/data';
export const KAFKA_CLUSTER_LABEL = 'stinger.test';

export interface KafkaClusterNode {
  readonly nodeId: number;
  /** `127.0.0.1:<port>`. */
  readonly broker: string;
  readonly containerId: string;
}

export interface KafkaContainerCluster {
  /** Every node's `host:port`, for client configuration. */
  readonly brokers: readonly string[];
  readonly nodes: readonly KafkaClusterNode[];
  readonly replication: ClusterReplication;
  /** `unix://...` of podman's API when this fixture started it, else the engine DOCKER_HOST named. */
  readonly dockerHost: string;
  kill(nodeId: number): Promise<void>;
  start(nodeId: number): Promise<void>;
  pause(nodeId: number): Promise<void>;
  unpause(nodeId: number): Promise<void>;
  /** Removes every container and stops podman's API if this fixture started it. Idempotent. */
  stop(): Promise<void>;
}

export interface StartKafkaContainerClusterOptions {
  readonly size?: number;
  readonly image?: string;
  readonly logger?: Logger;
  readonly startTimeoutMs?: number;
}

interface StartedContainer {
  getId(): string;
  stop(options?: { timeout?: number; remove?: boolean }): Promise<unknown>;
}

export async function startKafkaContainerCluster(options: StartKafkaContainerClusterOptions = {}): Promise<KafkaContainerCluster> {
  const logger = namespaced(options.logger ?? silentLogger(), 'KafkaContainerCluster');
  const size = options.size ?? 3;
  const image = options.image ?? KAFKA_CLUSTER_IMAGE;
  const startTimeoutMs = options.startTimeoutMs ?? 180_000;
  const env = processEnvironment() as Record<string, string | undefined>;
  let podman: PodmanService | null = null;
  let dir: string | null = null;
  if (!(await dockerEngineAnswers(dockerEndpoint()))) {
    dir = await mkdtemp(join(tmpdir(), 'stinger-podman-'));
    podman = await startPodmanService({ dir });
    env['DOCKER_HOST'] = podman.dockerHost;
  }
  env['TESTCONTAINERS_RYUK_DISABLED'] = 'true';
  const dockerHost = env['DOCKER_HOST'] ?? 'unix:///var/run/docker.sock';
  const { GenericContainer, Wait, getContainerRuntimeClient } = await import('testcontainers');
  const runtime = await getContainerRuntimeClient();

  const ports: number[] = [];
  while (ports.length < 2 * size) {
    const port = await freePort(BROKER_HOST);
    if (!ports.includes(port)) ports.push(port);
  }
  const voters = Array.from({ length: size }, (_, index) => ({ nodeId: index + 1, controllerPort: ports[2 * index + 1]! }));
  const clusterId = randomClusterId();
  const run = `${Date.now().toString(36)}-${process.pid}`;
  const started = new Map<number, StartedContainer>();
  const cleanUp = async (): Promise<void> => {
    await Promise.allSettled([...started.values()].map((container) => container.stop({ timeout: 0, remove: true })));
    await podman?.stop();
    if (dir !== null) await rm(dir, { recursive: true, force: true });
  };
  const began = Date.now();
  try {
    const results = await Promise.allSettled(
      voters.map(async (voter, index) => {
        const properties = renderServerProperties({ port: ports[2 * index]!, controllerPort: voter.controllerPort, logDir: DATA_DIR, cluster: { nodeId: voter.nodeId, voters } });
        const container = await new GenericContainer(image)
          .withName(`stinger-kafka-${run}-${voter.nodeId}`)
          .withLabels({ [KAFKA_CLUSTER_LABEL]: 'kafka-cluster' })
          .withNetworkMode('host')
          .withEnvironment({ KAFKA_CLUSTER_ID: clusterId, KAFKA_HEAP_OPTS: '-Xms128m -Xmx384m' })
          .withCopyContentToContainer([{ content: properties, target: CONFIG_PATH }])
          .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
          .withStartupTimeout(startTimeoutMs)
          .start();
        started.set(voter.nodeId, container);
      }),
    );
    const failed = results.find((result) => result.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  } catch (error) {
    await cleanUp();
    throw error;
  }
  const nodes: KafkaClusterNode[] = voters.map((voter, index) => ({
    nodeId: voter.nodeId,
    broker: `${BROKER_HOST}:${ports[2 * index]!}`,
    containerId: started.get(voter.nodeId)!.getId(),
  }));
  logger.info({ brokers: nodes.map((n) => n.broker), ms: Date.now() - began, dockerHost }, 'Kafka container cluster started');

  const nodeOf = (nodeId: number): KafkaClusterNode => {
    const node = nodes.find((n) => n.nodeId === nodeId);
    if (node === undefined) throw new RangeError(`no node ${nodeId} (nodes 1..${size})`);
    return node;
  };
  const containerOf = (nodeId: number) => runtime.container.getById(nodeOf(nodeId).containerId);
  let stopping: Promise<void> | null = null;
  return {
    brokers: nodes.map((node) => node.broker),
    nodes,
    replication: clusterReplication(size),
    dockerHost,
    kill: async (nodeId) => {
      await containerOf(nodeId).kill({ signal: 'SIGKILL' });
      logger.info({ nodeId }, 'broker killed (SIGKILL)');
    },
    start: async (nodeId) => {
      await containerOf(nodeId).start();
      try {
        await untilAnswering(nodeOf(nodeId).broker, startTimeoutMs);
      } catch (error) {
        // What the broker said and whether it still runs: a restart that never answers is otherwise a bare timeout.
        const info = await runtime.container.inspect(containerOf(nodeId)).catch(() => null);
        const logs = await containerLogTail(runtime, containerOf(nodeId));
        throw new Error(`${(error as Error).message}; container ${info?.State.Status ?? 'unknown'} (exit code ${info?.State.ExitCode ?? '?'}); its last log lines:\n${logs}`, { cause: error });
      }
      logger.info({ nodeId }, 'broker started again');
    },
    pause: async (nodeId) => {
      await containerOf(nodeId).pause();
    },
    unpause: async (nodeId) => {
      await containerOf(nodeId).unpause();
    },
    stop: () => {
      stopping ??= cleanUp();
      return stopping;
    },
  };
}

async function containerLogTail(runtime: ContainerRuntimeClient, container: ReturnType<ContainerRuntimeClient['container']['getById']>): Promise<string> {
  try {
    const stream = await runtime.container.logs(container, { tail: 30 });
    let text = '';
    stream.on('data', (chunk: Buffer | string) => (text += chunk.toString()));
    await Promise.race([new Promise((done) => stream.once('end', done)), sleep(3000)]);
    stream.destroy();
    return text.trim();
  } catch (error) {
    return `(no logs: ${(error as Error).message})`;
  }
}

async function untilAnswering(broker: string, timeoutMs: number): Promise<void> {
  const [host, port] = broker.split(':');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const answer = await probeApiVersions({ host: host!, port: Number(port), timeoutMs: 2000 });
      if (answer.errorCode === 0) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`broker ${broker} did not answer within ${timeoutMs} ms of its restart`);
    await sleep(250);
  }
}
