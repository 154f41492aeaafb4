/**
 * @stinger/agent-api: the node agent's local gRPC API (events, health, policies) and its Prometheus
 * metrics. The contract is proto/stinger/agent/v1/agent.proto; the agent service wires both.
 */
export { createAgentApiServer, DEFAULT_AGENT_API_ADDRESS } from './server.ts';
export type { AgentApiServer, AgentApiServerOptions } from './server.ts';
export { createAgentApiClient } from './client.ts';
export type { AgentApiClient, AgentApiClientCallOptions, EventEnvelopeView, EventSubscription } from './client.ts';
export { createAgentMetrics, snapshotFromSources, DEFAULT_METRICS_ADDRESS, PRODUCE_LATENCY_BUCKETS } from './metrics.ts';
export type { AgentMetrics, AgentMetricsOptions, AgentMetricsSnapshot, MetricsHttpServer } from './metrics.ts';
export { compileEventFilter } from './event-filter.ts';
export type { EventFilter } from './event-filter.ts';
export { sensorHealthOf, kernelLossCounts, policyStatusView, LOSS_CAUSES, POLICY_STATES } from './types.ts';
export type {
  AgentApiSources,
  CgroupFlow,
  FileGuardCounts,
  FilePathCounts,
  AgentHealth,
  AgentHealthReport,
  FeatureAvailability,
  KafkaHealth,
  LossCause,
  LostRecordsCount,
  PolicyMode,
  PolicyState,
  PolicyStatusView,
  ProcessCacheHealth,
  SensorHealth,
  SensorLossCounters,
  SensorState,
} from './types.ts';
export { AgentApiError, AgentApiAddressError, AgentApiBindError, AgentApiCallError, AgentApiFilterError } from './errors.ts';
export { PROTO_ROOT, PROTO_FILE, SERVICE_NAME } from './wire.ts';
