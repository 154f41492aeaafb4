export { createKafkaClient, kafkaJsConfig } from './client.ts';
export type { KafkaClient, KafkaClientOptions, KafkaConnectionSettings } from './client.ts';
export { checkKafkaConnection, exitOnWrongKafkaSettings, explainConnectionFailure } from './connection-check.ts';
export type { ConnectionCheck } from './connection-check.ts';
export { TOPICS, TOPIC_IDS, topicName, topicPartitionCounts } from './topics.ts';
export type { TopicId, TopicSpec } from './topics.ts';
export { bootstrapTopics, createTopics, fetchCommittedOffsets, fetchConsumerLag, fetchGroupMembers, fetchPartitionReplicas, fetchTopicOffsets, minInsyncReplicasFor, resetGroupOffsetsToTime, retryRetriable } from './admin.ts';
export type { BootstrapTopicsOptions, BootstrapResult, ConsumerLag, GroupMember, PartitionReplicas, TopicOffsets } from './admin.ts';
export { createProducer, groupByTopic, sendUntilDelivered } from './producer.ts';
export type { StingerProducer, ProducerRecord, CreateProducerOptions, Compression, SendUntilDeliveredOptions } from './producer.ts';
export { createConsumer } from './consumer.ts';
export type { ConsumedRecord, StingerConsumer, CreateConsumerOptions } from './consumer.ts';
export {
  INITIAL_CONSUMER_HEALTH,
  judgeCatchUp,
  judgeConsumerHealth,
  nextCatchUp,
  nextConsumerHealth,
  trackConsumerHealth,
  trackProducerHealth,
  watchCatchUp,
} from './consumer-health.ts';
export type { CatchUpState, CatchUpWatch, ConsumerHealthEvent, ConsumerHealthState, HealthTracker, TrackConsumerHealthOptions, WatchCatchUpOptions } from './consumer-health.ts';
export { createTransactionalTransform, outputSchemaRefusal, planTransaction, RecordRejectedError, whileTransactionsConcurrent } from './transform.ts';
export type {
  OutputRecord,
  RecordTransform,
  DeadLetterBuilder,
  TransactionPlan,
  TransactionalTransform,
  TransactionalTransformOptions,
  TransformStats,
} from './transform.ts';
export { installShutdown } from './shutdown.ts';
export type { Shutdown, ShutdownOptions } from './shutdown.ts';
export {
  StingerKafkaError,
  TopicBootstrapError,
  ProduceError,
  ProducerQueueFullError,
  TransactionError,
  BrokerUnavailableError,
  KafkaAuthenticationError,
  KafkaTlsError,
  OutputSchemaRefusedError,
} from './errors.ts';
export { createDeadLetterBuilder, deadLetterRecord } from './dead-letter.ts';
export type { DeadLetterBuilderOptions } from './dead-letter.ts';
export { tailTopic, readTopicToEnd, readPartitionRange, latestByKey } from './tail.ts';
export type { Tail, TailOptions, ReadToEndOptions, ReadPartitionRangeOptions } from './tail.ts';
export { planTopicRange, readTopicRange } from './topic-range.ts';
export type { PartitionRange, PlanTopicRangeOptions, RangeProgress, ReadTopicRangeOptions, TopicRange } from './topic-range.ts';
