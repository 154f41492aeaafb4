/**
 * The web console: stinger.events, stinger.alerts and stinger.enforcements → an embedded SQLite store
 * (libs/console-store) → the JSON API, the live stream and the page (libs/console-server) on STINGER_CONSOLE_ADDRESS
 * (default 127.0.0.1:7070; outside loopback a bearer token is required, STINGER_CONSOLE_TOKEN). The agents' health
 * comes from the compacted stinger.agents, read whole at every start. This file wires config, logger, store, Kafka
 * and the server, and owns the process life cycle.
 *
 * Delivery: consumer group `<prefix>stinger.console`; a batch's offsets are committed after the store's transaction,
 * and the store ignores a record it already holds, so a restart neither loses nor doubles. A new (empty) store starts
 * the group at the retention window (STINGER_CONSOLE_RETENTION); records older than it are not stored. Undecodable
 * records go to stinger.dlq with the reason; the console keeps serving.
 */
import { fileURLToPath } from 'node:url';
import { loadConfig, requireBrokers } from '@stinger/config';
import { createQueryPool, inProcessQueries, startConsoleServer, type LiveMessage } from '@stinger/console-server';
import { agentHealthReport, ConsoleStore } from '@stinger/console-store';
import { decodeAgentHealth, decodeAlert, decodeEnforcement, decodeEvent, DecodeError } from '@stinger/events';
import {
  createConsumer,
  createKafkaClient,
  exitOnWrongKafkaSettings,
  createProducer,
  deadLetterRecord,
  fetchConsumerLag,
  installShutdown,
  resetGroupOffsetsToTime,
  tailTopic,
  topicName,
  type ConsumedRecord,
} from '@stinger/kafka';
import { createLogger } from '@stinger/log';

const PRUNE_INTERVAL_MS = 10_000;
/** Threads answering the API's queries, so a long one neither stalls ingest nor the stream nor the other requests. */
const QUERY_WORKERS = 2;
const LAG_INTERVAL_MS = 5_000;
/**
 * Records behind the topics' ends still counted as caught up: transaction markers are never delivered, and a busy
 * stream is always a batch or two behind.
 */
const CAUGHT_UP_LAG = 1000n;

const config = loadConfig();
const logger = createLogger({ name: 'console', level: config.logLevel });
const prefix = config.kafka.topicPrefix;
const shutdown = installShutdown({ logger });

const { storePath, retentionMs, maxEvents } = config.console;
const store = new ConsoleStore({ path: storePath, retentionMs, maxEvents });
shutdown.register('store', async () => store.close());

const client = createKafkaClient({ brokers: requireBrokers(config), connection: config.kafka, role: `console-${config.nodeName}`, logger });
// Wrong credentials or an untrusted broker certificate end the process here with one line, not in client retries.
await exitOnWrongKafkaSettings(client, { logger });
const producer = createProducer({ client });
await producer.connect();
shutdown.register('producer', () => producer.disconnect());

const groupId = `${prefix}stinger.console`;
const dlqTopic = topicName('dlq', prefix);
const topics = { events: topicName('events', prefix), alerts: topicName('alerts', prefix), enforcements: topicName('enforcements', prefix) };
/** Ready once the consumers caught up with the backlog after start; being briefly behind later does not unready it. */
const readiness = { consuming: false, caughtUp: false, lag: null as bigint | null };

// An in-memory store is seen only by its own connection: queried in place.
const queries = storePath === ':memory:' ? inProcessQueries(store) : createQueryPool({ store: { storePath, retentionMs, maxEvents }, workers: QUERY_WORKERS, logger });
const server = await startConsoleServer({
  queries,
  address: config.console.address,
  token: config.console.token,
  webDir: config.console.webDir ?? fileURLToPath(new URL('../web/dist/', import.meta.url)),
  logger,
  readiness: () => ({
    ready: readiness.consuming && readiness.caughtUp,
    detail: { consuming: readiness.consuming, caughtUp: readiness.caughtUp, lag: readiness.lag === null ? null : Number(readiness.lag) },
  }),
});
shutdown.register('http', () => server.stop());

/** Decodes each record; what does not decode goes to the dead-letter topic, named with the reason. */
async function decodeAll<T>(records: readonly ConsumedRecord[], decode: (bytes: Uint8Array) => T, schema: string): Promise<T[]> {
  const decoded: T[] = [];
  for (const record of records) {
    try {
      decoded.push(decode(record.value ?? Buffer.alloc(0)));
    } catch (error) {
      const reason = error instanceof DecodeError ? error.reason : 'invalid-value';
      logger.warn({ err: error, topic: record.topic, partition: record.partition, offset: record.offset.toString() }, `undecodable ${schema} sent to the dead-letter topic`);
      await producer.send(dlqTopic, [deadLetterRecord({ consumer: groupId, dlqTopic }, record, { reason, detail: (error as Error).message })]);
    }
  }
  return decoded;
}

const publish = (messages: readonly LiveMessage[]) => messages.forEach((message) => server.publish(message));

async function handleBatch(records: readonly ConsumedRecord[]): Promise<void> {
  const topic = records[0]?.topic;
  const now = Date.now();
  if (topic === topics.events) {
    const rows = store.ingestEvents(await decodeAll(records, decodeEvent, 'Event'), now);
    publish(rows.map((row) => ({ type: 'event', row })));
  } else if (topic === topics.alerts) {
    const rows = store.ingestAlerts(await decodeAll(records, decodeAlert, 'Alert'), now);
    publish(rows.map((row) => ({ type: 'alert', row })));
  } else if (topic === topics.enforcements) {
    const rows = store.ingestEnforcements(await decodeAll(records, decodeEnforcement, 'Enforcement'), now);
    publish(rows.map((row) => ({ type: 'enforcement', row })));
  }
}

// A new store is filled with the retention window. A new group reads from the beginning anyway (older records are
// not stored); a group that read before an empty store (deleted, or ':memory:') is moved back to the window's start.
// Moving a group takes kafkajs a group join per topic (seconds), so only then.
if (store.isEmpty() && (await Promise.all(Object.values(topics).map((topic) => fetchConsumerLag(client, groupId, topic)))).some((lag) => lag.committed)) {
  const sinceMs = Date.now() - retentionMs;
  await resetGroupOffsetsToTime(client, { groupId, topics: Object.values(topics) }, sinceMs).catch((error: unknown) =>
    logger.warn({ err: error }, 'could not move the group to the retention window (a previous console still in the group?); reading from its committed offsets'),
  );
}
const consumer = createConsumer({ client, groupId, topics: Object.values(topics), fromBeginning: true, handleBatch });
shutdown.register('consumer', () => consumer.stop());
await consumer.start();
readiness.consuming = true;

// Compacted and small (one record per node): read whole at every start, never committed.
const agents = await tailTopic({
  client,
  topic: topicName('agents', prefix),
  sinceMs: 0,
  onRecord: (record) => {
    if (record.value === null) return;
    void decodeAll([record], decodeAgentHealth, 'AgentHealth')
      .then((reports) => store.ingestAgentHealth(reports.map(agentHealthReport)))
      .catch((error: unknown) => logger.error({ err: error }, 'agent health not stored'));
  },
});
shutdown.register('agents', () => agents.stop());

async function measureLag(): Promise<void> {
  let total = 0n;
  for (const topic of Object.values(topics)) total += (await fetchConsumerLag(client, groupId, topic)).lag;
  readiness.lag = total;
  if (readiness.consuming && total <= CAUGHT_UP_LAG && !readiness.caughtUp) {
    readiness.caughtUp = true;
    logger.info({ lag: Number(total) }, 'caught up');
  }
}
const lagTimer = setInterval(() => void measureLag().catch((error: unknown) => logger.debug({ err: error }, 'lag not measured')), LAG_INTERVAL_MS);
shutdown.register('lag', async () => clearInterval(lagTimer));
await measureLag().catch((error: unknown) => logger.warn({ err: error }, 'lag not measured'));

const pruneTimer = setInterval(() => {
  const pruned = store.prune(Date.now());
  if (pruned.events + pruned.alerts > 0) logger.info({ pruned }, 'store pruned');
}, PRUNE_INTERVAL_MS);
shutdown.register('prune', async () => clearInterval(pruneTimer));

logger.info(
  { url: server.url, groupId, store: storePath, retentionMs, maxEvents, token: config.console.token !== null },
  'console running',
);
