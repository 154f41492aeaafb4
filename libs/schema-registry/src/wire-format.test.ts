import { test } from 'node:test';
import assert from 'node:assert/strict';
import { codecs, decodeAny, readRegistrySchemaId } from '@stinger/events';
import { silentLogger } from '@stinger/log';
import { sampleEvent } from '@stinger/testing';
import { SchemaIncompatibleError } from './errors.ts';
import type { SchemaRegistryClient } from './registry-client.ts';
import { createRegistryWireFormat, SINGLE_OBJECT_WIRE_FORMAT, valueSubject } from './wire-format.ts';

/** A registry in memory with the API's semantics that matter here: one id per distinct schema, 409 when told to. */
function memoryRegistry(options: { refuse?: (subject: string) => boolean } = {}) {
  const ids = new Map<string, number>();
  const schemas = new Map<number, unknown>();
  const calls: string[] = [];
  const client: SchemaRegistryClient = {
    url: 'http://registry.test',
    async registerSchema(subject, schema) {
      calls.push(`register ${subject}`);
      if (options.refuse?.(subject)) throw new SchemaIncompatibleError(`schema registry refused x for subject ${subject}: incompatible`, { subject, errorCode: 409 });
      const text = JSON.stringify(schema);
      let id = ids.get(text);
      if (id === undefined) {
        id = 5000 + ids.size;
        ids.set(text, id);
        schemas.set(id, schema);
      }
      return id;
    },
    async setCompatibility(subject, level) {
      calls.push(`config ${subject} ${level}`);
    },
    async schemaById(id) {
      calls.push(`schema ${id}`);
      return schemas.get(id) ?? null;
    },
    async subjects() {
      return [];
    },
  };
  return { client, calls, schemas };
}

const sampleAck: Parameters<typeof codecs.ControlAck.encode>[0] = { command_id: 'c1', node: 'n1', agent_id: 'a1', status: 'killed', detail: null, acked_at_ns: 1n };

test('single-object wire format passes values through and refuses to register', async () => {
  const records = [{ key: 'k', value: Buffer.from([0xc3, 1]) }];
  assert.deepEqual(await SINGLE_OBJECT_WIRE_FORMAT.frameRecords('t', records), records);
  await assert.rejects(SINGLE_OBJECT_WIRE_FORMAT.registerSchema('t', {}), /STINGER_SCHEMA_REGISTRY_URL is not set/);
});

test('registry wire format: BACKWARD then one registration per topic and writer, values re-framed with the id', async () => {
  const { client, calls } = memoryRegistry();
  const format = createRegistryWireFormat({ client, logger: silentLogger() });
  const value = codecs.ControlAck.encode(sampleAck);
  const framed = await format.frameRecords('p.stinger.control.acks', [{ key: 'n1', value }, { key: 'n1', value: null }]);
  const again = await format.frameRecords('p.stinger.control.acks', [{ key: 'n1', value }]);
  assert.deepEqual(calls, ['config p.stinger.control.acks-value BACKWARD', 'register p.stinger.control.acks-value']);
  const id = readRegistrySchemaId(framed[0]?.value ?? Buffer.alloc(0));
  assert.equal(id, 5000);
  assert.equal(framed[1]?.value, null, 'tombstones pass');
  assert.deepEqual(again[0]?.value, framed[0]?.value);
  assert.deepEqual(decodeAny(framed[0]?.value ?? Buffer.alloc(0)).value, codecs.ControlAck.decode(value), 'the writer learnt its own id');
});

test('registry wire format keeps signed topics as they are and surfaces a refusal, asking once', async () => {
  const { client, calls } = memoryRegistry({ refuse: (subject) => subject === 'refused-value' });
  const format = createRegistryWireFormat({ client, logger: silentLogger(), keepBytesTopics: new Set(['signed']) });
  const value = Buffer.from([0xc3, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(await format.frameRecords('signed', [{ key: null, value }]), [{ key: null, value }]);
  await assert.rejects(format.registerSchema('refused', codecs.Event.current.schema), SchemaIncompatibleError);
  const event = codecs.Event.encode(sampleEvent());
  await assert.rejects(format.frameRecords('refused', [{ key: null, value: event }]), SchemaIncompatibleError);
  await assert.rejects(format.frameRecords('refused', [{ key: null, value: event }]), SchemaIncompatibleError);
  assert.equal(calls.filter((call) => call === 'register refused-value').length, 2, 'registerSchema once, the producer path once: its refusal is kept');
  await assert.rejects(format.frameRecords('other', [{ key: null, value }]), /no Stinger schema/);
});

test('learnIds asks the registry once per unknown id and teaches the decoders', async () => {
  const { client, calls, schemas } = memoryRegistry();
  schemas.set(7001, codecs.Event.current.schema);
  const format = createRegistryWireFormat({ client, logger: silentLogger() });
  const framed = Buffer.from([0, 0, 0, 0x1b, 0x59]);
  await format.learnIds([framed, framed, null, Buffer.from([0xc3, 1])]);
  await format.learnIds([framed]);
  assert.deepEqual(calls, ['schema 7001']);
  await format.learnIds([Buffer.from([0, 0, 0, 0x1b, 0x5a])]);
  assert.deepEqual(calls, ['schema 7001', 'schema 7002'], 'an id the registry lacks is asked for and left unknown');
  assert.equal(valueSubject('stinger.events'), 'stinger.events-value');
});
