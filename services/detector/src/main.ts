/**
 * The detector: stinger.events → every policy rule, single-event and sequence, evaluated on enriched events →
 * stinger.alerts, exactly once (one Kafka transaction per fetched batch: alerts, dead letters and consumed offsets).
 * Logic lives in libs/detection; this file wires config, logger, keys and Kafka and owns the process life cycle.
 *
 * Policies are the signed records of stinger.policies (verified with the trusted keys, as agents do); they are all
 * read before the first event is matched. Sequence and grouping state is rebuilt after a restart or a partition move
 * by re-reading each partition's recent input (libs/detection createDetector).
 *
 * STINGER_DETECTOR_METRICS_ADDRESS serves /metrics, /healthz and /readyz from the start: ready once the consumer
 * joined its group and the group caught up with stinger.events; not live when the consumer's loop is stuck.
 */
import { loadConfig, requireBrokers } from '@stinger/config';
import { createDetector, DetectionRules, followSignedPolicies } from '@stinger/detection';
import {
  createDeadLetterBuilder,
  createKafkaClient,
  exitOnWrongKafkaSettings,
  createTransactionalTransform,
  installShutdown,
  readPartitionRange,
  topicName,
  watchCatchUp,
} from '@stinger/kafka';
import { createLogger } from '@stinger/log';
import { RegoBatchEvaluator } from '@stinger/rego';
import { createProcessMetrics, serveMetrics } from '@stinger/metrics';
import { watchKeyRing } from '@stinger/trust';

const STATS_INTERVAL_MS = 60_000;
/** Records behind stinger.events' end still counted as caught up (transaction markers are never delivered). */
const CAUGHT_UP_LAG = 1000n;
const LAG_INTERVAL_MS = 5_000;

const config = loadConfig();
const logger = createLogger({ name: 'detector', level: config.logLevel });
const prefix = config.kafka.topicPrefix;
const shutdown = installShutdown({ logger });
const keyRing = watchKeyRing({ dir: config.keysDir, logger });
shutdown.register('key-ring', async () => keyRing.stop());

const client = createKafkaClient({ brokers: requireBrokers(config), connection: config.kafka, role: `detector-${config.nodeName}`, logger });
const rules = new DetectionRules();
const eventsTopic = topicName('events', prefix);
// Policies' Rego modules run in a worker thread, each event within a time budget (libs/rego RegoBatchEvaluator).
const rego = new RegoBatchEvaluator();
shutdown.register('rego', () => rego.close());
const detector = createDetector({
  rules,
  rego,
  alertsTopic: topicName('alerts', prefix),
  logger,
  readRange: (range) => readPartitionRange({ client, topic: eventsTopic, ...range }),
});
const groupId = `${prefix}stinger.detector`;
// Created here, started below once every policy is read: its health is served from the start.
const worker = createTransactionalTransform({
  client,
  groupId,
  // Stable across restarts of this instance, so a restart fences its predecessor's open transaction.
  transactionalId: `${groupId}.${config.nodeName}`,
  inputTopics: [eventsTopic],
  sessionTimeoutMs: 10_000,
  transform: (record) => detector.transform(record),
  prepareBatch: (records) => detector.prepareBatch(records),
  onGroupJoin: () => detector.resetPartitions(),
  // A batch that did not commit (aborted while brokers were away) taught the partition's state events that come again.
  onBatchNotCommitted: ({ partition }) => detector.resetPartition(partition),
  // A schema the registry refuses for an output is a configuration error: one fatal line, exit 1, nothing committed.
  onFatal: (error) => void shutdown.fail(error),
  deadLetter: createDeadLetterBuilder({ consumer: groupId, dlqTopic: topicName('dlq', prefix) }),
});
const catchUp = watchCatchUp({ client, groupId, topics: [eventsTopic], maxLag: CAUGHT_UP_LAG, intervalMs: LAG_INTERVAL_MS });
shutdown.register('catch-up', async () => catchUp.stop());
const health = { consumer: () => worker.health(), caughtUp: () => catchUp.check() };
const metrics = createProcessMetrics(health);
const metricsServer = await serveMetrics({ address: config.detectorMetricsAddress, logger, scrape: () => metrics.scrape(), health });
shutdown.register('metrics', () => metricsServer.stop());

// Wrong credentials or an untrusted broker certificate end the process here with one line, not in client retries.
await exitOnWrongKafkaSettings(client, { logger });
const policies = await followSignedPolicies({ client, topic: topicName('policies', prefix), ring: keyRing.current, rules, logger });
shutdown.register('policies', () => policies.stop());
shutdown.register('transform', () => worker.stop());

const statsTimer = setInterval(() => logger.info({ transform: worker.stats, detector: detector.stats, policies: rules.size }, 'detector stats'), STATS_INTERVAL_MS);
statsTimer.unref();

await worker.start();
logger.info({ groupId, policies: rules.size, metricsPort: metricsServer.port }, 'detector running');
