export { loadConfig, requireBrokers, processEnvironment, ConfigError, AGENT_WATCHES, DEFAULT_AGENT_WATCH, SERVICE_ACCOUNT_DIR } from './config.ts';
export type { StingerConfig, KafkaConfig, AgentConfig, AgentWatch, KubeconfigSource, ConfigProbe, ConsoleConfig } from './config.ts';
