import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { loadConfig } from '@stinger/config';
import { createLogger } from '@stinger/log';
import { createKafkaClient, kafkaJsConfig } from './client.ts';

const logger = createLogger({ name: 'client-test', level: 'fatal' });

/** A TCP server that records what it receives and never answers: a broker that accepted and went silent. */
async function silentServer(): Promise<{ port: number; received: Buffer[]; close: () => Promise<void> }> {
  const received: Buffer[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('data', (data) => received.push(data));
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  return {
    port: address.port,
    received,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** The client_id of a Kafka request header (size, api key, version, correlation id, int16-length client id). */
function requestClientId(frame: Buffer): string {
  const length = frame.readInt16BE(12);
  return frame.subarray(14, 14 + length).toString('utf8');
}

test('kafkaJsConfig carries every connection setting of loadConfig().kafka', () => {
  const connection = loadConfig(
    {
      KAFKA_CLIENT_ID: 'acme',
      KAFKA_CONNECTION_TIMEOUT_MS: '1234',
      KAFKA_REQUEST_TIMEOUT_MS: '5678',
      KAFKA_TLS_CA_FILE: '/s/ca.pem',
      KAFKA_TLS_CERT_FILE: '/s/tls.crt',
      KAFKA_TLS_KEY_FILE: '/s/tls.key',
      KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
      KAFKA_SASL_USERNAME: 'alice',
      KAFKA_SASL_PASSWORD: 's3cret',
    },
    { readTextFile: (path) => `PEM of ${path}` },
  ).kafka;
  const config = kafkaJsConfig({ brokers: ['b:9093'], connection, role: 'enricher-n1' });
  assert.equal(config.clientId, 'acme-enricher-n1');
  assert.equal(config.connectionTimeout, 1234);
  assert.equal(config.requestTimeout, 5678);
  assert.deepEqual(config.ssl, { rejectUnauthorized: true, ca: ['PEM of /s/ca.pem'], cert: 'PEM of /s/tls.crt', key: 'PEM of /s/tls.key' });
  assert.deepEqual(config.sasl, { mechanism: 'scram-sha-512', username: 'alice', password: 's3cret' });

  const plain = kafkaJsConfig({ brokers: ['b:9092'], connection: loadConfig({}).kafka, role: 'cli' });
  assert.equal(plain.clientId, 'stinger-cli');
  assert.equal(plain.ssl, undefined);
  assert.equal(plain.sasl, undefined);
});

/** One admin connect, without retries, to a silent server with the settings of `env`: how long it took, what it sent. */
async function connectToSilentServer(env: Record<string, string>): Promise<{ error: unknown; tookMs: number; sent: Buffer }> {
  const server = await silentServer();
  const client = createKafkaClient({ brokers: [`127.0.0.1:${server.port}`], connection: loadConfig(env).kafka, role: 'probe', logger, retries: 0 });
  const admin = client.kafka.admin();
  const began = Date.now();
  try {
    const error = await admin.connect().then(
      () => null,
      (failure: unknown) => failure,
    );
    return { error, tookMs: Date.now() - began, sent: Buffer.concat(server.received) };
  } finally {
    await admin.disconnect();
    await server.close();
  }
}

test('the client actually used sends KAFKA_CLIENT_ID and gives up after KAFKA_REQUEST_TIMEOUT_MS', { timeout: 20_000 }, async () => {
  const { error, tookMs, sent } = await connectToSilentServer({ KAFKA_CLIENT_ID: 'acme', KAFKA_CONNECTION_TIMEOUT_MS: '200', KAFKA_REQUEST_TIMEOUT_MS: '400' });
  assert.match(String(error), /Request ApiVersions\(key: 18, version: \d+\) timed out/);
  // The default (30 s) would outlast this test's timeout.
  assert.ok(tookMs >= 400 && tookMs < 5000, `gave up after ${tookMs} ms`);
  assert.equal(requestClientId(sent), 'acme-probe');
});

test('the client actually used gives up a TLS handshake after KAFKA_CONNECTION_TIMEOUT_MS', { timeout: 20_000 }, async () => {
  // The server never answers the ClientHello, so only the connection timeout can end the attempt.
  const { error, tookMs, sent } = await connectToSilentServer({ KAFKA_TLS: 'true', KAFKA_CONNECTION_TIMEOUT_MS: '300', KAFKA_REQUEST_TIMEOUT_MS: '20000' });
  assert.match(String(error), /Connection timeout/);
  assert.ok(tookMs >= 300 && tookMs < 5000, `gave up after ${tookMs} ms`);
  assert.equal(sent[0], 0x16, 'the client sent a TLS handshake record');
});
