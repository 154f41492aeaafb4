/**
 * The kafkajs client factory. This library is the only place kafkajs is imported (lint rule);
 * everything else sees `KafkaClient` and the helpers built on it.
 *
 * Contract: every client of a process is made from the process's connection settings (`loadConfig().kafka`), so
 * KAFKA_CLIENT_ID, the timeouts, TLS and SASL reach every connection; there is no other way to make one.
 */
import { Kafka, logLevel as KafkaLogLevel, type KafkaConfig as KafkaJsConfig, type LogEntry, type SASLOptions } from 'kafkajs';
import type { KafkaConfig, KafkaSaslConfig } from '@stinger/config';
import { createRegistryWireFormat, createSchemaRegistryClient, SINGLE_OBJECT_WIRE_FORMAT, type WireFormat } from '@stinger/schema-registry';
import { TOPIC_IDS, TOPICS, topicName } from './topics.ts';
import { kafkaLogLevel } from './client-log.ts';
import { namespaced, type Logger } from '@stinger/log';
import { registerZstdCodec } from './zstd-codec.ts';

/**
 * What a client takes from `loadConfig().kafka` (pass that object itself). `schemaRegistry` (absent: none) decides the
 * wire format of everything produced through the client; `topicPrefix` names the topics whose bytes are signed.
 */
export type KafkaConnectionSettings = Pick<KafkaConfig, 'clientId' | 'connectionTimeoutMs' | 'requestTimeoutMs' | 'tls' | 'sasl'> &
  Partial<Pick<KafkaConfig, 'schemaRegistry' | 'topicPrefix' | 'compression'>>;

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
  /**
   * Single-object encoding, or the schema registry's format when `connection.schemaRegistry` is set: producers of
   * this client frame every value with it and consumers teach their decoders the ids they fetch (wire-format.ts of
   * @stinger/schema-registry).
   */
  readonly wireFormat: WireFormat;
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
  registerZstdCodec();
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
  return { kafka, brokers: options.brokers, clientId: config.clientId ?? '', connection: options.connection, logger, wireFormat: wireFormatOf(options.connection, logger) };
}

/** The registry wire format for a connection with a registry; single-object encoding without. */
function wireFormatOf(connection: KafkaConnectionSettings, logger: Logger): WireFormat {
  const registry = connection.schemaRegistry ?? null;
  if (registry === null) return SINGLE_OBJECT_WIRE_FORMAT;
  // Signed values (libs/trust signs the policy record's bytes) keep their bytes: re-framing would break the signature.
  const keepBytesTopics = new Set(TOPIC_IDS.filter((id) => TOPICS[id].signedValue).map((id) => topicName(id, connection.topicPrefix ?? '')));
  return createRegistryWireFormat({ client: createSchemaRegistryClient(registry), logger, keepBytesTopics });
}
