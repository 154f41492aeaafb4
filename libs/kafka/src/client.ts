/**
 * The kafkajs client factory. This library is the only place kafkajs is imported (lint rule);
 * everything else sees `KafkaClient` and the helpers built on it.
 *
 * Contract: every client of a process is made from the process's connection settings (`loadConfig().kafka`), so
 * KAFKA_CLIENT_ID, the timeouts, TLS and SASL reach every connection; there is no other way to make one.
 */
import { Kafka, logLevel as KafkaLogLevel, type KafkaConfig as KafkaJsConfig, type LogEntry, type SASLOptions } from 'kafkajs';
import type { KafkaConfig, KafkaSaslConfig } from '@stinger/config';
import { kafkaLogLevel } from './client-log.ts';
import { namespaced, type Logger } from '@stinger/log';

/** What a client takes from `loadConfig().kafka` (pass that object itself). */
export type KafkaConnectionSettings = Pick<KafkaConfig, 'clientId' | 'connectionTimeoutMs' | 'requestTimeoutMs' | 'tls' | 'sasl'>;

export interface KafkaClientOptions {
  readonly brokers: readonly string[];
  /** The process's connection settings: `loadConfig().kafka`. */
  readonly connection: KafkaConnectionSettings;
  /**
   * What this client is for (`enricher-<node>`, `cli`): brokers see the client id `<KAFKA_CLIENT_ID>-<role>` in their
   * request logs and quotas.
   */
  readonly role: string;
  readonly logger: Logger;
  /** Retries for each request before an error surfaces (kafkajs exponential back-off). */
  readonly retries?: number;
}

export interface KafkaClient {
  readonly kafka: Kafka;
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly connection: KafkaConnectionSettings;
  readonly logger: Logger;
}

/** The kafkajs configuration for `options`, without the logger (pure; createKafkaClient adds it). */
export function kafkaJsConfig(options: Omit<KafkaClientOptions, 'logger'>): KafkaJsConfig {
  const { brokers, connection, role, retries = 8 } = options;
  const { tls, sasl } = connection;
  return {
    brokers: [...brokers],
    clientId: `${connection.clientId}-${role}`,
    connectionTimeout: connection.connectionTimeoutMs,
    requestTimeout: connection.requestTimeoutMs,
    retry: { retries, initialRetryTime: 100, maxRetryTime: 5000 },
    // Unset CA: Node's bundled CAs, as for any TLS client. Certificates are always verified.
    ...(tls === null ? {} : { ssl: { rejectUnauthorized: true, ...(tls.ca === null ? {} : { ca: [tls.ca] }), ...(tls.cert === null || tls.key === null ? {} : { cert: tls.cert, key: tls.key }) } }),
    ...(sasl === null ? {} : { sasl: kafkaJsSasl(sasl) }),
  };
}

function kafkaJsSasl(sasl: KafkaSaslConfig): SASLOptions {
  const { username, password } = sasl;
  switch (sasl.mechanism) {
    case 'plain':
      return { mechanism: 'plain', username, password };
    case 'scram-sha-256':
      return { mechanism: 'scram-sha-256', username, password };
    case 'scram-sha-512':
      return { mechanism: 'scram-sha-512', username, password };
  }
}

export function createKafkaClient(options: KafkaClientOptions): KafkaClient {
  const logger = namespaced(options.logger, 'Kafka');
  const config = kafkaJsConfig(options);
  const kafka = new Kafka({
    ...config,
    // kafkajs logs INFO chatter on every group join; keep its WARN and above in our structured log.
    logLevel: KafkaLogLevel.WARN,
    logCreator: () => (entry: LogEntry) => {
      const { message, ...extra } = entry.log;
      // Errors the client retries and recovers from are demoted (client-log.ts); genuine failures stay errors.
      const level = kafkaLogLevel({ namespace: entry.namespace, level: entry.level, message: String(message) });
      logger[level]({ kafkajs: entry.namespace, ...extra }, message);
    },
  });
  return { kafka, brokers: options.brokers, clientId: config.clientId ?? '', connection: options.connection, logger };
}
