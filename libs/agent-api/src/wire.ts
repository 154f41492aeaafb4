/**
 * The .proto (proto/stinger/agent/v1/agent.proto), loaded at run time with proto-loader, and the one
 * place where the library's TypeScript shapes meet the wire shapes (snake_case, 64-bit integers as
 * decimal strings, unset strings as '').
 */
import { fileURLToPath } from 'node:url';
import { loadSync, type MethodDefinition, type PackageDefinition, type ServiceDefinition } from '@grpc/proto-loader';
import { formatTimeNs, renderEventJson, type RawEvent } from '@stinger/events';
import type { AgentHealth, AgentHealthReport, LossCause, PolicyMode, PolicyState, PolicyStatusView, SensorState } from './types.ts';

export const PROTO_ROOT = fileURLToPath(new URL('../proto', import.meta.url));
export const PROTO_FILE = 'stinger/agent/v1/agent.proto';
export const SERVICE_NAME = 'stinger.agent.v1.AgentService';

/** 64-bit integers travel as decimal strings (proto-loader `longs: String`); we send numbers or strings. */
type WireLong = string | number;

export interface WireGetEventsRequest {
  readonly kinds: string[];
  readonly binary_contains: string;
  readonly pid: number;
  readonly exec_id: string;
}

export interface WireEventEnvelope {
  readonly kind: string;
  readonly seq: WireLong;
  readonly time: string;
  readonly node: string;
  readonly json: string;
  readonly dropped: WireLong;
}

export interface WireHealth {
  readonly agent_id: string;
  readonly node: string;
  readonly uptime_seconds: number;
  readonly sensors: { name: string; state: string; reason: string; mode: string }[];
  readonly lost_records: { sensor: string; cause: string; count: WireLong }[];
  readonly queue_depth: WireLong;
  readonly kafka: { mode: string; published: WireLong; acknowledged: WireLong; spooled: WireLong; spool_bytes: WireLong } | null;
  readonly process_cache: { live: WireLong; exited: WireLong; misses: WireLong } | null;
  readonly event_streams: number;
  readonly event_stream_dropped: WireLong;
}

export interface WirePolicyStatus {
  readonly name: string;
  readonly generation: WireLong;
  readonly mode: string;
  readonly state: string;
  readonly kernel_rules: number;
  readonly pipeline_rules: number;
  readonly messages: string[];
}

export interface WireListPoliciesResponse {
  readonly policies: WirePolicyStatus[];
}

export type Empty = Record<string, never>;

export interface AgentServiceDefinition {
  readonly GetEvents: MethodDefinition<WireGetEventsRequest, WireEventEnvelope>;
  readonly GetHealth: MethodDefinition<Empty, WireHealth>;
  readonly ListPolicies: MethodDefinition<Empty, WireListPoliciesResponse>;
}

let loaded: AgentServiceDefinition | null = null;

/** The service definition, loaded once per process (proto-loader parses the file on first use, ~ms). */
export function agentServiceDefinition(): AgentServiceDefinition {
  if (loaded) return loaded;
  const definition: PackageDefinition = loadSync(PROTO_FILE, {
    includeDirs: [PROTO_ROOT],
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const service = definition[SERVICE_NAME];
  if (!service || !isServiceDefinition(service) || !service['GetEvents'] || !service['GetHealth'] || !service['ListPolicies']) {
    throw new Error(`${PROTO_FILE} does not define ${SERVICE_NAME} with GetEvents, GetHealth and ListPolicies`);
  }
  // The method shapes are those of the .proto above; proto-loader only knows them as `object`.
  loaded = service as unknown as AgentServiceDefinition;
  return loaded;
}

function isServiceDefinition(definition: PackageDefinition[string]): definition is ServiceDefinition {
  return !('format' in definition);
}

/** The parts of an envelope shared by every stream that receives the event (rendered once). */
export function envelopeOf(event: RawEvent): WireEventEnvelope {
  const rendered = renderEventJson(event);
  return {
    kind: event.kind,
    seq: event.seq.toString(),
    time: typeof rendered['time'] === 'string' ? rendered['time'] : formatTimeNs(event.time),
    node: event.node,
    json: JSON.stringify(rendered),
    dropped: 0,
  };
}

export function healthToWire(health: AgentHealthReport): WireHealth {
  return {
    agent_id: health.agentId,
    node: health.node,
    uptime_seconds: health.uptimeSeconds,
    sensors: health.sensors.map((sensor) => ({ name: sensor.name, state: sensor.state, reason: sensor.reason ?? '', mode: sensor.mode ?? '' })),
    lost_records: health.lostRecords.map((lost) => ({ sensor: lost.sensor, cause: lost.cause, count: lost.count })),
    queue_depth: health.queueDepth,
    kafka: {
      mode: health.kafka.mode,
      published: health.kafka.published,
      acknowledged: health.kafka.acknowledged,
      spooled: health.kafka.spooled,
      spool_bytes: health.kafka.spoolBytes,
    },
    process_cache: { live: health.processCache.live, exited: health.processCache.exited, misses: health.processCache.misses },
    event_streams: health.eventStreams,
    event_stream_dropped: health.eventStreamDropped,
  };
}

export function healthFromWire(wire: WireHealth): AgentHealthReport {
  const kafka = wire.kafka;
  const cache = wire.process_cache;
  const health: AgentHealth = {
    agentId: wire.agent_id,
    node: wire.node,
    uptimeSeconds: wire.uptime_seconds,
    sensors: wire.sensors.map((sensor) => ({ name: sensor.name, state: sensor.state as SensorState, reason: sensor.reason || null, mode: sensor.mode || null })),
    lostRecords: wire.lost_records.map((lost) => ({ sensor: lost.sensor, cause: lost.cause as LossCause, count: Number(lost.count) })),
    queueDepth: Number(wire.queue_depth),
    kafka: {
      mode: kafka?.mode === 'spooling' ? 'spooling' : 'direct',
      published: Number(kafka?.published ?? 0),
      acknowledged: Number(kafka?.acknowledged ?? 0),
      spooled: Number(kafka?.spooled ?? 0),
      spoolBytes: Number(kafka?.spool_bytes ?? 0),
    },
    processCache: { live: Number(cache?.live ?? 0), exited: Number(cache?.exited ?? 0), misses: Number(cache?.misses ?? 0) },
  };
  return { ...health, eventStreams: wire.event_streams, eventStreamDropped: Number(wire.event_stream_dropped) };
}

export function policyToWire(policy: PolicyStatusView): WirePolicyStatus {
  return {
    name: policy.name,
    generation: policy.generation,
    mode: policy.mode ?? '',
    state: policy.state,
    kernel_rules: policy.kernelRules,
    pipeline_rules: policy.pipelineRules,
    messages: [...policy.messages],
  };
}

export function policyFromWire(wire: WirePolicyStatus): PolicyStatusView {
  return {
    name: wire.name,
    generation: Number(wire.generation),
    mode: wire.mode === 'enforce' || wire.mode === 'monitor' ? (wire.mode satisfies PolicyMode) : null,
    state: wire.state as PolicyState,
    kernelRules: wire.kernel_rules,
    pipelineRules: wire.pipeline_rules,
    messages: wire.messages,
  };
}
