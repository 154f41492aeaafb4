/**
 * Kafka helpers for integration tests. The broker is the one real broker of this test run: the
 * global setup (libs/testing) puts its address in KAFKA_BROKERS before any test file starts.
 */
import { randomBytes } from 'node:crypto';
import { loadConfig, requireBrokers } from '@stinger/config';
import { createConsumer, createKafkaClient, type ConsumedRecord, type KafkaClient } from '@stinger/kafka';
import { createLogger } from '@stinger/log';

export function testBrokers(): string {
  return requireBrokers(loadConfig()).join(',');
}

export function testClient(clientId: string): KafkaClient {
  const config = loadConfig();
  return createKafkaClient({
    brokers: requireBrokers(config),
    connection: config.kafka,
    role: clientId,
    logger: createLogger({ name: clientId, level: config.logLevel === 'info' ? 'warn' : config.logLevel }),
  });
}

/** A name no other test (or earlier run against the same broker) uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}.${Date.now().toString(36)}.${randomBytes(3).toString('hex')}`;
}

export interface Collector {
  readonly records: ConsumedRecord[];
  /** Resolves when at least `count` records arrived; rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

/** Reads a topic from the beginning with a read_committed consumer of its own group. */
export async function collectTopic(client: KafkaClient, topic: string): Promise<Collector> {
  const records: ConsumedRecord[] = [];
  const consumer = createConsumer({
    client,
    groupId: uniqueName('collector'),
    topics: [topic],
    fromBeginning: true,
    handleBatch: async (batch) => void records.push(...batch),
  });
  await consumer.start();
  return {
    records,
    async waitFor(count, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (records.length < count) {
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms with ${records.length} of ${count} records from ${topic}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    stop: () => consumer.stop(),
  };
}

/** The first record of a collected topic, decoded, that satisfies `predicate`; waits for one, then fails naming `what`. */
export async function firstDecoded<T>(
  collector: Collector,
  decode: (value: Buffer) => T,
  match: { readonly predicate: (value: T) => boolean; readonly what: string; readonly timeoutMs?: number; readonly context?: () => string },
): Promise<T> {
  const { predicate, what, timeoutMs = 30_000 } = match;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = collector.records.map((r) => decode(r.value ?? Buffer.alloc(0))).find(predicate);
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`${what}: nothing after ${timeoutMs} ms${match.context ? `\n${match.context()}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
