// Global setup for integration test runs: ONE Kafka broker for every test file of the run.
//
//   npx node --test --test-concurrency=1 --test-global-setup=libs/testing/src/kafka-global-setup.ts \
//     --test-reporter=spec "integration-tests/**/*.test.ts"
//
// Contract (checked on Node 24.22 by kafka-global-setup.test.ts): the runner calls `globalSetup` once in the runner
// process before it spawns any test-file process, and `globalTeardown` once after the last one ends. `globalSetup`
// gets a broker from `kafkaBrokerForTests` (KAFKA_BROKERS if already set, else a container, else the local broker)
// and puts it into the runner's environment as KAFKA_BROKERS; the test-file processes inherit that environment, so
// their `loadConfig().kafka.brokers` and `kafkaBrokerForTests()` return the shared broker without starting another.
// `globalTeardown` stops what `globalSetup` started. A test file run without this flag still works: its
// `kafkaBrokerForTests()` then starts a broker of its own.
//
// Test files sharing one broker must keep out of each other's way: topics from `uniqueTopicName`, consumer group ids
// likewise unique.
import { createLogger } from '@stinger/log';
import { loadConfig } from '@stinger/config';
import { kafkaBrokerForTests, type TestKafkaBroker } from './kafka-broker-for-tests.ts';

let shared: TestKafkaBroker | null = null;

export async function globalSetup(): Promise<void> {
  const logger = createLogger({ name: 'test-kafka', level: loadConfig().logLevel });
  shared = await kafkaBrokerForTests({ logger });
  // The hand-over to test-file processes is their inherited environment; nothing else reaches them.
  // eslint-disable-next-line no-restricted-properties
  process.env['KAFKA_BROKERS'] = shared.brokers.join(',');
}

export async function globalTeardown(): Promise<void> {
  const broker = shared;
  shared = null;
  await broker?.stop();
}
