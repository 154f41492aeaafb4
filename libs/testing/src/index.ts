/**
 * @stinger/testing — shared fixtures for tests. Kafka: `kafkaBrokerForTests` and the run-wide global setup in
 * kafka-global-setup.ts (pass its path to `node --test --test-global-setup=`), `uniqueTopicName`.
 * No Kafka client here: topics are created through libs/kafka.
 */
export { kafkaBrokerForTests, KAFKA_TEST_IMAGE } from './kafka-broker-for-tests.ts';
export type { TestKafkaBroker, TestKafkaSource, KafkaBrokerForTestsOptions } from './kafka-broker-for-tests.ts';
export { uniqueTopicName } from './unique-topic-name.ts';
export { dockerEngineAnswers, dockerEndpoint } from './docker-engine.ts';
export type { DockerEndpoint } from './docker-engine.ts';
export { sampleEgressPayload, sampleEvent, sampleRawEvent } from './raw-events.ts';
export type { SampleEventOptions, SampleRawEventOptions } from './raw-events.ts';
export { runNodeUnprivileged } from './unprivileged-node.ts';
export type { UnprivilegedNodeOptions } from './unprivileged-node.ts';
export { startKafkaContainerCluster, KAFKA_CLUSTER_IMAGE, KAFKA_CLUSTER_LABEL } from './kafka-container-cluster.ts';
export type { KafkaContainerCluster, KafkaClusterNode, StartKafkaContainerClusterOptions } from './kafka-container-cluster.ts';
export { startPodmanService, PODMAN_CONTAINERS_CONF } from './podman-service.ts';
export type { PodmanService, StartPodmanServiceOptions } from './podman-service.ts';
