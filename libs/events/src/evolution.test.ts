// Schema evolution: every committed older version (schemas/versions/<Name>/v<N>.avsc) must stay readable by the
// current reader schema, and must differ from it (otherwise it is not a version).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { codecs, encodeWithVersion, schemaVersions } from './codec.ts';
import { SCHEMA_NAMES } from './generated/schemas.ts';

test('RawEvent has an older version 1 (without boot_id) to prove resolution', () => {
  const versions = schemaVersions('RawEvent');
  assert.ok(versions.length >= 2);
  const fields = (versions[0]?.schema as { fields: { name: string }[] }).fields.map((f) => f.name);
  assert.ok(!fields.includes('boot_id'));
});

for (const name of SCHEMA_NAMES) {
  const versions = schemaVersions(name);
  for (const older of versions.slice(0, -1)) {
    test(`${name} v${older.version} records decode with the current reader (v${versions.length})`, () => {
      const codec = codecs[name];
      assert.notEqual(older.fingerprint, codec.current.fingerprint);
      const readerFields = (codec.current.schema as { fields: { name: string; default?: unknown }[] }).fields;
      const writerFields = new Set((older.schema as { fields: { name: string }[] }).fields.map((f) => f.name));
      // Random values of the old schema, written with the old fingerprint, come back with the new fields defaulted.
      for (let i = 0; i < 25; i++) {
        const value = older.type.random() as unknown as Record<string, unknown>;
        const decoded = codec.decode(encodeWithVersion(older, value)) as unknown as Record<string, unknown>;
        // Everything the writer wrote comes back: written again with the old schema (which ignores fields it does
        // not know, including new fields of nested records), the decoded value gives the same bytes.
        assert.deepEqual(older.type.toBuffer(decoded), older.type.toBuffer(value));
        for (const field of readerFields) {
          if (!writerFields.has(field.name)) {
            assert.ok('default' in field, `${field.name} was added without a default`);
            assert.deepEqual(decoded[field.name], field.default, field.name);
          }
        }
      }
    });
  }
}
