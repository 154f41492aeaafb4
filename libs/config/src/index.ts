export { loadConfig, requireBrokers, processEnvironment, ConfigError } from './config.ts';
export type { StingerConfig, KafkaConfig } from './config.ts';
