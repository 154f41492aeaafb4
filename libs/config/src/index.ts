export { loadConfig, requireBrokers, processEnvironment, ConfigError } from './config.ts';
export type { StingerConfig, KafkaConfig, AgentConfig } from './config.ts';
