/**
 * `stinger status [-o json]`: the broker, the services started on this machine, the services connected to the
 * broker wherever they run (a cluster's pods included), each node's agent health, the consumer lag of each consuming
 * service, and the topics with their record counts. Collected into one report first, then printed as lines (one per
 * fact) or as one JSON object (`-o json`, for scripts: the same facts, counts as numbers).
 *
 * What runs elsewhere is learnt from the broker alone, so the command works from any machine that reaches it:
 * - connected services: the members of the consumer groups (every Stinger service consumes something: the
 *   pipeline's services in their groups, the agents and the policy-controller through tails of their own), named by
 *   their client ids, `<KAFKA_CLIENT_ID>-<service>-<pod or node>`, with the address the broker sees them at;
 * - agents: the latest AgentHealth record of each node on the compacted stinger.agents.
 * The local agent's gRPC API is asked as well when `stinger up` started one here.
 * Exit 1 when no broker is known (none running locally and KAFKA_BROKERS unset), else 0.
 */
import type { StingerConfig } from '@stinger/config';
import { decodeAgentHealth, type AgentHealth } from '@stinger/events';
import {
  createKafkaClient,
  fetchConsumerLag,
  fetchGroupMembers,
  fetchTopicOffsets,
  latestByKey,
  readTopicToEnd,
  TOPIC_IDS,
  topicName,
  type GroupMember,
  type KafkaClient,
  type TopicId,
} from '@stinger/kafka';
import { createAgentApiClient } from '@stinger/agent-api';
import { readRunningBroker } from '@stinger/local-broker';
import type { Logger } from '@stinger/log';
import { runDir, runningServices } from '../run-state.ts';
import { SERVICE_NAMES } from '../workspace.ts';

/** One sensor of an agent: whether it runs, and in which mode (lsm, kprobe, tracepoint, fanotify; null when not told). */
export interface SensorReport {
  readonly name: string;
  readonly state: string;
  readonly mode: string | null;
}

/** `process:loaded(tracepoint)`: a sensor in the text output. */
function sensorText(sensor: SensorReport): string {
  return `${sensor.name}:${sensor.state}${sensor.mode === null ? '' : `(${sensor.mode})`}`;
}

type AgentReport =
  | {
      readonly answered: true;
      readonly node: string;
      readonly uptimeSeconds: number;
      readonly sensors: readonly SensorReport[];
      readonly kafka: { readonly mode: string; readonly acknowledged: number; readonly published: number };
      readonly queued: number;
      readonly lost: number;
      readonly lostBy: readonly LostCount[];
    }
  | { readonly answered: false; readonly address: string; readonly error: string };

/** One client connected to the broker and consuming Stinger's topics (a service's pod, an agent, a tool). */
export interface ConnectedClient {
  /** The Stinger service its client id names; null for other clients of Stinger's topics. */
  readonly service: string | null;
  /** The pod or node after the service in the client id (the whole client id for other clients). */
  readonly instance: string;
  readonly host: string;
  /** The topics it subscribed to, over all its groups, sorted. */
  readonly topics: readonly string[];
}

/** Records an agent lost, by the sensor (or `publisher`) and the cause; only counts above zero are listed. */
export interface LostCount {
  readonly sensor: string;
  readonly cause: string;
  readonly count: number;
}

/** The non-zero loss counts, in the agent's order (its sensors' ring losses first). */
export function lostBy(counts: readonly { readonly sensor: string; readonly cause: string; readonly count: number | bigint }[]): LostCount[] {
  return counts.filter((l) => Number(l.count) > 0).map((l) => ({ sensor: l.sensor, cause: l.cause, count: Number(l.count) }));
}

/** `N lost`, and where they were lost when any were: `N lost (file ring_full 12, publisher spool_full 3)`. */
function lostText(total: number, by: readonly LostCount[]): string {
  return by.length === 0 ? `${total} lost` : `${total} lost (${by.map((l) => `${l.sensor} ${l.cause} ${l.count}`).join(', ')})`;
}

/** A node's agent as its latest report on stinger.agents tells it. */
export interface ReportedAgent {
  readonly node: string;
  readonly version: string;
  /** Seconds between the report and the status (an agent reports every STINGER_AGENT_HEALTH_INTERVAL_MS). */
  readonly reportedSecondsAgo: number;
  readonly uptimeSeconds: number;
  /** The sensors (kernel features left out: they are a node's, not the agent's). */
  readonly sensors: readonly SensorReport[];
  readonly kafka: { readonly mode: string; readonly acknowledged: number; readonly published: number; readonly spooled: number };
  readonly lost: number;
  /** Where they were lost: each sensor's records refused by the full ring, the reader's drops, the spool's. */
  readonly lostBy: readonly LostCount[];
  readonly policies: { readonly applied: number; readonly partial: number; readonly rejected: number };
}

type LagReport = { readonly service: string; readonly topic: string; readonly lag: number; readonly committed: boolean } | { readonly service: string; readonly topic: string; readonly error: string };
type TopicReport = { readonly topic: string; readonly partitions: number; readonly records: number } | { readonly topic: string; readonly error: string };

export interface StatusReport {
  readonly localBroker: { readonly pid: number; readonly brokers: string } | null;
  readonly brokers: string | null;
  readonly services: readonly { readonly name: string; readonly pid: number }[];
  readonly agent: AgentReport | null;
  /** An error where the broker could not tell. */
  readonly connected: readonly ConnectedClient[] | { readonly error: string };
  readonly agents: readonly ReportedAgent[] | { readonly error: string };
  readonly consumers: readonly LagReport[];
  readonly topics: readonly TopicReport[];
}

/**
 * The clients of Stinger's topics among the consumer groups' members, one per client id and address (an agent
 * tails two topics, each in a group of its own). A client id `<clientIdPrefix>-<service>-<instance>` names a
 * service of SERVICE_NAMES; members of other clients are kept when they subscribed to one of `stingerTopics`.
 * Sorted by service (others last), then instance. Pure.
 */
export function connectedClients(members: readonly GroupMember[], clientIdPrefix: string, stingerTopics: ReadonlySet<string>): ConnectedClient[] {
  // Longest names first: a name that starts another (none today) must not take its clients.
  const services = [...SERVICE_NAMES].sort((a, b) => b.length - a.length);
  const byClient = new Map<string, { service: string | null; instance: string; host: string; topics: Set<string> }>();
  for (const member of members) {
    const role = member.clientId.startsWith(`${clientIdPrefix}-`) ? member.clientId.slice(clientIdPrefix.length + 1) : null;
    const service = role === null ? undefined : services.find((name) => role === name || role.startsWith(`${name}-`));
    if (service === undefined && !member.topics.some((topic) => stingerTopics.has(topic))) continue;
    const key = `${member.clientId}@${member.clientHost}`;
    const entry = byClient.get(key) ?? {
      service: service ?? null,
      instance: service === undefined || role === null ? member.clientId : role.slice(service.length + 1),
      host: member.clientHost,
      topics: new Set<string>(),
    };
    for (const topic of member.topics) entry.topics.add(topic);
    byClient.set(key, entry);
  }
  const byService = (a: string | null, b: string | null): number => (a === b ? 0 : a === null ? 1 : b === null ? -1 : a.localeCompare(b));
  return [...byClient.values()]
    .map((entry) => ({ ...entry, topics: [...entry.topics].sort() }))
    .sort((a, b) => byService(a.service, b.service) || a.instance.localeCompare(b.instance));
}

/** Each node's latest AgentHealth record as the status reports it, sorted by node. Pure. */
export function reportedAgents(reports: readonly AgentHealth[], nowMs: number): ReportedAgent[] {
  const seconds = (ns: bigint): number => Number(ns / 1_000_000n) / 1000;
  return reports
    .map((health) => ({
      node: health.node,
      version: health.agent_version,
      reportedSecondsAgo: Math.max(0, Math.round(nowMs / 1000 - seconds(health.reported_at_ns))),
      uptimeSeconds: Math.round(seconds(health.reported_at_ns - health.started_at_ns)),
      sensors: health.sensors.filter((sensor) => !sensor.name.startsWith('feature:')).map((sensor) => ({ name: sensor.name, state: sensor.state, mode: sensor.mode })),
      kafka: { mode: health.kafka_mode, acknowledged: Number(health.events_acknowledged), published: Number(health.events_published), spooled: Number(health.events_spooled) },
      lost: health.lost_records.reduce((sum, lost) => sum + Number(lost.count), 0),
      lostBy: lostBy(health.lost_records),
      policies: { applied: health.policies_applied, partial: health.policies_partial, rejected: health.policies_rejected },
    }))
    .sort((a, b) => a.node.localeCompare(b.node));
}

async function fetchConnected(client: KafkaClient, config: StingerConfig): Promise<StatusReport['connected']> {
  try {
    const stingerTopics = new Set(TOPIC_IDS.map((id) => topicName(id, config.kafka.topicPrefix)));
    return connectedClients(await fetchGroupMembers(client), config.kafka.clientId, stingerTopics);
  } catch (error) {
    return { error: (error as Error).message };
  }
}

async function fetchAgents(client: KafkaClient, config: StingerConfig): Promise<StatusReport['agents']> {
  try {
    const records = latestByKey(await readTopicToEnd({ client, topic: topicName('agents', config.kafka.topicPrefix), timeoutMs: 15_000 }));
    const reports: AgentHealth[] = [];
    // A record this build cannot decode is left out, not a reason to show no agent at all.
    for (const record of records.values()) {
      try {
        if (record.value !== null) reports.push(decodeAgentHealth(record.value));
      } catch {
        continue;
      }
    }
    return reportedAgents(reports, Date.now());
  } catch (error) {
    return { error: (error as Error).message };
  }
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
      sensors: health.sensors.map((s) => ({ name: s.name, state: s.state, mode: s.mode })),
      kafka: { mode: health.kafka.mode, acknowledged: health.kafka.acknowledged, published: health.kafka.published },
      queued: health.queueDepth,
      lost: health.lostRecords.reduce((sum, l) => sum + l.count, 0),
      lostBy: lostBy(health.lostRecords),
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
  ['console', 'events'],
  ['console', 'alerts'],
  ['console', 'enforcements'],
];

export async function collectStatus(config: StingerConfig, logger: Logger): Promise<StatusReport> {
  const local = await readRunningBroker(runDir(config));
  const brokers = config.kafka.brokers?.join(',') ?? local?.brokers ?? null;
  const services = runningServices(config).map((s) => ({ name: s.name, pid: s.pid }));
  const agent = services.some((s) => s.name === 'agent') ? await agentHealth(config) : null;
  const report = { localBroker: local ? { pid: local.pid, brokers: local.brokers } : null, brokers, services, agent };
  if (!brokers) return { ...report, connected: [], agents: [], consumers: [], topics: [] };
  const client = createKafkaClient({ brokers: brokers.split(','), connection: config.kafka, role: 'status', logger, retries: 1 });
  const prefix = config.kafka.topicPrefix;
  // Members first: reading stinger.agents joins a group of its own, which would be listed.
  const connected = await fetchConnected(client, config);
  const agents = await fetchAgents(client, config);
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
  return { ...report, connected, agents, consumers, topics };
}

/** The report as lines, one fact each. */
export function statusLines(report: StatusReport): string[] {
  const lines: string[] = [];
  lines.push(report.localBroker ? `local broker: running (pid ${report.localBroker.pid}) on ${report.localBroker.brokers}` : 'local broker: not running');
  lines.push(`services: ${report.services.length === 0 ? 'none running' : report.services.map((s) => `${s.name} (pid ${s.pid})`).join(', ')}`);
  const { agent } = report;
  if (agent?.answered === true) {
    lines.push(`agent: ${agent.node} up ${agent.uptimeSeconds} s; sensors ${agent.sensors.map(sensorText).join(' ')}`);
    lines.push(`agent: kafka ${agent.kafka.mode}, ${agent.kafka.acknowledged} of ${agent.kafka.published} events acknowledged, ${agent.queued} queued, ${lostText(agent.lost, agent.lostBy)}`);
  } else if (agent?.answered === false) {
    lines.push(`agent: no answer on ${agent.address} (${agent.error})`);
  }
  if ('error' in report.connected) lines.push(`connected: unknown (${report.connected.error})`);
  else if (report.brokers !== null && report.connected.length === 0) lines.push('connected: no client consumes from the broker');
  else {
    for (const c of report.connected) {
      const reading = c.topics.length === 0 ? '' : `, reading ${c.topics.join(' ')}`;
      lines.push(`connected: ${c.service === null ? `client ${c.instance}` : `${c.service} ${c.instance}`} from ${c.host}${reading}`);
    }
  }
  if ('error' in report.agents) lines.push(`agents: unknown (${report.agents.error})`);
  else {
    for (const a of report.agents) {
      lines.push(
        `agent on ${a.node}: reported ${a.reportedSecondsAgo} s ago (${a.version}, up ${a.uptimeSeconds} s); sensors ${a.sensors.map(sensorText).join(' ')}; ` +
          `kafka ${a.kafka.mode}, ${a.kafka.acknowledged} of ${a.kafka.published} events acknowledged, ${a.kafka.spooled} spooled, ${lostText(a.lost, a.lostBy)}; ` +
          `policies ${a.policies.applied} applied, ${a.policies.partial} partial, ${a.policies.rejected} rejected`,
      );
    }
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
