/**
 * Other people's tools read the security topics (issue 12), on the real broker, a real Apicurio Registry and the real
 * enricher and detector, with the readers docs/topics.md shows (docs/examples/consume): a Java consumer with
 * Apicurio's Avro deserializer and Apache Avro's single-object decoder, a Python consumer with confluent-kafka's
 * AvroDeserializer and fastavro, a Go consumer with franz-go, its registry client and hamba/avro. Java and Python
 * print every record as Avro JSON, which the test compares, record for record, with what Stinger's own decoder makes
 * of the same bytes; Go prints id, node, kind and process binary (hamba/avro writes no Avro JSON), compared alike.
 *
 * One topic prefix, three stages in order: (1) the default single-object encoding; (2) the switch to the registry,
 * readers first: the detector (reader of stinger.events) restarts in registry mode, then the enricher (its writer),
 * while the test's own readers keep reading throughout, and the topics hold both formats; (3) the schema evolution
 * drill: a writer with a field added registers its schema and writes, every reader reads old and new records, and
 * the registry refuses an incompatible change in one line.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { loadConfig, processEnvironment, requireBrokers } from '@stinger/config';
import { codecs, createAvroType, decodeAlert, decodeEvent, encodeRawEvent, type Event } from '@stinger/events';
import { bootstrapTopics, createKafkaClient, createProducer, topicName, type KafkaClient } from '@stinger/kafka';
import { createLogger } from '@stinger/log';
import { prepareGoReader, prepareJavaReader, preparePythonReader, startLocalRegistry, type GoReaderKit, type JavaReaderKit, type LocalRegistry, type PythonReaderKit } from '@stinger/local-registry';
import { SchemaIncompatibleError } from '@stinger/schema-registry';
import { sampleRawEvent } from '@stinger/testing';
import { runStinger } from '../helpers/cli.ts';
import { collectTopic, testBrokers, uniqueName, type Collector } from '../helpers/kafka.ts';
import { pipelineEnvironment, startPipelineService, type RunningService } from '../helpers/pipeline.ts';
import { scratchDir } from '../helpers/scratch.ts';

const run = promisify(execFile);
const tag = randomBytes(4).toString('hex');
const prefix = `${uniqueName('registry')}.`;
const node = `registry-node-${tag}`;
const binary = `/usr/bin/registry-drill-${tag}`;
const policyName = `registry-drill-${tag}`;
const dir = scratchDir('stinger-registry-test-');
const bundledSchemas = fileURLToPath(new URL('../../schemas/bundled', import.meta.url));
const eventsTopic = topicName('events', prefix);
const alertsTopic = topicName('alerts', prefix);
const config = loadConfig();
const logger = createLogger({ name: 'registry-test', level: config.logLevel === 'info' ? 'warn' : config.logLevel });

let registry: LocalRegistry | undefined;
let java: JavaReaderKit;
let python: PythonReaderKit;
let go: GoReaderKit;
let plainClient: KafkaClient;
let registryClient: KafkaClient;
let events: Collector | undefined;
let alerts: Collector | undefined;
const services: Partial<Record<'enricher' | 'detector', RunningService>> = {};
let policyApplied = false;
let seq = 0n;

function clientFor(role: string, registryUrl: string | null): KafkaClient {
  const connection = registryUrl === null ? config.kafka : loadConfig({ ...processEnvironment(), STINGER_SCHEMA_REGISTRY_URL: registryUrl }).kafka;
  return createKafkaClient({ brokers: requireBrokers(config), connection, role, logger });
}

async function startService(service: 'enricher' | 'detector', registryUrl: string | null): Promise<void> {
  await services[service]?.stop();
  const extraEnv: Record<string, string> = registryUrl === null ? {} : { STINGER_SCHEMA_REGISTRY_URL: registryUrl };
  services[service] = await startPipelineService(service, pipelineEnvironment({ brokers: testBrokers(), topicPrefix: prefix, extraEnv }));
}

before(async () => {
  registry = await startLocalRegistry({ cacheDir: config.cacheDir, dataDir: join(dir, 'registry'), logger });
  java = await prepareJavaReader({ cacheDir: config.cacheDir, logger });
  python = await preparePythonReader({ cacheDir: config.cacheDir, logger });
  go = await prepareGoReader({ cacheDir: config.cacheDir, logger });
  plainClient = clientFor('registry-test', null);
  registryClient = clientFor('registry-test-registry', registry.url);
  await bootstrapTopics({ client: plainClient, prefix });
  // The test's own readers: registry-aware from the start, so they read both formats across the switch.
  events = await collectTopic(registryClient, eventsTopic);
  alerts = await collectTopic(registryClient, alertsTopic);
  await startService('enricher', null);
  await startService('detector', null);
  const file = join(dir, `${policyName}.yaml`);
  writeFileSync(
    file,
    [
      'apiVersion: stinger.io/v1alpha1',
      'kind: TracingPolicy',
      `metadata: { name: ${policyName} }`,
      'spec:',
      '  mode: monitor',
      '  rules:',
      '    - name: drill-binary-ran',
      '      event: exec',
      `      match: { binary: { equal: ["${binary}"] } }`,
      '      action: audit',
      '      severity: low',
      '',
    ].join('\n'),
  );
  const applied = runStinger(['policy', 'apply', file], { KAFKA_BROKERS: testBrokers(), STINGER_TOPIC_PREFIX: prefix });
  assert.equal(applied.status, 0, applied.stderr);
  policyApplied = true;
});

after(async () => {
  if (policyApplied) runStinger(['policy', 'delete', policyName], { KAFKA_BROKERS: testBrokers(), STINGER_TOPIC_PREFIX: prefix });
  await Promise.all(Object.values(services).map((service) => service.stop()));
  await events?.stop();
  await alerts?.stop();
  await registry?.stop();
});

/**
 * Writes exec events of the policy's binary to stinger.events.raw, as the agent would (with `client`'s wire format),
 * one a second, until `alertCount` alerts are on stinger.alerts: the detector may load the policy after the first.
 */
async function writeUntilAlerts(client: KafkaClient, alertCount: number): Promise<void> {
  const producer = createProducer({ client });
  await producer.connect();
  const deadline = Date.now() + 90_000;
  try {
    while ((alerts?.records.length ?? 0) < alertCount) {
      assert.ok(Date.now() < deadline, `no alert after 90 s\n--- detector\n${services.detector?.log.slice(-10).join('\n')}\n--- enricher\n${services.enricher?.log.slice(-10).join('\n')}`);
      seq += 1n;
      // A UUID as the agent writes it: the schema says logicalType uuid, and fastavro checks that.
      const raw = { ...sampleRawEvent({ node, seq, binary, args: [`run-${seq}`] }), id: randomUUID() };
      await producer.send(topicName('eventsRaw', prefix), [{ key: node, value: encodeRawEvent(raw) }]);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  } finally {
    await producer.disconnect();
  }
  await events?.waitFor(Number(seq), 30_000);
}

/**
 * Avro JSON texts made comparable across languages: keys sorted, integers kept exact (as decimal strings), other
 * numbers as JavaScript prints them (Java writes 1.0E-4 where JavaScript writes 0.0001).
 */
function comparable(json: string): string {
  const reviver = (_key: string, value: unknown, context?: { source?: string }): unknown =>
    typeof value === 'number' ? (context?.source !== undefined && /^-?\d+$/.test(context.source) ? `#${context.source}` : `#${String(value)}`) : value;
  const sort = (value: unknown): unknown =>
    Array.isArray(value) ? value.map(sort) : value !== null && typeof value === 'object' ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, sort(v)])) : value;
  return JSON.stringify(sort(JSON.parse(json, reviver as (key: string, value: unknown) => unknown)));
}

type Reader = 'java' | 'python' | 'go';

/** Every record of `topic` as `reader` prints it (Avro JSON lines), read from the beginning until `count`. */
async function readWith(reader: Reader, { topic, count, schema }: { topic: string; count: number; schema: 'Event' | 'Alert' }): Promise<string[]> {
  const common = ['--bootstrap', testBrokers(), '--topic', topic, '--count', String(count), '--schemas', bundledSchemas];
  const options = { maxBuffer: 64 * 1024 * 1024, timeout: 150_000 };
  const { stdout } =
    reader === 'java'
      ? await run('java', ['-cp', java.classPath, java.source, ...common, '--timeout-ms', '90000', '--schema', schema, '--registry', registry!.origin], options)
      : reader === 'python'
        ? await run(python.python, [python.script, ...common, '--timeout-ms', '90000', '--registry', registry!.url], options)
        : await run(go.binary, [...common.map((arg) => arg.replace(/^--/, '-')), '-timeout', '90s', '-registry', registry!.url], options);
  return stdout.split('\n').filter((line) => line.trim() !== '');
}

/** What Stinger's decoder makes of each record, as Avro JSON; `writerJson` overrides it for records of other writers. */
function expectedJson(collector: Collector, schema: 'Event' | 'Alert', writerJson: (value: Buffer) => string | undefined = () => undefined): string[] {
  return collector.records.map((record) => {
    assert.ok(record.value);
    return writerJson(record.value) ?? (schema === 'Event' ? codecs.Event.toJson(decodeEvent(record.value)) : codecs.Alert.toJson(decodeAlert(record.value)));
  });
}

interface ReadersAgree {
  readonly topic: string;
  readonly collector: Collector;
  readonly schema: 'Event' | 'Alert';
  /** Avro JSON of records written with a schema other than the codec's (the drill's), by their bytes. */
  readonly writerJson?: (value: Buffer) => string | undefined;
}

/**
 * The fields the Go reader prints (id, node, kind, process binary), from Stinger's decoding: it prints these rather
 * than Avro JSON, which hamba/avro does not write.
 */
function expectedGoFields(collector: Collector, schema: 'Event' | 'Alert'): string[] {
  return collector.records.map((record) => {
    const value = schema === 'Event' ? decodeEvent(record.value!) : decodeAlert(record.value!);
    const event = 'process' in value ? value : null;
    return JSON.stringify({ binary: event?.process.binary ?? null, id: value.id, kind: event?.kind ?? null, node: value.node });
  });
}

async function assertReadersAgree({ topic, collector, schema, writerJson }: ReadersAgree): Promise<void> {
  const expected = expectedJson(collector, schema, writerJson).map(comparable).sort();
  for (const reader of ['java', 'python'] as const) {
    const lines = await readWith(reader, { topic, count: expected.length, schema });
    assert.deepEqual(lines.map(comparable).sort(), expected, `${reader} reads ${topic} as Stinger wrote it`);
  }
  const goLines = await readWith('go', { topic, count: expected.length, schema });
  assert.deepEqual(goLines.sort(), expectedGoFields(collector, schema).sort(), `go reads ${topic}: id, node, kind and binary as Stinger wrote them`);
}

const startsWith = (collector: Collector, from: number, marker: number[]): boolean =>
  collector.records.slice(from).every((record) => record.value !== null && marker.every((byte, i) => record.value?.[i] === byte));

test('single-object encoding (no registry): Java and Python decode stinger.events and stinger.alerts with schemas/bundled field for field, Go their key fields', { timeout: 300_000 }, async () => {
  await writeUntilAlerts(plainClient, 1);
  assert.ok(startsWith(events!, 0, [0xc3, 0x01]) && startsWith(alerts!, 0, [0xc3, 0x01]), 'the pipeline writes single-object encoding');
  await assertReadersAgree({ topic: eventsTopic, collector: events!, schema: 'Event' });
  await assertReadersAgree({ topic: alertsTopic, collector: alerts!, schema: 'Alert' });
});

test('registry mode, switched while readers read: schemas registered per topic (BACKWARD), 00 + id written, both formats read by every reader', { timeout: 300_000 }, async () => {
  const url = registry!.url;
  // Readers first (the detector reads stinger.events), then the writer of stinger.events: nothing goes unread.
  await startService('detector', url);
  await startService('enricher', url);
  const [eventsBefore, alertsBefore] = [events!.records.length, alerts!.records.length];
  await writeUntilAlerts(registryClient, alertsBefore + 1);
  assert.ok(startsWith(events!, eventsBefore, [0x00]), 'events written after the switch carry the registry header');
  assert.ok(startsWith(alerts!, alertsBefore, [0x00]), 'alerts written after the switch carry the registry header');
  for (const subject of [`${eventsTopic}-value`, `${alertsTopic}-value`, `${topicName('eventsRaw', prefix)}-value`]) {
    const answer = (await (await fetch(`${url}/config/${encodeURIComponent(subject)}`)).json()) as { compatibilityLevel?: string };
    assert.equal(answer.compatibilityLevel, 'BACKWARD', subject);
  }
  await assertReadersAgree({ topic: eventsTopic, collector: events!, schema: 'Event' });
  await assertReadersAgree({ topic: alertsTopic, collector: alerts!, schema: 'Alert' });
});

test('schema evolution drill: a writer adds a field, old and new records decode everywhere; an incompatible change is refused in one line', { timeout: 300_000 }, async () => {
  const current = codecs.Event.current.schema as { fields: unknown[] };
  const evolved = { ...current, fields: [...current.fields, { name: 'drill_note', type: ['null', 'string'], default: null }] };
  const evolvedType = createAvroType(evolved);
  const id = await registryClient.wireFormat.registerSchema(eventsTopic, evolved);
  const written = new Map<string, string>();
  const producer = createProducer({ client: registryClient });
  await producer.connect();
  const before = events!.records.length;
  const originals: Event[] = events!.records.slice(0, 3).map((record) => decodeEvent(record.value!));
  const ids = originals.map(() => randomUUID());
  try {
    const records = originals.map((event, i) => {
      const value = { ...structuredClone(event), id: ids[i], drill_note: `added by the drill ${i}` };
      const framed = Buffer.concat([Buffer.from([0, 0, 0, 0, 0]), evolvedType.toBuffer(value)]);
      framed.writeUInt32BE(id, 1);
      written.set(framed.toString('hex'), evolvedType.toString(value));
      return { key: event.node, value: framed };
    });
    await producer.send(eventsTopic, records);
  } finally {
    await producer.disconnect();
  }
  await events!.waitFor(before + originals.length, 30_000);
  // Stinger's readers (this process, the detector) read the newer writer by resolution: the field is dropped.
  for (const [i, record] of events!.records.slice(before).entries()) {
    const decoded = decodeEvent(record.value!);
    assert.equal(decoded.id, ids[i]);
    assert.equal('drill_note' in decoded, false);
  }
  // Java and Python read every record with its writer's schema: the new ones with drill_note.
  await assertReadersAgree({ topic: eventsTopic, collector: events!, schema: 'Event', writerJson: (value) => written.get(value.toString('hex')) });
  assert.equal(services.detector?.child.exitCode, null, 'the detector reads on');

  const incompatible = { ...current, fields: [...current.fields, { name: 'drill_required', type: 'string' }] };
  await assert.rejects(registryClient.wireFormat.registerSchema(eventsTopic, incompatible), (error: unknown) => {
    assert.ok(error instanceof SchemaIncompatibleError, String(error));
    assert.equal(error.message.includes('\n'), false, 'one line');
    assert.match(error.message, new RegExp(`^schema registry refused io\\.stinger\\.v1\\.Event for subject ${eventsTopic.replace(/\./g, '\\.')}-value: `));
    return true;
  });
});
