/**
 * `stinger broker up [--listen HOST:PORT] [--brokers N] | down`: the local Kafka broker alone, detached, with the topics created —
 * for services that run elsewhere, such as Stinger deployed on the dev cluster's node, where `stinger up` would start a
 * second copy of every service. `--listen` opens a plaintext listener on another address of this machine as well,
 * advertised as itself: pods cannot use 127.0.0.1 (inside a pod that is the pod), but reach the node's bridge address.
 * `up` prints `KAFKA_BROKERS=<addr>` as its last line: the --listen address when given (this machine reaches it too),
 * else 127.0.0.1's. The broker is the one `stinger up` would start (same state dir), so `stinger status` finds it,
 * `stinger up` reuses it, and `stinger down` stops it as well.
 * `--brokers 3`: a local cluster of three KRaft nodes instead (local-broker's startLocalCluster: one JVM each, on
 * 127.0.0.1), whose topics get three copies and min.insync.replicas=2; KAFKA_BROKERS lists every node.
 */
import { createServer } from 'node:net';
import type { StingerConfig } from '@stinger/config';
import { bootstrapTopics, createKafkaClient } from '@stinger/kafka';
import { clusterReplication, readRunningBroker, startLocalBroker, startLocalCluster, stopRunningBroker, type RunningBroker } from '@stinger/local-broker';
import type { Logger } from '@stinger/log';
import { BROKER_PREREQUISITES, ensurePrerequisites } from '../prerequisites.ts';
import { CliError } from '../errors.ts';
import { brokerDataDir, clusterDataDir, runDir, runningServices } from '../run-state.ts';

export interface BrokerCommandOptions {
  readonly config: StingerConfig;
  readonly logger: Logger;
  readonly out: (line: string) => void;
}

/**
 * Creates the topics this configuration names on `brokers` (those there are kept); returns the line saying so. A local
 * cluster of several brokers gives them its replication (clusterReplication) over STINGER_TOPIC_REPLICATION_FACTOR's.
 */
export async function ensureTopics(config: StingerConfig, logger: Logger, on: { readonly brokers: string; readonly localBrokerCount: number }): Promise<string> {
  const { brokers, localBrokerCount } = on;
  const client = createKafkaClient({ brokers: brokers.split(','), connection: config.kafka, role: 'cli', logger });
  const replicationFactor = localBrokerCount > 1 ? clusterReplication(localBrokerCount).replicationFactor : config.kafka.topicReplicationFactor;
  const topics = await bootstrapTopics({
    client,
    prefix: config.kafka.topicPrefix,
    replicationFactor,
    partitions: config.kafka.topicPartitions,
  });
  return `topics: ${topics.created.length} created, ${topics.existing.length} already there${replicationFactor > 1 ? ` (replication factor ${replicationFactor})` : ''}`;
}

/** `--brokers`' value: how many local brokers, 1 (the default) or 3 to 9. */
export function parseBrokerCount(raw: string | undefined): number {
  if (raw === undefined) return 1;
  const count = Number(raw);
  if (!/^\d+$/.test(raw) || (count !== 1 && (count < 3 || count > 9))) {
    throw new CliError(`--brokers: "${raw}" is not 1 or 3 to 9 (3: replication factor 3 with min.insync.replicas=2, what production uses)`, 2);
  }
  return count;
}

/** How many brokers a recorded local broker (or cluster) has. */
export function brokerCountOf(running: RunningBroker): number {
  return running.brokers.split(',').length;
}

/**
 * Starts `count` local brokers recorded in the run dir: one (startLocalBroker) or a cluster (startLocalCluster, data
 * under `<home>/kafka-cluster`). Returns the bootstrap list, a stop function and the line to print.
 */
export async function startLocalBrokers(
  config: StingerConfig,
  logger: Logger,
  options: { readonly count: number; readonly detached: boolean; readonly listen?: ListenAddress | null },
): Promise<{ brokers: string; podBrokers: string | null; pid: number; port: number; stop: () => Promise<void>; line: string; fellBack: boolean }> {
  const { count, detached, listen = null } = options;
  const common = { cacheDir: config.cacheDir, stateDir: runDir(config), detached, logger, ...(detached ? {} : { ownProcessGroup: true, recordState: true }) };
  if (count > 1) {
    const cluster = await startLocalCluster({ ...common, dataDir: clusterDataDir(config), size: count });
    const first = cluster.nodes[0]!;
    const { replicationFactor, minInsyncReplicas } = cluster.replication;
    return {
      brokers: cluster.brokers,
      podBrokers: null,
      pid: first.pid,
      port: first.port,
      stop: () => cluster.stop(),
      fellBack: false,
      line: `local cluster of ${count} brokers ready on ${cluster.brokers} in ${(cluster.startupMs / 1000).toFixed(1)} s (replication factor ${replicationFactor}, min.insync.replicas=${minInsyncReplicas}; logs: ${clusterDataDir(config)}/node-*/logs/server.log)`,
    };
  }
  const broker = await startLocalBroker({
    ...common,
    dataDir: brokerDataDir(config),
    ...(listen === null ? {} : { podListenerHost: listen.host, podListenerPort: listen.port }),
  });
  return {
    brokers: broker.brokers,
    podBrokers: broker.podBrokers,
    pid: broker.pid,
    port: broker.port,
    stop: () => broker.stop(),
    fellBack: broker.portFellBack,
    line: `local broker ready on ${broker.brokers}${broker.podBrokers === null ? '' : ` and ${broker.podBrokers}`} in ${(broker.startupMs / 1000).toFixed(1)} s (log: ${broker.logFile})`,
  };
}

/** A running local broker of another size than asked for is refused rather than silently reused. */
export function checkRunningBrokerCount(running: RunningBroker, wanted: number): void {
  const has = brokerCountOf(running);
  if (wanted !== has) {
    throw new CliError(`a local ${has === 1 ? 'broker' : `cluster of ${has} brokers`} is already running (${running.brokers}), not ${wanted}; \`stinger down\` (or \`stinger broker down\`) first`);
  }
}

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** `--listen`'s value: an IPv4 address of this machine and a port, `10.244.0.1:9094`. */
export function parseListenAddress(raw: string): ListenAddress {
  const match = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(raw);
  const port = Number(match?.[2]);
  if (match === null || match[1]!.split('.').some((octet) => Number(octet) > 255) || port < 1 || port > 65_535) {
    throw new CliError(`--listen: "${raw}" is not IPv4-address:port (e.g. 10.244.0.1:9094, the dev cluster node's bridge)`, 2);
  }
  return { host: match[1]!, port };
}

/** True when this process could listen on the address now (the broker's bind then succeeds too). */
function canListen(address: ListenAddress): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(address.port, address.host, () => server.close(() => resolve(true)));
  });
}

export async function brokerUp(options: BrokerCommandOptions & { readonly listen: ListenAddress | null; readonly brokerCount?: number }): Promise<number> {
  const { config, logger, out, listen } = options;
  const count = options.brokerCount ?? 1;
  if (count > 1 && listen !== null) throw new CliError('--listen and --brokers: a pods listener is offered by a single local broker only', 2);
  const wanted = listen === null ? null : `${listen.host}:${listen.port}`;
  let running = await readRunningBroker(runDir(config));
  if (running) {
    if (options.brokerCount !== undefined) checkRunningBrokerCount(running, count);
    if (wanted !== null && running.podBrokers !== wanted) {
      const has = running.podBrokers === null ? 'no other listener' : `its other listener on ${running.podBrokers}`;
      throw new CliError(`a local broker is already running (pid ${running.pid}, ${running.brokers}) with ${has}, not ${wanted}; \`stinger broker down\` first`);
    }
    out(`a local broker is already running (pid ${running.pid}) on ${running.brokers}${running.podBrokers === null ? '' : ` and ${running.podBrokers}`}`);
  } else {
    // Checked here for a clear line: the JVM would only log a bind failure after seconds of start-up.
    if (listen !== null && !(await canListen(listen))) {
      throw new CliError(
        `cannot listen on ${wanted}: the port is taken or ${listen.host} is not an address of this machine (the dev cluster's node adds 10.244.0.1: \`stinger dev-cluster up --with-node\`)`,
      );
    }
    ensurePrerequisites(BROKER_PREREQUISITES, logger);
    out(`starting ${count === 1 ? 'a local Apache Kafka broker' : `a local Apache Kafka cluster of ${count} brokers`} (the first start resolves its jars with Maven) ...`);
    const broker = await startLocalBrokers(config, logger, { count, detached: true, listen });
    if (broker.fellBack) out(`port 9092 is in use, so the local broker listens on ${broker.brokers} instead`);
    out(broker.line);
    running = { pid: broker.pid, port: broker.port, brokers: broker.brokers, podBrokers: broker.podBrokers };
  }
  out(await ensureTopics(config, logger, { brokers: running.brokers, localBrokerCount: brokerCountOf(running) }));
  out('running in the background; `stinger broker down` stops it');
  out(`KAFKA_BROKERS=${running.podBrokers ?? running.brokers}`);
  return 0;
}

export async function brokerDown(options: Pick<BrokerCommandOptions, 'config' | 'out'>): Promise<number> {
  const { config, out } = options;
  const services = runningServices(config);
  if (services.length > 0) {
    throw new CliError(`services of \`stinger up\` still use the local broker (${services.map((s) => s.name).join(', ')}); \`stinger down\` stops them and the broker`);
  }
  out((await stopRunningBroker(runDir(config))) ? 'local broker stopped' : 'no local broker was running');
  return 0;
}
