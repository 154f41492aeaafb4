// Reads the schema tree: schemas/*.avsc (top-level records, one per file, named after the file),
// schemas/shared/*.avsc (named types shared between them, one per file, named after the file) and
// schemas/versions/<Name>/v<N>.avsc (frozen, bundled older versions). Used by codegen, the golden-vector script and tests.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join, basename, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleSchema, declaredFullname, namedTypesOf } from '../src/bundle.ts';

/** Absolute path of the repository's schemas/ directory. */
export const SCHEMAS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../schemas');

export interface SchemaTree {
  /** Top-level schema names, sorted. */
  readonly names: readonly string[];
  /** name -> bundled current schema. */
  readonly bundled: ReadonlyMap<string, unknown>;
  /** name -> older versions, oldest first ({version, schema} with the schema already bundled). */
  readonly older: ReadonlyMap<string, readonly { readonly version: number; readonly schema: unknown }[]>;
  /** fullname -> definition, for every named type of every current schema. */
  readonly namedTypes: ReadonlyMap<string, { [key: string]: unknown }>;
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw new Error(`${path}: ${(cause as Error).message}`, { cause });
  }
}

function avscFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((file) => file.endsWith('.avsc'))
    .sort()
    .map((file) => join(dir, file));
}

function checkNamedAfterFile(path: string, schema: unknown): string {
  const fullname = declaredFullname(schema as { [key: string]: unknown });
  const short = fullname.slice(fullname.lastIndexOf('.') + 1);
  if (short !== basename(path, '.avsc')) throw new Error(`${path} defines ${fullname}; the file must be named ${short}.avsc`);
  return fullname;
}

export function readSchemaTree(dir: string = SCHEMAS_DIR): SchemaTree {
  const definitions = new Map<string, unknown>();
  for (const path of avscFiles(join(dir, 'shared'))) {
    const schema = readJson(path);
    definitions.set(checkNamedAfterFile(path, schema), schema);
  }
  // Top-level records may reference each other too (an Alert carries its Event).
  const topLevel = new Map<string, unknown>();
  for (const path of avscFiles(dir)) {
    const schema = readJson(path);
    definitions.set(checkNamedAfterFile(path, schema), schema);
    topLevel.set(basename(path, '.avsc'), schema);
  }
  const bundled = new Map<string, unknown>();
  const namedTypes = new Map<string, { [key: string]: unknown }>();
  for (const [name, schema] of topLevel) {
    const full = bundleSchema(schema, definitions);
    bundled.set(name, full);
    for (const [fullname, definition] of namedTypesOf(full)) namedTypes.set(fullname, definition);
  }
  const older = new Map<string, { version: number; schema: unknown }[]>();
  for (const name of bundled.keys()) {
    const versionDir = join(dir, 'versions', name);
    const versions = avscFiles(versionDir).map((path) => {
      const match = /^v(\d+)\.avsc$/.exec(basename(path));
      if (!match) throw new Error(`${path}: version files are named v<N>.avsc`);
      return { version: Number(match[1]), schema: readJson(path) };
    });
    versions.sort((a, b) => a.version - b.version);
    versions.forEach((entry, index) => {
      if (entry.version !== index + 1) throw new Error(`${versionDir}: versions must be v1..v${versions.length} without gaps`);
    });
    older.set(name, versions);
  }
  return { names: [...bundled.keys()].sort(), bundled, older, namedTypes };
}

/** The current version number of a schema: one more than its newest frozen older version. */
export function currentVersion(tree: SchemaTree, name: string): number {
  return (tree.older.get(name)?.length ?? 0) + 1;
}
