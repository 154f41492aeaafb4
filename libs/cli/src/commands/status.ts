/**
 * `stinger status [-o json]`: the broker, the running services, the local agent's health, the consumer lag of each
 * consuming service, and the topics with their record counts. Collected into one report first, then printed as lines
 * (one per fact) or as one JSON object (`-o json`, for scripts: the same facts, counts as numbers).
 * Exit 1 when no broker is known (none running locally and KAFKA_BROKERS unset), else 0.
 */
import type { StingerConfig } from '@stinger/config';
import { createKafkaClient, fetchConsumerLag, fetchTopicOffsets, TOPIC_IDS, topicName, type TopicId } from '@stinger/kafka';
import { createAgentApiClient } from '@stinger/agent-api';
import { readRunningBroker } from '@stinger/local-broker';
import type { Logger } from '@stinger/log';
import { runDir, runningServices } from '../run-state.ts';

type AgentReport =
  | {
      readonly answered: true;
      readonly node: string;
      readonly uptimeSeconds: number;
      readonly sensors: readonly { readonly name: string; readonly state: string }[];
      readonly kafka: { readonly mode: string; readonly acknowledged: number; readonly published: number };
      readonly queued: number;
      readonly lost: number;
    }
  | { readonly answered: false; readonly address: string; readonly error: string };

type LagReport = { readonly service: string; readonly topic: string; readonly lag: number; readonly committed: boolean } | { readonly service: string; readonly topic: string; readonly error: string };
type TopicReport = { readonly topic: string; readonly partitions: number; readonly records: number } | { readonly topic: string; readonly error: string };

export interface StatusReport {
  readonly localBroker: { readonly pid: number; readonly brokers: string } | null;
  readonly brokers: string | null;
  readonly services: readonly { readonly name: string; readonly pid: number }[];
  readonly agent: AgentReport | null;
  readonly consumers: readonly LagReport[];
  readonly topics: readonly TopicReport[];
}

/** The local agent's own report over its gRPC API (GetHealth). */
async function agentHealth(config: StingerConfig): Promise<AgentReport> {
  const client = createAgentApiClient(config.agent.grpcAddress);
  try {
    const health = await client.getHealth({ timeoutMs: 3000 });
    return {
      answered: true,
      node: health.node,
      uptimeSeconds: Math.round(health.uptimeSeconds),
      sensors: health.sensors.map((s) => ({ name: s.name, state: s.state })),
      kafka: { mode: health.kafka.mode, acknowledged: health.kafka.acknowledged, published: health.kafka.published },
      queued: health.queueDepth,
      lost: health.lostRecords.reduce((sum, l) => sum + l.count, 0),
    };
  } catch (error) {
    return { answered: false, address: config.agent.grpcAddress, error: (error as Error).message };
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

export async function collectStatus(config: StingerConfig, logger: Logger): Promise<StatusReport> {
  const local = await readRunningBroker(runDir(config));
  const brokers = config.kafka.brokers?.join(',') ?? local?.brokers ?? null;
  const services = runningServices(config).map((s) => ({ name: s.name, pid: s.pid }));
  const agent = services.some((s) => s.name === 'agent') ? await agentHealth(config) : null;
  const report = { localBroker: local ? { pid: local.pid, brokers: local.brokers } : null, brokers, services, agent };
  if (!brokers) return { ...report, consumers: [], topics: [] };
  const client = createKafkaClient({ brokers: brokers.split(','), connection: config.kafka, role: 'status', logger, retries: 1 });
  const prefix = config.kafka.topicPrefix;
  const consumers: LagReport[] = [];
  for (const [service, input] of CONSUMERS) {
    const topic = topicName(input, prefix);
    try {
      const { lag, committed } = await fetchConsumerLag(client, `${prefix}stinger.${service}`, topic);
      consumers.push({ service, topic, lag: Number(lag), committed });
    } catch (error) {
      consumers.push({ service, topic, error: (error as Error).message });
    }
  }
  const topics: TopicReport[] = [];
  for (const id of TOPIC_IDS) {
    const topic = topicName(id, prefix);
    try {
      const offsets = await fetchTopicOffsets(client, topic);
      topics.push({ topic, partitions: offsets.partitions.length, records: Number(offsets.partitions.reduce((sum, p) => sum + (p.high - p.low), 0n)) });
    } catch (error) {
      topics.push({ topic, error: (error as Error).message });
    }
  }
  return { ...report, consumers, topics };
}

/** The report as lines, one fact each. */
export function statusLines(report: StatusReport): string[] {
  const lines: string[] = [];
  lines.push(report.localBroker ? `local broker: running (pid ${report.localBroker.pid}) on ${report.localBroker.brokers}` : 'local broker: not running');
  lines.push(`services: ${report.services.length === 0 ? 'none running' : report.services.map((s) => `${s.name} (pid ${s.pid})`).join(', ')}`);
  const { agent } = report;
  if (agent?.answered === true) {
    lines.push(`agent: ${agent.node} up ${agent.uptimeSeconds} s; sensors ${agent.sensors.map((s) => `${s.name}:${s.state}`).join(' ')}`);
    lines.push(`agent: kafka ${agent.kafka.mode}, ${agent.kafka.acknowledged} of ${agent.kafka.published} events acknowledged, ${agent.queued} queued, ${agent.lost} lost`);
  } else if (agent?.answered === false) {
    lines.push(`agent: no answer on ${agent.address} (${agent.error})`);
  }
  for (const c of report.consumers) {
    if ('error' in c) lines.push(`${c.service}: lag unavailable (${c.error})`);
    else lines.push(`${c.service}: ${c.committed ? `${c.lag} records behind on ${c.topic}` : `has consumed nothing of ${c.topic} yet (${c.lag} waiting)`}`);
  }
  for (const t of report.topics) lines.push('error' in t ? `${t.topic}: unavailable (${t.error})` : `${t.topic}: ${t.partitions} partitions, ${t.records} records retained`);
  return lines;
}

export async function status(options: { readonly config: StingerConfig; readonly logger: Logger; readonly output: 'text' | 'json'; readonly out: (line: string) => void }): Promise<number> {
  const report = await collectStatus(options.config, options.logger);
  if (options.output === 'json') options.out(JSON.stringify(report));
  else for (const line of statusLines(report)) options.out(line);
  return report.brokers === null ? 1 : 0;
}
