// Golden byte vectors: schemas/golden/<Name>.v<N>.json holds a value in the Avro JSON encoding, <Name>.v<N>.hex the
// exact single-object bytes that value encodes to with version N of the schema. Tests compare against these files and
// never rewrite them; regenerate deliberately (after a schema change that bumps a version) with
//   node libs/events/scripts/golden.ts --write
// Without --write the script checks and exits 1 naming each mismatching vector.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { encodeWithVersion, parseAvroJson, schemaVersions, type SchemaVersion } from '../src/codec.ts';
import { SCHEMA_NAMES, type SchemaName } from '../src/generated/schemas.ts';
import { SCHEMAS_DIR } from './schema-files.ts';

export const GOLDEN_DIR = join(SCHEMAS_DIR, 'golden');

export interface GoldenVector {
  readonly name: SchemaName;
  readonly version: SchemaVersion;
  readonly jsonPath: string;
  readonly hexPath: string;
  /** The value, Avro JSON encoding. */
  readonly json: string;
}

/** Every golden vector input in schemas/golden. Throws on a file that names no known schema version. */
export function listGoldenVectors(): GoldenVector[] {
  return readdirSync(GOLDEN_DIR)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => {
      const match = /^([A-Za-z]+)\.v(\d+)\.json$/.exec(file);
      const name = match?.[1] as SchemaName | undefined;
      if (!match || !name || !(SCHEMA_NAMES as readonly string[]).includes(name)) throw new Error(`${file}: expected <SchemaName>.v<N>.json`);
      const version = schemaVersions(name).find((v) => v.version === Number(match[2]));
      if (!version) throw new Error(`${file}: ${name} has no version ${match[2]}`);
      const jsonPath = join(GOLDEN_DIR, file);
      return { name, version, jsonPath, hexPath: jsonPath.replace(/\.json$/, '.hex'), json: readFileSync(jsonPath, 'utf8') };
    });
}

/** The bytes a vector's JSON encodes to with its schema version. */
export function encodeGolden(vector: GoldenVector): Buffer {
  return encodeWithVersion(vector.version, parseAvroJson(vector.version.type, vector.json));
}

/** Hex text as committed: 32 bytes per line, lower case. */
export function formatHex(bytes: Buffer): string {
  const hex = bytes.toString('hex');
  return `${hex.match(/.{1,64}/g)?.join('\n') ?? ''}\n`;
}

export function parseHex(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ''), 'hex');
}

function main(argv: readonly string[]): number {
  const write = argv.includes('--write');
  let failures = 0;
  for (const vector of listGoldenVectors()) {
    const hex = formatHex(encodeGolden(vector));
    const path = relative(process.cwd(), vector.hexPath);
    const committed = existsSync(vector.hexPath) ? readFileSync(vector.hexPath, 'utf8') : undefined;
    if (committed === hex) continue;
    if (write) {
      writeFileSync(vector.hexPath, hex);
      console.log(`golden: wrote ${path}`);
    } else {
      console.error(`golden: ${path} ${committed === undefined ? 'missing' : 'differs'}`);
      failures++;
    }
  }
  return failures === 0 ? 0 : 1;
}

if (import.meta.filename === process.argv[1]) process.exitCode = main(process.argv.slice(2));
