/**
 * The Kafka broker integration tests run against, chosen in this order:
 *   1. KAFKA_BROKERS (through loadConfig) when set: an external cluster, or the shared broker that
 *      kafka-global-setup.ts started for the whole test run. Never stopped here.
 *   2. testcontainers' Kafka module when a Docker engine answers (probed in well under a second; the testcontainers
 *      modules are only imported then).
 *   3. The local broker (@stinger/local-broker): a real Kafka JVM on 127.0.0.1, data in a temporary folder.
 * `stop()` ends what this call started (and deletes the local broker's temporary data); it is a no-op for case 1.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@stinger/config';
import { namespaced, silentLogger, type Logger } from '@stinger/log';
import { KAFKA_VERSION, startLocalBroker } from '@stinger/local-broker';
import { dockerEngineAnswers } from './docker-engine.ts';

/** Confluent Platform 8.1 is Apache Kafka 4.1, the version the local broker pins. */
export const KAFKA_TEST_IMAGE = 'confluentinc/cp-kafka:8.1.0';

export type TestKafkaSource = 'environment' | 'testcontainers' | 'local-broker';

export interface TestKafkaBroker {
  /** `host:port` list for client configuration. */
  readonly brokers: readonly string[];
  readonly source: TestKafkaSource;
  stop(): Promise<void>;
}

export interface KafkaBrokerForTestsOptions {
  readonly logger?: Logger;
}

export async function kafkaBrokerForTests(options: KafkaBrokerForTestsOptions = {}): Promise<TestKafkaBroker> {
  const logger = namespaced(options.logger ?? silentLogger(), 'TestKafka');
  const config = loadConfig();
  if (config.kafka.brokers !== null) {
    logger.info({ brokers: config.kafka.brokers }, 'using KAFKA_BROKERS');
    return { brokers: config.kafka.brokers, source: 'environment', stop: async () => undefined };
  }
  if (await dockerEngineAnswers()) {
    try {
      return await startKafkaContainer(logger);
    } catch (error) {
      logger.warn({ err: error }, 'Docker answered but the Kafka container did not start; using the local broker');
    }
  }
  const dataDir = await mkdtemp(join(tmpdir(), 'stinger-test-kafka-'));
  try {
    const broker = await startLocalBroker({ cacheDir: config.cacheDir, dataDir, logger });
    logger.info({ brokers: broker.brokers, brokerPid: broker.pid, kafka: KAFKA_VERSION }, 'local broker started for tests');
    return {
      brokers: [broker.brokers],
      source: 'local-broker',
      stop: async () => {
        await broker.stop();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
}

async function startKafkaContainer(logger: Logger): Promise<TestKafkaBroker> {
  const { KafkaContainer } = await import('@testcontainers/kafka');
  const container = await new KafkaContainer(KAFKA_TEST_IMAGE).start();
  // The module's PLAINTEXT listener for clients on the Docker host.
  const brokers = [`${container.getHost()}:${container.getMappedPort(9093)}`];
  logger.info({ brokers, image: KAFKA_TEST_IMAGE }, 'Kafka container started for tests');
  return {
    brokers,
    source: 'testcontainers',
    stop: async () => {
      await container.stop();
    },
  };
}
