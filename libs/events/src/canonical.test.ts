import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsingCanonicalForm, SchemaFormError } from './canonical.ts';
import { AVRO_SPEC_CASES } from './avro-spec-test-data.ts';
import { createAvroType, schemaVersions } from './codec.ts';
import { SCHEMA_NAMES } from './generated/schemas.ts';

test('canonical forms match Apache Avro schema-tests.txt', () => {
  for (const c of AVRO_SPEC_CASES) assert.equal(parsingCanonicalForm(c.input), c.canonical, `entry ${c.entry}`);
});

test('strips logicalType, docs and defaults; writes a named type in full once, then by fullname', () => {
  const schema = {
    type: 'record',
    name: 'Outer',
    namespace: 'a.b',
    doc: 'x',
    fields: [
      { name: 't', type: { type: 'long', logicalType: 'timestamp-nanos' }, doc: 'time' },
      { name: 'p', type: { type: 'record', name: 'P', fields: [{ name: 'n', type: 'int', default: 1 }] } },
      { name: 'q', type: ['null', 'P'], default: null },
      { name: 'f', type: { type: 'fixed', name: 'F', namespace: 'c', size: '016' } },
    ],
  };
  assert.equal(
    parsingCanonicalForm(schema),
    '{"name":"a.b.Outer","type":"record","fields":[{"name":"t","type":"long"},' +
      '{"name":"p","type":{"name":"a.b.P","type":"record","fields":[{"name":"n","type":"int"}]}},' +
      '{"name":"q","type":["null","a.b.P"]},{"name":"f","type":{"name":"c.F","type":"fixed","size":16}}]}',
  );
});

test('rejects what is not a schema', () => {
  assert.throws(() => parsingCanonicalForm({ type: 'record', fields: [] }), SchemaFormError);
  assert.throws(() => parsingCanonicalForm(42), SchemaFormError);
});

test("every Stinger schema version's canonical form equals the one avsc derives", () => {
  for (const name of SCHEMA_NAMES) {
    for (const version of schemaVersions(name)) {
      const plain = createAvroType(version.schema);
      assert.equal(version.canonicalForm, JSON.stringify(plain.schema()), `${name} v${version.version}`);
    }
  }
});
