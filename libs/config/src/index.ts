export { loadConfig, requireBrokers, processEnvironment, ConfigError, KAFKA_SASL_MECHANISMS, AGENT_WATCHES, DEFAULT_AGENT_WATCH, SERVICE_ACCOUNT_DIR } from './config.ts';
export type { StingerConfig, KafkaConfig, KafkaTlsConfig, KafkaSaslConfig, KafkaSaslMechanism, SchemaRegistryConfig, AgentConfig, AgentEgressConfig, AgentWatch, KubeconfigSource, ConfigProbe, ConsoleConfig } from './config.ts';
