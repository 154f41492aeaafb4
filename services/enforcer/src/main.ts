/**
 * The enforcer: stinger.alerts → decisions (libs/enforcement) → signed kill commands on stinger.control, keyed by
 * node; the agents' answers on stinger.control.acks → one outcome per alert on stinger.enforcements (killed,
 * killed_in_kernel, monitor_only, protected, target_gone, timed_out, …). This file wires config, logger, keys and
 * Kafka and owns the process life cycle.
 *
 * Delivery: an alert's command and its final records are produced before the alert's offset is committed, and a
 * redelivered alert is recognised by its id, also across a crash: before the first batch of each partition it reads
 * (after a start or a rebalance), the enforcer reads stinger.enforcements and stinger.control from that batch's
 * first record's time (less CLOCK_SKEW_MS) to their ends, and the alerts they name get nothing again; so each alert's
 * records are published once. Commands expire (STINGER_ENFORCER_COMMAND_TTL_MS) and agents refuse replays, so a
 * command sent twice still acts at most once. Commands awaiting an answer when the enforcer stops get no outcome
 * record (their alerts are committed); see docs/policies.md.
 *
 * STINGER_ENFORCER_METRICS_ADDRESS serves /metrics, /healthz and /readyz from the start: ready once the producer is
 * connected and the alerts consumer joined its group; not live when that consumer's loop is stuck.
 */
import { loadConfig, requireBrokers } from '@stinger/config';
import { DETECTOR_DECIDED_LINEAGE, DetectionRules, followSignedPolicies } from '@stinger/detection';
import { Enforcer, handledAlertIds } from '@stinger/enforcement';
import { decodeAlert, decodeControlAck, encodeControlCommand, encodeEnforcement, type Enforcement } from '@stinger/events';
import {
  createConsumer,
  createKafkaClient,
  exitOnWrongKafkaSettings,
  createProducer,
  deadLetterRecord,
  installShutdown,
  readTopicToEnd,
  sendUntilDelivered,
  tailTopic,
  topicName,
  trackProducerHealth,
  type ProducerRecord,
} from '@stinger/kafka';
import { createLogger } from '@stinger/log';
import { createProcessMetrics, deferredCheck, serveMetrics } from '@stinger/metrics';
import { untilDone } from '@stinger/retry';
import { readSigningKey, watchKeyRing } from '@stinger/trust';

const config = loadConfig();
const logger = createLogger({ name: 'enforcer', level: config.logLevel });
const prefix = config.kafka.topicPrefix;
const shutdown = installShutdown({ logger });
const keyRing = watchKeyRing({ dir: config.keysDir, logger });
shutdown.register('key-ring', async () => keyRing.stop());
// Read now, so a missing key stops the enforcer at start with the file named (SigningKeyMissingError), and again for
// every command (rotation).
readSigningKey(config.keysDir);

const client = createKafkaClient({ brokers: requireBrokers(config), connection: config.kafka, role: `enforcer-${config.nodeName}`, logger });
// Commands go out at once: every millisecond here is kill latency.
const producer = createProducer({ client, lingerMs: 0, compression: 'none' });
const producerHealth = trackProducerHealth(producer);
// The alerts consumer is created once the policies are read.
const alertsHealth = deferredCheck();
const health = { producer: producerHealth.check, consumer: alertsHealth.check };
const metrics = createProcessMetrics(health);
const metricsServer = await serveMetrics({ address: config.enforcerMetricsAddress, logger, scrape: () => metrics.scrape(), health });
shutdown.register('metrics', () => metricsServer.stop());

// Wrong credentials or an untrusted broker certificate end the process here with one line, not in client retries.
await exitOnWrongKafkaSettings(client, { logger });
// The enforcer sees alerts, not the events that teach process trees: a pid selector's followChildren was decided by the detector.
const rules = new DetectionRules({ lineage: DETECTOR_DECIDED_LINEAGE });
const policies = await followSignedPolicies({ client, topic: topicName('policies', prefix), ring: keyRing.current, rules, logger });

const enforcer = new Enforcer({
  rules,
  signingKey: () => readSigningKey(config.keysDir),
  dryRun: config.enforcer.dryRun,
  protectedNamespaces: config.enforcer.protectedNamespaces,
  commandTtlMs: config.enforcer.commandTtlMs,
  ackTimeoutMs: config.enforcer.ackTimeoutMs,
  maxKillsPerMinute: config.enforcer.maxKillsPerMinute,
});
await producer.connect();
shutdown.register('producer', () => producer.disconnect());
const controlTopic = topicName('control', prefix);
const enforcementsTopic = topicName('enforcements', prefix);
const dlqTopic = topicName('dlq', prefix);
const groupId = `${prefix}stinger.enforcer`;

const enforcementRecord = (record: Enforcement): ProducerRecord => ({ key: record.alert_id, value: encodeEnforcement(record) });
/**
 * Commands and outcomes exist only here once the Enforcer decided them (a redelivered alert gets nothing), so they are
 * sent until the brokers take them, through any outage, and given up only at shutdown.
 */
const deliver = (topic: string, records: readonly ProducerRecord[]) => sendUntilDelivered({ producer, logger, stopping: () => shutdown.stopping }, topic, records);
async function publishOutcomes(records: readonly Enforcement[]): Promise<void> {
  if (records.length === 0) return;
  for (const record of records) logger.info({ alert: record.alert_id, policy: record.policy, rule: record.rule, outcome: record.outcome, detail: record.detail }, 'enforcement');
  await deliver(enforcementsTopic, records.map(enforcementRecord));
}

const acks = await tailTopic({
  client,
  topic: topicName('controlAcks', prefix),
  sinceMs: null,
  onRecord: (record) => {
    try {
      void publishOutcomes(enforcer.onAck(decodeControlAck(record.value ?? Buffer.alloc(0)))).catch((error: unknown) => logger.error({ err: error }, 'outcome not published'));
    } catch (error) {
      logger.warn({ err: error }, 'undecodable acknowledgement sent to the dead-letter topic');
      void deliver(dlqTopic, [deadLetterRecord({ consumer: groupId, dlqTopic }, record, { reason: 'undecodable ControlAck', detail: (error as Error).message })]).catch(() => undefined);
    }
  },
});

const expiryTimer = setInterval(() => void publishOutcomes(enforcer.expire()).catch((error: unknown) => logger.error({ err: error }, 'timeouts not published')), 1000);
shutdown.register('expiry', async () => clearInterval(expiryTimer));

/** How far an alert's record time may run ahead of the enforcer's records of it (different hosts' clocks). */
const CLOCK_SKEW_MS = 60_000;
/** Partitions of stinger.alerts read since the last (re)join whose handled alerts are known. */
const recognised = new Set<number>();
/** How often the alerts consumer commits what it handled (see createConsumer's commitIntervalMs). */
const ALERT_COMMIT_INTERVAL_MS = 5000;

/**
 * The alerts of `records` (one partition's batch) that an enforcer before this one handled: marked handled. Read
 * until it succeeds (a rejoin may come while brokers are away): no alert of the partition is decided before.
 */
async function recogniseHandled(records: readonly { readonly partition: number; readonly timestampMs: number }[]): Promise<void> {
  const first = records[0];
  if (first === undefined || recognised.has(first.partition)) return;
  const sinceMs = Math.min(...records.map((r) => r.timestampMs)) - CLOCK_SKEW_MS;
  let handled = new Set<string>();
  await untilDone({ what: `read what was handled for stinger.alerts[${first.partition}]`, logger, isFatal: () => shutdown.stopping, quietFirstSuccess: true }, async () => {
    const [outcomes, commands] = await Promise.all([readTopicToEnd({ client, topic: enforcementsTopic, sinceMs }), readTopicToEnd({ client, topic: controlTopic, sinceMs })]);
    handled = handledAlertIds({ enforcements: outcomes.map((r) => r.value), commands: commands.map((r) => r.value) });
  });
  enforcer.markHandled(handled);
  recognised.add(first.partition);
  logger.info({ partition: first.partition, sinceMs, handled: handled.size }, 'alerts handled before this start recognised');
}

const alertsConsumer = createConsumer({
  client,
  groupId,
  topics: [topicName('alerts', prefix)],
  // A first start takes the alerts already there; the enforcer records old ones expired rather than acting.
  fromBeginning: true,
  onGroupJoin: () => recognised.clear(),
  // Redelivered alerts are recognised (recogniseHandled), so the offsets need not be committed after every batch: one
  // commit request per interval instead of one per batch of alerts, and a crash gives up to that much again.
  commitIntervalMs: ALERT_COMMIT_INTERVAL_MS,
  handleBatch: async (records) => {
    await recogniseHandled(records);
    const commands: ProducerRecord[] = [];
    const outcomes: Enforcement[] = [];
    for (const record of records) {
      let output;
      try {
        output = enforcer.onAlert(decodeAlert(record.value ?? Buffer.alloc(0)));
      } catch (error) {
        logger.warn({ err: error, offset: record.offset.toString() }, 'undecodable alert sent to the dead-letter topic');
        await deliver(dlqTopic, [deadLetterRecord({ consumer: groupId, dlqTopic }, record, { reason: 'undecodable Alert', detail: (error as Error).message })]);
        continue;
      }
      for (const command of output.commands) {
        logger.info({ command: command.command_id, node: command.node, pid: command.target.pid, policy: command.policy, dryRun: command.dry_run }, 'kill command sent');
        commands.push({ key: command.node, value: encodeControlCommand(command) });
      }
      outcomes.push(...output.enforcements);
    }
    await deliver(controlTopic, commands);
    await publishOutcomes(outcomes);
  },
});
alertsHealth.set(() => alertsConsumer.health());
// The three readers stop together: each waits out its current fetch (up to 5 s), and none needs another; the
// producer they publish through closes after them (closers run in reverse order of registration).
shutdown.register('readers', async () => {
  await Promise.all([alertsConsumer.stop(), acks.stop(), policies.stop()]);
});
await alertsConsumer.start();
logger.info({ groupId, dryRun: config.enforcer.dryRun, protectedNamespaces: config.enforcer.protectedNamespaces, metricsPort: metricsServer.port }, 'enforcer running');
