/** `stinger status`: the broker, the topics with their record counts, and the running services. */
import type { StingerConfig } from '@stinger/config';
import { createKafkaClient, fetchTopicOffsets, TOPIC_IDS, topicName } from '@stinger/kafka';
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
