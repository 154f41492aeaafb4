/**
 * The enricher: stinger.events.raw → container identity and pod metadata → stinger.events, exactly
 * once (one Kafka transaction per fetched batch: outputs, dead letters and consumed offsets). Logic
 * lives in libs (enrichment, k8s, kafka); this file wires them and owns the process life cycle.
 *
 * In a cluster (KUBECONFIG, or the in-cluster service account) pods come from informers on the API
 * server; outside one it still runs, adds container identity only, marks container events
 * not_enriched ('no cluster'), and says so once in its log.
 *
 * STINGER_ENRICHER_METRICS_ADDRESS serves /metrics, /healthz and /readyz from the start: ready once the pod informers
 * synced and the consumer joined its group; not live when the consumer's loop is stuck.
 */
import { loadConfig, requireBrokers } from '@stinger/config';
import { createEnricher, createEnrichmentMetrics } from '@stinger/enrichment';
import { createPodIndex, DisabledPodIndex, loadKubeConfig, type PodIndex } from '@stinger/k8s';
import { createDeadLetterBuilder, createKafkaClient, exitOnWrongKafkaSettings, createTransactionalTransform, installShutdown, readPartitionRange, topicName } from '@stinger/kafka';
import { createLogger } from '@stinger/log';
import { createProcessMetrics, deferredCheck, serveMetrics } from '@stinger/metrics';

/** Longest a batch waits for pod metadata the API server has not shown yet. */
const LATE_METADATA_MAX_WAIT_MS = 2000;
/** How long the first informer sync may take before events flow with what is known. */
const INITIAL_SYNC_TIMEOUT_MS = 30_000;
const STATS_INTERVAL_MS = 60_000;

const config = loadConfig();
const logger = createLogger({ name: 'enricher', level: config.logLevel });
const prefix = config.kafka.topicPrefix;
const shutdown = installShutdown({ logger });
const podsHealth = deferredCheck();
const consumerHealth = deferredCheck();
const health = { pods: podsHealth.check, consumer: consumerHealth.check };
// Node.js's process metrics (heap, RSS, event loop) and the health gauges, as every service has, plus the enricher's own.
const processMetrics = createProcessMetrics(health);
const metrics = createEnrichmentMetrics({ registry: processMetrics.registry });
const metricsServer = await serveMetrics({ address: config.enricherMetricsAddress, logger, scrape: () => processMetrics.scrape(), health });
shutdown.register('metrics', () => metricsServer.stop());

const kubeConfig = loadKubeConfig(config);
let index: PodIndex;
if (kubeConfig === null) {
  index = new DisabledPodIndex();
  logger.info('no cluster: container identity only');
} else {
  index = createPodIndex({ kubeConfig, logger, tombstoneCapacity: 4096, tombstoneTtlMs: 5 * 60_000 });
}
shutdown.register('pod-index', () => index.stop());
podsHealth.set(() => {
  const { synced } = index.stats();
  return { live: true, ready: synced, detail: { mode: index.mode, synced } };
});
await index.start();
if (!(await index.waitForSync(INITIAL_SYNC_TIMEOUT_MS))) {
  logger.warn({ timeoutMs: INITIAL_SYNC_TIMEOUT_MS }, 'pod informers not synced yet; enriching with what is known');
}

const groupId = `${prefix}stinger.enricher`;
const rawTopic = topicName('eventsRaw', prefix);
const client = createKafkaClient({ brokers: requireBrokers(config), connection: config.kafka, role: `enricher-${config.nodeName}`, logger });
const enricher = createEnricher({
  index,
  eventsTopic: topicName('events', prefix),
  logger,
  metrics,
  maxWaitMs: LATE_METADATA_MAX_WAIT_MS,
  // The repeat filter of a partition new to this instance is rebuilt from the records before its first batch.
  readRange: (range) => readPartitionRange({ client, topic: rawTopic, ...range }),
});
// Wrong credentials or an untrusted broker certificate end the process here with one line, not in client retries.
await exitOnWrongKafkaSettings(client, { logger });
const worker = createTransactionalTransform({
  client,
  groupId,
  // Stable across restarts of this instance, so a restart fences its predecessor's open transaction.
  transactionalId: `${groupId}.${config.nodeName}`,
  inputTopics: [rawTopic],
  // A crashed enricher's partitions go to its successor after this long (measured: 30 s with the default).
  sessionTimeoutMs: 10_000,
  transform: (record) => enricher.transform(record),
  prepareBatch: (records) => enricher.prepareBatch(records),
  onGroupJoin: () => enricher.resetPartitions(),
  onBatchNotCommitted: ({ partition }) => enricher.resetPartition(partition),
  // A schema the registry refuses for an output is a configuration error: one fatal line, exit 1, nothing committed.
  onFatal: (error) => void shutdown.fail(error),
  deadLetter: createDeadLetterBuilder({ consumer: groupId, dlqTopic: topicName('dlq', prefix) }),
});
shutdown.register('transform', () => worker.stop());
consumerHealth.set(() => worker.health());

const statsTimer = setInterval(() => {
  logger.info({ transform: worker.stats, heldBatches: enricher.stats, index: index.stats() }, 'enricher stats');
}, STATS_INTERVAL_MS);
statsTimer.unref();

await worker.start();
logger.info({ mode: index.mode, groupId, metricsPort: metricsServer.port }, 'enricher running');
