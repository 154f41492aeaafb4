/**
 * @stinger/local-broker — a real Apache Kafka (pinned, resolved with Maven) on 127.0.0.1 for `stinger up` and tests.
 * See local-broker.ts for the start/stop contract and kafka-distribution.ts for how the jars are found.
 */
export { startLocalBroker, readRunningBroker, stopRunningBroker, DEFAULT_JVM_OPTIONS } from './local-broker.ts';
export type { StartLocalBrokerOptions, LocalBroker, RunningBroker, StopRunningBrokerOptions, SecureListenerOptions, ClusterNodeOptions } from './local-broker.ts';
export { startLocalCluster } from './local-cluster.ts';
export type { StartLocalClusterOptions, LocalCluster } from './local-cluster.ts';
export { resolveKafkaDistribution, KAFKA_VERSION } from './kafka-distribution.ts';
export type { KafkaDistribution, ResolveKafkaOptions } from './kafka-distribution.ts';
export { probeApiVersions } from './api-versions-probe.ts';
export type { ApiVersionsAnswer, ApiVersionRange, ProbeOptions } from './api-versions-probe.ts';
export { DEFAULT_BROKER_PORT } from './ports.ts';
export { BROKER_HOST, SECURE_LISTENER_MECHANISMS, clusterReplication, renderServerProperties } from './server-properties.ts';
export type { SaslUser, ClusterReplication, ClusterNodeProperties, ServerPropertiesOptions } from './server-properties.ts';
export { randomClusterId } from './cluster-id.ts';
export { LocalBrokerError, JavaRuntimeError, MavenResolveError, BrokerStartError, BrokerStopError } from './errors.ts';
