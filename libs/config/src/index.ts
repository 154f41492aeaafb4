export { loadConfig, requireBrokers, processEnvironment, ConfigError, AGENT_WATCHES, DEFAULT_AGENT_WATCH } from './config.ts';
export type { StingerConfig, KafkaConfig, AgentConfig, AgentWatch } from './config.ts';
