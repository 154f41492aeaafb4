/**
 * The whole pipeline in registry mode through the commands a user runs (issue 12): `stinger registry up` starts
 * Apicurio Registry and prints STINGER_SCHEMA_REGISTRY_URL; with it set, `stinger up --detach` says it writes the
 * registry's wire format and starts every service. A real process run on this machine (an exec the agent sees) comes
 * out on stinger.events.raw (agent) and stinger.events (enricher) framed for the registry — first byte 0x00, then a
 * 4-byte schema id the registry resolves to that topic's Stinger schema — and Stinger's own reader decodes it; the
 * registry lists the value subjects of the topics written. Then `stinger down` and `stinger registry down`.
 *
 * Isolated like the `stinger up` CLI test (helpers/up.ts): its own STINGER_HOME (the registry's state lives there
 * too), topic prefix and ports, against the test run's broker.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { loadConfig, processEnvironment, requireBrokers } from '@stinger/config';
import { decodeEvent, decodeRawEvent, type Event, type RawEvent } from '@stinger/events';
import { createKafkaClient, topicName } from '@stinger/kafka';
import { createLogger } from '@stinger/log';
import { buildBpf } from '../helpers/agent.ts';
import { runStinger } from '../helpers/cli.ts';
import { collectTopic, type Collector } from '../helpers/kafka.ts';
import { registryUp } from '../helpers/registry.ts';
import { UP_SERVICES, upEnvironment, waitForUpServices } from '../helpers/up.ts';

const { home, prefix, env } = await upEnvironment();
const registryEnv = { STINGER_HOME: home };
const marker = `registry-mode-${randomBytes(4).toString('hex')}`;
const collectors: Collector[] = [];

// Whatever failed: a detached pipeline or registry left running would outlive the test run. Both downs are harmless
// with nothing running.
after(async () => {
  await Promise.all(collectors.map((collector) => collector.stop()));
  runStinger(['down'], env);
  runStinger(['registry', 'down'], registryEnv);
  rmSync(home, { recursive: true, force: true });
});

/** The registry schema id a record carries, after asserting it is framed for the registry (0x00 + 4-byte id). */
function registryIdOf(value: Buffer | null, what: string): number {
  assert.ok(value !== null && value.length > 5, `${what}: a value`);
  assert.equal(value[0], 0x00, `${what}: registry wire format (first byte 0x00), got 0x${value.subarray(0, 2).toString('hex')}`);
  return value.readUInt32BE(1);
}

/** The full name of the Avro schema the registry holds under `id`. */
async function registrySchemaName(url: string, id: number): Promise<string> {
  const response = await fetch(`${url}/schemas/ids/${id}`);
  assert.equal(response.status, 200, `schema id ${id} in the registry`);
  const schema = JSON.parse(((await response.json()) as { schema: string }).schema) as { name: string; namespace?: string };
  return schema.name.includes('.') || schema.namespace === undefined ? schema.name : `${schema.namespace}.${schema.name}`;
}

/** Runs /bin/true with the marker (exec events the agent reports) until `found` holds or 90 s pass. */
async function execUntil(found: () => boolean, context: () => string): Promise<void> {
  const deadline = Date.now() + 90_000;
  for (let run = 0; !found(); run += 1) {
    if (Date.now() > deadline) assert.fail(`no exec of /bin/true ${marker} on both topics after 90 s\n${context()}`);
    spawnSync('/bin/true', [marker, String(run)]);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

test('stinger up with STINGER_SCHEMA_REGISTRY_URL: a real exec reaches stinger.events.raw and stinger.events in the registry wire format, decodable; the registry lists their subjects', { timeout: 480_000 }, async () => {
  const registry = await registryUp(registryEnv);
  assert.equal(registry.status, 0, registry.stdout + registry.stderr);
  const match = /^STINGER_SCHEMA_REGISTRY_URL=(\S+)$/.exec(registry.stdout.trimEnd().split('\n').at(-1) ?? '');
  assert.ok(match, `last line of registry up: ${registry.stdout}`);
  const url = match[1] ?? '';

  buildBpf();
  const registryModeEnv = { ...env, STINGER_SCHEMA_REGISTRY_URL: url };
  const up = runStinger(['up', '--detach'], registryModeEnv);
  assert.equal(up.status, 0, up.stdout + up.stderr);
  assert.match(up.stdout, new RegExp(`^schema registry: ${url.replace(/[.]/g, '\\.')} \\(\\d+ subjects\\); records are written in its wire format$`, 'm'));
  await waitForUpServices(home);

  // A registry-aware reader, as a consumer of these topics would be: it learns the ids from the registry.
  const config = loadConfig({ ...processEnvironment(), ...registryModeEnv });
  const logger = createLogger({ name: 'up-registry-test', level: config.logLevel === 'info' ? 'warn' : config.logLevel });
  const client = createKafkaClient({ brokers: requireBrokers(config), connection: config.kafka, role: 'up-registry-test', logger });
  const rawTopic = topicName('eventsRaw', prefix);
  const eventsTopic = topicName('events', prefix);
  const raws = await collectTopic(client, rawTopic);
  collectors.push(raws);
  const events = await collectTopic(client, eventsTopic);
  collectors.push(events);

  const isMarked = (record: RawEvent | Event): boolean => record.kind === 'exec' && record.process.args.includes(marker);
  const markedRaw = () => raws.records.find((r) => r.value !== null && r.value[0] === 0x00 && isMarked(decodeRawEvent(r.value)));
  const markedEvent = () => events.records.find((r) => r.value !== null && r.value[0] === 0x00 && isMarked(decodeEvent(r.value)));
  await execUntil(
    () => markedRaw() !== undefined && markedEvent() !== undefined,
    () => `${raws.records.length} records on ${rawTopic}, ${events.records.length} on ${eventsTopic}; first bytes: ${[...raws.records, ...events.records].slice(0, 5).map((r) => r.value?.subarray(0, 1).toString('hex')).join(' ')}`,
  );

  // Everything the pipeline wrote is in the registry format, not only the marked records.
  for (const [topic, collector] of [[rawTopic, raws], [eventsTopic, events]] as const) {
    const ids = new Set(collector.records.map((record, i) => registryIdOf(record.value, `${topic}[${i}]`)));
    const names = await Promise.all([...ids].map((id) => registrySchemaName(url, id)));
    assert.deepEqual([...new Set(names)], [topic === rawTopic ? 'io.stinger.v1.RawEvent' : 'io.stinger.v1.Event'], `${topic}: the registry resolves its ids to its schema`);
  }
  const raw = decodeRawEvent(markedRaw()!.value!);
  const event = decodeEvent(markedEvent()!.value!);
  assert.equal(event.id, raw.id, 'the enriched event is the agent\'s exec, decoded');
  assert.match(event.process.binary, /\/true$/);
  assert.equal(event.process.pid, raw.process.pid);

  const subjects = (await (await fetch(`${url}/subjects`)).json()) as string[];
  for (const subject of [`${rawTopic}-value`, `${eventsTopic}-value`]) assert.ok(subjects.includes(subject), `registry lists ${subject}: ${subjects.join(', ')}`);
  for (const subject of [`${rawTopic}-value`, `${eventsTopic}-value`]) {
    const level = (await (await fetch(`${url}/config/${encodeURIComponent(subject)}`)).json()) as { compatibilityLevel: string };
    assert.equal(level.compatibilityLevel, 'BACKWARD', `${subject}: compatibility`);
  }

  const down = runStinger(['down'], env);
  assert.equal(down.status, 0, down.stdout + down.stderr);
  for (const service of UP_SERVICES) assert.match(down.stdout, new RegExp(`^${service}: stopped \\(pid \\d+\\)$`, 'm'));
  const registryDown = runStinger(['registry', 'down'], registryEnv);
  assert.equal(registryDown.status, 0, registryDown.stderr);
  assert.match(registryDown.stdout, /local registry stopped/);
  await assert.rejects(fetch(`${url}/subjects`), 'the registry no longer answers');
});
