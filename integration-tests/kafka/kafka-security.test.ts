/**
 * TLS and SASL against a real broker: a local Kafka of this test's own with a SASL_SSL listener, certificates made
 * here with the openssl command. Right credentials produce and consume through @stinger/kafka for every mechanism;
 * a wrong password and an untrusted broker certificate each end in one line naming the cause, within seconds.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig } from '@stinger/config';
import { checkKafkaConnection, createKafkaClient, createProducer, createTopics, exitOnWrongKafkaSettings, KafkaTlsError } from '@stinger/kafka';
import { startLocalBroker, type LocalBroker } from '@stinger/local-broker';
import { createLogger } from '@stinger/log';
import { collectTopic, uniqueName } from '../helpers/kafka.ts';
import { scratchDir } from '../helpers/scratch.ts';

const dir = scratchDir('stinger-kafka-security-');
const PASSWORD = 'alice-right-password';
let broker: LocalBroker | undefined;

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A CA, a broker certificate it signs for 127.0.0.1, the broker's PEM keystore, and an unrelated second CA. */
function makeCertificates(): void {
  const days = ['-days', '2'];
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', ...days, '-subj', '/CN=stinger-test-ca');
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'other-ca.key', '-out', 'other-ca.pem', ...days, '-subj', '/CN=stinger-other-ca');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'broker.key', '-out', 'broker.csr', '-subj', '/CN=127.0.0.1');
  writeFileSync(join(dir, 'san.cnf'), 'subjectAltName=IP:127.0.0.1\n');
  openssl('x509', '-req', '-in', 'broker.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'broker.crt', ...days, '-extfile', 'san.cnf');
  // Kafka's PEM keystore: the unencrypted PKCS#8 key, then the chain.
  writeFileSync(join(dir, 'keystore.pem'), ['broker.key', 'broker.crt', 'ca.pem'].map((f) => readFileSync(join(dir, f), 'utf8')).join(''));
  writeFileSync(join(dir, 'password'), `${PASSWORD}\n`);
}

before(async () => {
  makeCertificates();
  broker = await startLocalBroker({
    cacheDir: loadConfig().cacheDir,
    dataDir: join(dir, 'broker'),
    logger: createLogger({ name: 'kafka-security-broker', level: 'warn' }),
    secureListener: { keystoreFile: join(dir, 'keystore.pem'), users: [{ name: 'alice', password: PASSWORD }] },
  });
});

after(async () => {
  await broker?.stop();
});

/** The settings a pod would have: the secure listener, the CA file, and `env` on top. */
function secureSettings(env: Record<string, string>) {
  assert.ok(broker?.secureBrokers);
  return loadConfig({ KAFKA_BROKERS: broker.secureBrokers, KAFKA_TLS_CA_FILE: join(dir, 'ca.pem'), ...env });
}

/** A logger that keeps its lines, to count what a failure prints. */
function capturingLogger(): { logger: ReturnType<typeof createLogger>; lines: { level: number; msg: string }[] } {
  const lines: { level: number; msg: string }[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter((l) => l !== '')) lines.push(JSON.parse(line) as { level: number; msg: string });
      done();
    },
  });
  return { logger: createLogger({ name: 'kafka-security', level: 'info', destination }), lines };
}

for (const mechanism of ['SCRAM-SHA-512', 'SCRAM-SHA-256', 'PLAIN']) {
  test(`right ${mechanism} credentials over TLS: records produced and consumed through @stinger/kafka`, { timeout: 120_000 }, async () => {
    const config = secureSettings({ KAFKA_SASL_MECHANISM: mechanism, KAFKA_SASL_USERNAME: 'alice', KAFKA_SASL_PASSWORD_FILE: join(dir, 'password') });
    assert.ok(config.kafka.brokers);
    const { logger } = capturingLogger();
    const client = createKafkaClient({ brokers: config.kafka.brokers, connection: config.kafka, role: 'security-test', logger });
    assert.equal(await checkKafkaConnection(client), 'connected');
    const topic = uniqueName(`security.${mechanism.toLowerCase()}`);
    await createTopics(client, [{ topic, partitions: 1 }]);
    const producer = createProducer({ client });
    await producer.connect();
    await producer.enqueue(topic, { key: 'node-a', value: Buffer.from(`over ${mechanism}`) });
    await producer.disconnect();
    const collector = await collectTopic(client, topic);
    try {
      await collector.waitFor(1, 30_000);
      assert.equal(collector.records[0]?.value?.toString('utf8'), `over ${mechanism}`);
    } finally {
      await collector.stop();
    }
  });
}

test('a wrong password ends in one line naming user and mechanism, with no retries', { timeout: 60_000 }, async () => {
  const config = secureSettings({ KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512', KAFKA_SASL_USERNAME: 'alice', KAFKA_SASL_PASSWORD: 'wrong-password' });
  assert.ok(config.kafka.brokers);
  const { logger, lines } = capturingLogger();
  const client = createKafkaClient({ brokers: config.kafka.brokers, connection: config.kafka, role: 'security-test', logger });
  const began = Date.now();
  let exitCode: number | null = null;
  await exitOnWrongKafkaSettings(client, {
    logger,
    exit: (code) => {
      exitCode = code;
      return undefined as never;
    },
  });
  assert.equal(exitCode, 1);
  assert.ok(Date.now() - began < 5000, `took ${Date.now() - began} ms`);
  assert.deepEqual(lines.map((l) => [l.level, l.msg]), [[60, `Kafka authentication failed for user alice (SCRAM-SHA-512) at ${broker?.secureBrokers}: wrong username or password`]]);

  // The clients themselves do not retry it either (kafkajs treats SASL failures as final).
  const admin = client.kafka.admin();
  const adminBegan = Date.now();
  await assert.rejects(admin.connect(), /SASL SCRAM SHA512 authentication failed/);
  assert.ok(Date.now() - adminBegan < 5000, `the client took ${Date.now() - adminBegan} ms`);
  await admin.disconnect();
});

test('a broker certificate the CA file does not vouch for ends in one TLS line, not a retry storm', { timeout: 60_000 }, async () => {
  const config = secureSettings({ KAFKA_TLS_CA_FILE: join(dir, 'other-ca.pem'), KAFKA_SASL_MECHANISM: 'PLAIN', KAFKA_SASL_USERNAME: 'alice', KAFKA_SASL_PASSWORD: PASSWORD });
  assert.ok(config.kafka.brokers);
  const { logger, lines } = capturingLogger();
  const client = createKafkaClient({ brokers: config.kafka.brokers, connection: config.kafka, role: 'security-test', logger });
  const began = Date.now();
  const error = await checkKafkaConnection(client).then(
    () => null,
    (failure: unknown) => failure,
  );
  assert.ok(error instanceof KafkaTlsError, String(error));
  assert.equal(error.retriable, false);
  assert.equal(error.message, `TLS with Kafka at ${broker?.secureBrokers} failed: the broker's certificate is not signed by a trusted CA (checked against KAFKA_TLS_CA_FILE)`);
  assert.ok(Date.now() - began < 5000, `took ${Date.now() - began} ms`);
  assert.deepEqual(lines, [], 'the check itself logs nothing; the caller reports the error');
});

test('TLS against the plaintext listener is named as such; a port nobody listens on is only unreachable', { timeout: 60_000 }, async () => {
  assert.ok(broker);
  const { logger } = capturingLogger();
  const tlsToPlaintext = loadConfig({ KAFKA_TLS_CA_FILE: join(dir, 'ca.pem') }).kafka;
  const client = createKafkaClient({ brokers: [broker.brokers], connection: tlsToPlaintext, role: 'security-test', logger });
  await assert.rejects(checkKafkaConnection(client), (e: unknown) => e instanceof KafkaTlsError && /during the TLS handshake \(is this a plaintext listener\?\)/.test(e.message));
  const unreachable = createKafkaClient({ brokers: ['127.0.0.1:1'], connection: loadConfig({}).kafka, role: 'security-test', logger });
  assert.equal(await checkKafkaConnection(unreachable), 'unreachable');
});
