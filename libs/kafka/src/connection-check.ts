/**
 * One connection attempt before a process relies on its Kafka settings, so that wrong credentials or a certificate
 * the client does not trust end the process with one line naming the cause, instead of every client retrying with
 * back-off and logging each attempt (kafkajs retries TLS failures as if the network had failed).
 *
 * Contract: `checkKafkaConnection` connects once (no retries, kafkajs logging off) with the client's own settings.
 * It resolves 'connected', or 'unreachable' when the failure may pass (no broker listening yet, a timeout): the
 * clients' own retries deal with that. It rejects with a non-retriable `KafkaAuthenticationError` or `KafkaTlsError`
 * when the settings themselves are wrong.
 */
import { Kafka, logLevel as KafkaLogLevel } from 'kafkajs';
import type { Logger } from '@stinger/log';
import { kafkaJsConfig, type KafkaClient } from './client.ts';
import { KafkaAuthenticationError, KafkaTlsError, type StingerKafkaError } from './errors.ts';

/** Node's codes for a peer certificate that does not verify (node:tls, OpenSSL X509_V_ERR_* names). */
const CERTIFICATE_CODES: Readonly<Record<string, string>> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'not signed by a trusted CA',
  UNABLE_TO_GET_ISSUER_CERT: 'not signed by a trusted CA',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'not signed by a trusted CA',
  SELF_SIGNED_CERT_IN_CHAIN: 'not signed by a trusted CA',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed and not trusted',
  CERT_HAS_EXPIRED: 'expired',
  CERT_NOT_YET_VALID: 'not yet valid',
  CERT_SIGNATURE_FAILURE: 'badly signed',
  ERR_TLS_CERT_ALTNAME_INVALID: 'issued for another host name',
};

interface ErrorFacts {
  readonly names: readonly string[];
  readonly messages: readonly string[];
  readonly codes: readonly string[];
  readonly broker: string | null;
}

/** What the error and its causes say (kafkajs wraps: NonRetriable → SASLAuthentication, RetriesExceeded → Connection). */
function errorFacts(error: unknown): ErrorFacts {
  const names: string[] = [];
  const messages: string[] = [];
  const codes: string[] = [];
  let broker: string | null = null;
  const seen = new Set<unknown>();
  const queue: unknown[] = [error];
  while (queue.length > 0) {
    const current = queue.shift();
    if (typeof current !== 'object' || current === null || seen.has(current)) continue;
    seen.add(current);
    const fields = current as { name?: unknown; message?: unknown; code?: unknown; broker?: unknown; cause?: unknown; originalError?: unknown };
    if (typeof fields.name === 'string') names.push(fields.name);
    if (typeof fields.message === 'string') messages.push(fields.message);
    if (typeof fields.code === 'string') codes.push(fields.code);
    if (broker === null && typeof fields.broker === 'string') broker = fields.broker;
    queue.push(fields.cause, fields.originalError);
  }
  return { names, messages, codes, broker };
}

/**
 * The one-line error for a connection failure caused by the settings, or null when the failure may pass. Pure:
 * `checkKafkaConnection` calls it; it is exported for tests.
 */
export function explainConnectionFailure(error: unknown, client: Pick<KafkaClient, 'brokers' | 'connection'>): StingerKafkaError | null {
  const facts = errorFacts(error);
  const where = facts.broker ?? client.brokers.join(',');
  const { sasl, tls } = client.connection;
  const mechanism = sasl?.mechanism.toUpperCase() ?? 'none';
  if (facts.names.includes('KafkaJSSASLAuthenticationError')) {
    const unsupported = facts.messages.some((m) => /mechanism is not supported by the server/.test(m));
    const cause = unsupported ? `the broker does not offer ${mechanism} on this listener` : 'wrong username or password';
    return new KafkaAuthenticationError(`Kafka authentication failed for user ${sasl?.username ?? '(none)'} (${mechanism}) at ${where}: ${cause}`, {
      retriable: false,
      cause: error,
    });
  }
  const certificateProblem = facts.codes.map((code) => CERTIFICATE_CODES[code]).find((text) => text !== undefined);
  if (certificateProblem !== undefined) {
    const trusted = tls?.ca === null || tls === null ? "Node's bundled CAs" : 'KAFKA_TLS_CA_FILE';
    return new KafkaTlsError(`TLS with Kafka at ${where} failed: the broker's certificate is ${certificateProblem} (checked against ${trusted})`, {
      retriable: false,
      cause: error,
    });
  }
  const sslCode = facts.codes.find((code) => code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_'));
  if (sslCode !== undefined) {
    const hint = sslCode === 'ERR_SSL_WRONG_VERSION_NUMBER' ? ' (is this a plaintext listener?)' : '';
    return new KafkaTlsError(`TLS with Kafka at ${where} failed: ${sslCode}${hint}`, { retriable: false, cause: error });
  }
  // A Kafka PLAINTEXT listener drops a TLS ClientHello without a word (measured with Kafka 4); Node then says this.
  if (facts.messages.some((m) => m.includes('disconnected before secure TLS connection was established'))) {
    return new KafkaTlsError(`TLS with Kafka at ${where} failed: the broker closed the connection during the TLS handshake (is this a plaintext listener?)`, {
      retriable: false,
      cause: error,
    });
  }
  return null;
}

export type ConnectionCheck = 'connected' | 'unreachable';

export async function checkKafkaConnection(client: KafkaClient): Promise<ConnectionCheck> {
  const kafka = new Kafka({ ...kafkaJsConfig({ brokers: client.brokers, connection: client.connection, role: 'check', retries: 0 }), logLevel: KafkaLogLevel.NOTHING });
  const admin = kafka.admin();
  try {
    await admin.connect();
    return 'connected';
  } catch (error) {
    const explained = explainConnectionFailure(error, client);
    if (explained !== null) throw explained;
    client.logger.warn({ err: error, brokers: client.brokers.join(',') }, 'Kafka not reachable yet; the clients keep retrying');
    return 'unreachable';
  } finally {
    await admin.disconnect();
  }
}

/**
 * For a process's main, before anything else uses the client: `checkKafkaConnection`, and when the settings are wrong,
 * that one line as the fatal log line, then exit 1 (`exit` replaced in tests).
 */
export async function exitOnWrongKafkaSettings(client: KafkaClient, options: { readonly logger: Logger; readonly exit?: (code: number) => never }): Promise<ConnectionCheck> {
  const { logger, exit = (code: number) => process.exit(code) } = options;
  try {
    return await checkKafkaConnection(client);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    logger.fatal(message);
    return exit(1);
  }
}
