// Golden byte vectors (schemas/golden): the committed bytes are the contract with consumers in other languages.
// These tests never rewrite them; see libs/events/scripts/golden.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { codecs, parseAvroJson, type Codec } from './codec.ts';
import { SCHEMA_NAMES } from './generated/schemas.ts';
import { encodeGolden, listGoldenVectors, parseHex } from '../scripts/golden.ts';

const vectors = listGoldenVectors();

test('every schema has a golden vector for its current version', () => {
  for (const name of SCHEMA_NAMES) {
    const current = codecs[name].current.version;
    assert.ok(vectors.some((v) => v.name === name && v.version.version === current), `${name}.v${current}.json missing`);
  }
});

for (const vector of vectors) {
  const label = `${vector.name}.v${vector.version.version}`;
  test(`${label}: the JSON input encodes to exactly the golden bytes`, () => {
    const golden = parseHex(readFileSync(vector.hexPath, 'utf8'));
    assert.equal(encodeGolden(vector).toString('hex'), golden.toString('hex'));
  });

  test(`${label}: the golden bytes decode with the current reader to the JSON input`, () => {
    const codec: Codec<unknown> = codecs[vector.name];
    const decoded = codec.decode(parseHex(readFileSync(vector.hexPath, 'utf8')));
    const expected = JSON.parse(JSON.stringify(parseAvroJson(vector.version.type, vector.json), (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))) as Record<string, unknown>;
    const actual = JSON.parse(JSON.stringify(decoded, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))) as Record<string, unknown>;
    if (vector.version === codec.current) {
      assert.deepEqual(actual, expected);
      assert.equal(codec.toJson(decoded), codec.toJson(codec.fromJson(vector.json)));
    } else {
      // An older writer: its fields come through (written again with its schema, the decoded value gives the golden
      // bytes' body: nested fields added since are ignored there), and top-level fields added since take their defaults.
      assert.deepEqual(vector.version.type.toBuffer(decoded), vector.version.type.toBuffer(parseAvroJson(vector.version.type, vector.json)));
      const fields = (codec.current.schema as { fields: { name: string; default?: unknown }[] }).fields;
      for (const field of fields) {
        if (!(field.name in expected)) assert.deepEqual(actual[field.name], field.default, field.name);
      }
    }
  });
}
