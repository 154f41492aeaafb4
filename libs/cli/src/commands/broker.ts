/**
 * `stinger broker up [--listen HOST:PORT] | down`: the local Kafka broker alone, detached, with the topics created —
 * for services that run elsewhere, such as Stinger deployed on the dev cluster's node, where `stinger up` would start a
 * second copy of every service. `--listen` opens a plaintext listener on another address of this machine as well,
 * advertised as itself: pods cannot use 127.0.0.1 (inside a pod that is the pod), but reach the node's bridge address.
 * `up` prints `KAFKA_BROKERS=<addr>` as its last line: the --listen address when given (this machine reaches it too),
 * else 127.0.0.1's. The broker is the one `stinger up` would start (same state dir), so `stinger status` finds it,
 * `stinger up` reuses it, and `stinger down` stops it as well.
 */
import { createServer } from 'node:net';
import type { StingerConfig } from '@stinger/config';
import { bootstrapTopics, createKafkaClient } from '@stinger/kafka';
import { readRunningBroker, startLocalBroker, stopRunningBroker } from '@stinger/local-broker';
import type { Logger } from '@stinger/log';
import { BROKER_PREREQUISITES, ensurePrerequisites } from '../prerequisites.ts';
import { CliError } from '../errors.ts';
import { brokerDataDir, runDir, runningServices } from '../run-state.ts';

export interface BrokerCommandOptions {
  readonly config: StingerConfig;
  readonly logger: Logger;
  readonly out: (line: string) => void;
}

/** Creates the topics this configuration names on `brokers` (those there are kept); returns the line saying so. */
export async function ensureTopics(config: StingerConfig, logger: Logger, brokers: string): Promise<string> {
  const client = createKafkaClient({ brokers: brokers.split(','), connection: config.kafka, role: 'cli', logger });
  const topics = await bootstrapTopics({
    client,
    prefix: config.kafka.topicPrefix,
    replicationFactor: config.kafka.topicReplicationFactor,
    partitions: config.kafka.topicPartitions,
  });
  return `topics: ${topics.created.length} created, ${topics.existing.length} already there`;
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

export async function brokerUp(options: BrokerCommandOptions & { readonly listen: ListenAddress | null }): Promise<number> {
  const { config, logger, out, listen } = options;
  const wanted = listen === null ? null : `${listen.host}:${listen.port}`;
  let running = await readRunningBroker(runDir(config));
  if (running) {
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
    out('starting a local Apache Kafka broker (the first start resolves its jars with Maven) ...');
    const broker = await startLocalBroker({
      cacheDir: config.cacheDir,
      dataDir: brokerDataDir(config),
      stateDir: runDir(config),
      detached: true,
      logger,
      ...(listen === null ? {} : { podListenerHost: listen.host, podListenerPort: listen.port }),
    });
    if (broker.portFellBack) out(`port 9092 is in use, so the local broker listens on ${broker.brokers} instead`);
    out(`local broker ready on ${broker.brokers}${broker.podBrokers === null ? '' : ` and ${broker.podBrokers}`} in ${(broker.startupMs / 1000).toFixed(1)} s (log: ${broker.logFile})`);
    running = { pid: broker.pid, port: broker.port, brokers: broker.brokers, podBrokers: broker.podBrokers };
  }
  out(await ensureTopics(config, logger, running.brokers));
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
