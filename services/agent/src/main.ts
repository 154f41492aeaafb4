/**
 * The node agent: wires configuration, logger, the eBPF sensors, the process cache and Kafka.
 * Logic lives in libs (agent, bpf, process-cache, kafka); this file only connects them and owns the
 * process life cycle. Needs root (or CAP_BPF + CAP_PERFMON) and refuses clearly without.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { AgentPipeline, EventBuilder, EventPublisher, EventSpool, sensorRecordFromProcessRecord } from '@stinger/agent';
import {
  assertBpfPrivileges,
  bootToWallOffsetNs,
  cgroup2MountPoint,
  createRingBufferReader,
  decodeProcessRecord,
  ensureTracefs,
  forEachRecord,
  loadProcessSensor,
  probeFeatures,
  BpfPermissionError,
} from '@stinger/bpf';
import { loadConfig, requireBrokers } from '@stinger/config';
import { createKafkaClient, createProducer, installShutdown, topicName } from '@stinger/kafka';
import { createLogger } from '@stinger/log';
import { createCgroupPathResolver, createProcReader, ProcessCache } from '@stinger/process-cache';

const config = loadConfig();
const logger = createLogger({ name: 'agent', level: config.logLevel });

try {
  assertBpfPrivileges();
} catch (error) {
  if (error instanceof BpfPermissionError) {
    logger.fatal(error.message);
    process.stderr.write(`stinger agent: ${error.message}\n`);
    process.exit(1);
  }
  throw error;
}
ensureTracefs();
const features = probeFeatures();
logger.info({ features }, 'kernel features probed');

const agentId = randomUUID();
const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
const cgroupPaths = createCgroupPathResolver({ mountPoint: cgroup2MountPoint() });
const cache = new ProcessCache({ nodeName: config.nodeName, procReader: createProcReader(), cgroupPathOf: (id) => cgroupPaths.pathOf(id) });
const scanned = cache.scan();

const client = createKafkaClient({ brokers: requireBrokers(config), clientId: `stinger-agent-${config.nodeName}`, logger });
const producer = createProducer({ client });
const rawTopic = topicName('eventsRaw', config.kafka.topicPrefix);
const publisher = new EventPublisher({
  sink: {
    enqueue: (record) => producer.enqueue(rawTopic, record),
    sendBatch: (records) => producer.send(rawTopic, records),
    get queuedRecords() {
      return producer.queuedRecords;
    },
  },
  spool: new EventSpool({ dir: config.agent.spoolDir, maxBytes: config.agent.spoolMaxBytes }),
  logger,
});
const pipeline = new AgentPipeline({
  nodeName: config.nodeName,
  builder: new EventBuilder({ nodeName: config.nodeName, agentId, bootId, bootToWallNs: bootToWallOffsetNs(), cache }),
  publisher,
});

// The broker may be away at start: the publisher spools until the producer connects.
async function connectProducer(): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await producer.connect();
      logger.info({ attempt }, 'connected to Kafka');
      return;
    } catch (error) {
      logger.warn({ err: error, attempt }, 'Kafka not reachable yet; events are spooled meanwhile');
      await new Promise((resolve) => setTimeout(resolve, Math.min(30_000, 500 * 2 ** attempt)));
    }
  }
}

const sensor = loadProcessSensor({ logger });
const reader = createRingBufferReader({
  map: sensor.events,
  logger,
  onBatch: (batch) =>
    forEachRecord(batch, (offset, length) => {
      const record = decodeProcessRecord({ buffer: batch.buffer, view: batch.view, offset, length });
      if (record) pipeline.handle(sensorRecordFromProcessRecord(record));
    }),
});

const shutdown = installShutdown({ logger });
shutdown.register('producer', () => producer.disconnect());
shutdown.register('publisher', () => publisher.stop());
shutdown.register('sensor', async () => sensor.close());
shutdown.register('reader', () => reader.stop());

reader.start();
publisher.start();
void connectProducer().then(() => publisher.drainSpool());
logger.info({ agentId, node: config.nodeName, scanned, topic: rawTopic }, 'agent running');
