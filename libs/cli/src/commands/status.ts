/**
 * `stinger status`: the broker, the running services, the consumer lag of each consuming service, and the topics
 * with their record counts.
 */
import type { StingerConfig } from '@stinger/config';
import { createKafkaClient, fetchConsumerLag, fetchTopicOffsets, TOPIC_IDS, topicName, type TopicId } from '@stinger/kafka';
import { createAgentApiClient } from '@stinger/agent-api';
import { readRunningBroker } from '@stinger/local-broker';
import type { Logger } from '@stinger/log';
import { runDir, runningServices } from '../run-state.ts';

/** The local agent's own report over its gRPC API (GetHealth). */
async function agentHealth(config: StingerConfig, out: (line: string) => void): Promise<void> {
  const client = createAgentApiClient(config.agent.grpcAddress);
  try {
    const health = await client.getHealth({ timeoutMs: 3000 });
    const sensors = health.sensors.map((s) => `${s.name}:${s.state}`).join(' ');
    const lost = health.lostRecords.reduce((sum, l) => sum + l.count, 0);
    out(`agent: ${health.node} up ${Math.round(health.uptimeSeconds)} s; sensors ${sensors}`);
    out(`agent: kafka ${health.kafka.mode}, ${health.kafka.acknowledged} of ${health.kafka.published} events acknowledged, ${health.queueDepth} queued, ${lost} lost`);
  } catch (error) {
    out(`agent: no answer on ${config.agent.grpcAddress} (${(error as Error).message})`);
  } finally {
    client.close();
  }
}

/** The services that consume a topic in a consumer group named `<prefix>stinger.<service>`, and that topic. */
const CONSUMERS: readonly (readonly [string, TopicId])[] = [
  ['enricher', 'eventsRaw'],
  ['detector', 'events'],
  ['enforcer', 'alerts'],
];

export async function status(config: StingerConfig, logger: Logger, out: (line: string) => void): Promise<number> {
  const local = await readRunningBroker(runDir(config));
  const brokers = config.kafka.brokers?.join(',') ?? local?.brokers ?? null;
  if (local) out(`local broker: running (pid ${local.pid}) on ${local.brokers}`);
  else out('local broker: not running');
  const services = runningServices(config);
  out(`services: ${services.length === 0 ? 'none running' : services.map((s) => `${s.name} (pid ${s.pid})`).join(', ')}`);
  if (services.some((s) => s.name === 'agent')) await agentHealth(config, out);
  if (!brokers) return local ? 0 : 1;
  const client = createKafkaClient({ brokers: brokers.split(','), clientId: 'stinger-status', logger, retries: 1 });
  const prefix = config.kafka.topicPrefix;
  for (const [service, input] of CONSUMERS) {
    const groupId = `${prefix}stinger.${service}`;
    try {
      const { lag, committed } = await fetchConsumerLag(client, groupId, topicName(input, prefix));
      out(`${service}: ${committed ? `${lag} records behind on ${topicName(input, prefix)}` : `has consumed nothing of ${topicName(input, prefix)} yet (${lag} waiting)`}`);
    } catch (error) {
      out(`${service}: lag unavailable (${(error as Error).message})`);
    }
  }
  for (const id of TOPIC_IDS) {
    const name = topicName(id, config.kafka.topicPrefix);
    try {
      const offsets = await fetchTopicOffsets(client, name);
      const records = offsets.partitions.reduce((sum, p) => sum + (p.high - p.low), 0n);
      out(`${name}: ${offsets.partitions.length} partitions, ${records} records retained`);
    } catch (error) {
      out(`${name}: unavailable (${(error as Error).message})`);
    }
  }
  return 0;
}
