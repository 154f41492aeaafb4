/**
 * The kafkajs client factory. This library is the only place kafkajs is imported (lint rule);
 * everything else sees `KafkaClient` and the helpers built on it.
 */
import { Kafka, logLevel as KafkaLogLevel, type LogEntry } from 'kafkajs';
import { kafkaLogLevel } from './client-log.ts';
import { namespaced, type Logger } from '@stinger/log';

export interface KafkaClientOptions {
  readonly brokers: readonly string[];
  readonly clientId?: string;
  readonly logger: Logger;
  readonly connectionTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
  /** Retries for each request before an error surfaces (kafkajs exponential back-off). */
  readonly retries?: number;
}

export interface KafkaClient {
  readonly kafka: Kafka;
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly logger: Logger;
}

export function createKafkaClient(options: KafkaClientOptions): KafkaClient {
  const { brokers, clientId = 'stinger', connectionTimeoutMs = 3000, requestTimeoutMs = 30000, retries = 8 } = options;
  const logger = namespaced(options.logger, 'Kafka');
  const kafka = new Kafka({
    brokers: [...brokers],
    clientId,
    connectionTimeout: connectionTimeoutMs,
    requestTimeout: requestTimeoutMs,
    retry: { retries, initialRetryTime: 100, maxRetryTime: 5000 },
    // kafkajs logs INFO chatter on every group join; keep its WARN and above in our structured log.
    logLevel: KafkaLogLevel.WARN,
    logCreator: () => (entry: LogEntry) => {
      const { message, ...extra } = entry.log;
      // Errors the client retries and recovers from are demoted (client-log.ts); genuine failures stay errors.
      const level = kafkaLogLevel({ namespace: entry.namespace, level: entry.level, message: String(message) });
      logger[level]({ kafkajs: entry.namespace, ...extra }, message);
    },
  });
  return { kafka, brokers, clientId, logger };
}
