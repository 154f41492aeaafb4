// Single-object encoding (Avro specification, "Single-object encoding"): C3 01, the 8-byte little-endian CRC-64-AVRO
// fingerprint of the writer schema's Parsing Canonical Form, then the Avro binary body. Readers find the writer schema
// by fingerprint among every committed version of the schema and resolve it to the current (reader) schema.
//
// Readers also take the schema registry wire format (Confluent's, which Apicurio's ccompat API and Karapace share):
// byte 00, the 4-byte big-endian schema id, then the same body. The first byte tells them apart (C3 vs 00). An id
// means nothing without the registry that issued it: the process's registry client (@stinger/schema-registry) looks
// ids up before records reach a decoder and hands each writer schema to `learnRegistrySchema`; a decoder meeting an
// id nobody taught it fails with reason 'unknown-schema-id'.
import avro from 'avsc';
import { installBoundedReads } from './bounded-reads.ts';
import { parsingCanonicalForm } from './canonical.ts';
import { fingerprint64Halves } from './crc64.ts';
import { DecodeError, EncodeError, SchemaError } from './errors.ts';
import { bigintLongType } from './long.ts';
import { stingerTypeOptions } from './record-union.ts';
import { SCHEMA_NAMES, SCHEMA_SOURCES, type SchemaName } from './generated/schemas.ts';
import type { SchemaTypes } from './generated/types.ts';

// Before any type is built: a record claiming a huge array or map must not allocate for it (bounded-reads.ts).
installBoundedReads();

/** Length of the single-object header: 2 marker bytes + 8 fingerprint bytes. */
export const SINGLE_OBJECT_HEADER_LENGTH = 10;
const MARKER_0 = 0xc3;
const MARKER_1 = 0x01;
/** Length of the registry wire-format header: magic byte 00 + 4-byte big-endian schema id. */
export const REGISTRY_HEADER_LENGTH = 5;
const REGISTRY_MAGIC = 0x00;

/** One version of one schema, ready to use. */
export interface SchemaVersion {
  readonly name: SchemaName;
  /**
   * 1 for the first committed version; the current version is the highest. 0: a writer schema learnt from the
   * registry that this build does not have (a newer producer's), read by schema resolution.
   */
  readonly version: number;
  /** Bundled (self-contained) schema JSON, docs and defaults included. */
  readonly schema: unknown;
  readonly canonicalForm: string;
  /** CRC-64-AVRO of canonicalForm, unsigned. */
  readonly fingerprint: bigint;
  /** The 10-byte single-object header of records written with this version. */
  readonly header: Buffer;
  /** avsc type with Stinger's representation (bigint longs, discriminated payload union). */
  readonly type: avro.Type;
}

/** Builds an avsc type for a bundled schema with Stinger's value representation. */
export function createAvroType(schema: unknown): avro.Type {
  return avro.Type.forSchema(schema as Parameters<typeof avro.Type.forSchema>[0], stingerTypeOptions(bigintLongType));
}

function buildVersion(name: SchemaName, source: { readonly version: number; readonly schema: unknown }): SchemaVersion {
  const canonicalForm = parsingCanonicalForm(source.schema);
  const { lo, hi } = fingerprint64Halves(canonicalForm);
  const header = Buffer.alloc(SINGLE_OBJECT_HEADER_LENGTH);
  header[0] = MARKER_0;
  header[1] = MARKER_1;
  header.writeUInt32LE(lo, 2);
  header.writeUInt32LE(hi, 6);
  let type: avro.Type;
  try {
    type = createAvroType(source.schema);
  } catch (cause) {
    throw new SchemaError(`${name} v${source.version} does not load: ${(cause as Error).message}`, { cause });
  }
  return { name, version: source.version, schema: source.schema, canonicalForm, fingerprint: (BigInt(hi) << 32n) | BigInt(lo), header, type };
}

let versionsByName: Map<SchemaName, readonly SchemaVersion[]> | undefined;
let versionsByFingerprint: Map<bigint, SchemaVersion> | undefined;
/** Writer schemas by registry schema id, as taught by `learnRegistrySchema` (one registry per process). */
const writersByRegistryId = new Map<number, SchemaVersion>();
/** Writer schemas learnt from the registry that are no committed version (version 0), by fingerprint. */
const foreignByFingerprint = new Map<bigint, SchemaVersion>();

function loadVersions(): void {
  if (versionsByName) return;
  const byName = new Map<SchemaName, readonly SchemaVersion[]>();
  const byFingerprint = new Map<bigint, SchemaVersion>();
  for (const name of SCHEMA_NAMES) {
    const sources = SCHEMA_SOURCES[name];
    const versions = [...sources.older, sources.current].map((source) => buildVersion(name, source));
    for (const version of versions) {
      const clash = byFingerprint.get(version.fingerprint);
      if (clash) throw new SchemaError(`${name} v${version.version} has the fingerprint of ${clash.name} v${clash.version}`);
      byFingerprint.set(version.fingerprint, version);
    }
    byName.set(name, versions);
  }
  versionsByName = byName;
  versionsByFingerprint = byFingerprint;
}

/** Every known version of a schema, oldest first; the last is the current one. */
export function schemaVersions(name: SchemaName): readonly SchemaVersion[] {
  loadVersions();
  const versions = versionsByName?.get(name);
  if (!versions) throw new SchemaError(`unknown schema: ${String(name)}`);
  return versions;
}

/** The writer fingerprint in a single-object encoded buffer, or undefined when it has no valid header. */
export function readFingerprint(bytes: Uint8Array): bigint | undefined {
  if (bytes.length < SINGLE_OBJECT_HEADER_LENGTH || bytes[0] !== MARKER_0 || bytes[1] !== MARKER_1) return undefined;
  const buf = asBuffer(bytes);
  return (BigInt(buf.readUInt32LE(6)) << 32n) | BigInt(buf.readUInt32LE(2));
}

/** The known schema version whose fingerprint (or learnt registry id) a buffer carries, or undefined. */
export function schemaVersionOf(bytes: Uint8Array): SchemaVersion | undefined {
  const id = readRegistrySchemaId(bytes);
  if (id !== undefined) return writersByRegistryId.get(id);
  const fingerprint = readFingerprint(bytes);
  if (fingerprint === undefined) return undefined;
  loadVersions();
  return versionsByFingerprint?.get(fingerprint);
}

/** The schema id of a buffer in the registry wire format (00 + 4-byte big-endian id), or undefined. */
export function readRegistrySchemaId(bytes: Uint8Array): number | undefined {
  if (bytes.length < REGISTRY_HEADER_LENGTH || bytes[0] !== REGISTRY_MAGIC) return undefined;
  return asBuffer(bytes).readUInt32BE(1);
}

/** The writer schema learnt for a registry schema id, or undefined when none was. */
export function registryWriterOf(id: number): SchemaVersion | undefined {
  return writersByRegistryId.get(id);
}

/** The schema name whose current version declares the record fullname of `schema`, or undefined. */
function schemaNameOf(schema: unknown): SchemaName | undefined {
  const fullname = recordFullname(schema);
  if (fullname === undefined) return undefined;
  for (const name of SCHEMA_NAMES) {
    const versions = schemaVersions(name);
    const current = versions[versions.length - 1];
    if (current && recordFullname(current.schema) === fullname) return name;
  }
  return undefined;
}

function recordFullname(schema: unknown): string | undefined {
  if (typeof schema !== 'object' || schema === null) return undefined;
  const { name, namespace } = schema as { name?: unknown; namespace?: unknown };
  if (typeof name !== 'string') return undefined;
  return name.includes('.') || typeof namespace !== 'string' || namespace === '' ? name : `${namespace}.${name}`;
}

/**
 * Teaches the decoders what a registry schema id stands for. `schema` is the writer schema the registry returned
 * (parsed JSON). Returns the writer: a committed version when its fingerprint is one, else a version-0 writer of the
 * Stinger schema whose record fullname it declares, read by schema resolution. Throws SchemaError for a schema that is
 * no Stinger schema or does not load. Idempotent; the registry client calls it once per id it meets.
 */
export function learnRegistrySchema(id: number, schema: unknown): SchemaVersion {
  if (!Number.isInteger(id) || id < 0 || id > 0xffffffff) throw new SchemaError(`registry schema id ${id} is not a 32-bit unsigned integer`);
  const known = writersByRegistryId.get(id);
  if (known) return known;
  loadVersions();
  let canonicalForm: string;
  try {
    canonicalForm = parsingCanonicalForm(schema);
  } catch (cause) {
    throw new SchemaError(`registry schema id ${id} is not an Avro schema: ${(cause as Error).message}`, { cause });
  }
  const { lo, hi } = fingerprint64Halves(canonicalForm);
  const fingerprint = (BigInt(hi) << 32n) | BigInt(lo);
  let writer = versionsByFingerprint?.get(fingerprint) ?? foreignByFingerprint.get(fingerprint);
  if (!writer) {
    const name = schemaNameOf(schema);
    if (name === undefined) throw new SchemaError(`registry schema id ${id} (${recordFullname(schema) ?? 'unnamed'}) is no Stinger schema`);
    writer = buildVersion(name, { version: 0, schema });
    foreignByFingerprint.set(fingerprint, writer);
  }
  writersByRegistryId.set(id, writer);
  return writer;
}

/**
 * The registry wire-format copy of a single-object encoded record: 00, `id` big-endian, the same body. Producers in
 * registry mode (@stinger/kafka through @stinger/schema-registry) write this; the id must be the registry's id of the
 * record's writer schema under the topic's subject.
 */
export function toRegistryFraming(singleObject: Uint8Array, id: number): Buffer {
  const buf = asBuffer(singleObject);
  if (buf.length < SINGLE_OBJECT_HEADER_LENGTH || buf[0] !== MARKER_0 || buf[1] !== MARKER_1) {
    throw new EncodeError('not a single-object encoded record: no C3 01 marker', { schema: 'unknown', paths: [] });
  }
  const out = Buffer.allocUnsafe(buf.length - SINGLE_OBJECT_HEADER_LENGTH + REGISTRY_HEADER_LENGTH);
  out[0] = REGISTRY_MAGIC;
  out.writeUInt32BE(id, 1);
  buf.copy(out, REGISTRY_HEADER_LENGTH, SINGLE_OBJECT_HEADER_LENGTH);
  return out;
}

/** Where a record's writer schema is named and where its body starts, in either wire format. */
export interface WriterHeader {
  /** The writer schema's fingerprint, as two little-endian halves. */
  readonly lo: number;
  readonly hi: number;
  /** Offset of the Avro body: 10 for single-object encoding, 5 for the registry format. */
  readonly bodyOffset: number;
}

/**
 * Reads the header of a record in either wire format. Throws DecodeError: 'truncated' (shorter than its header),
 * 'bad-magic' (neither C3 01 nor 00), 'unknown-schema-id' (a registry id no one taught this process).
 */
export function readWriterHeader(buf: Buffer, schema: SchemaName | null): WriterHeader {
  const label = schema ?? 'record';
  if (buf.length > 0 && buf[0] === REGISTRY_MAGIC) {
    if (buf.length < REGISTRY_HEADER_LENGTH) throw new DecodeError(`${label}: ${buf.length} bytes, shorter than the registry header`, { reason: 'truncated', schema });
    const id = buf.readUInt32BE(1);
    const writer = writersByRegistryId.get(id);
    if (!writer) {
      throw new DecodeError(`${label}: schema registry id ${id} is not known here (is STINGER_SCHEMA_REGISTRY_URL set to the registry that wrote it?)`, {
        reason: 'unknown-schema-id',
        schema,
      });
    }
    return { lo: writer.header.readUInt32LE(2), hi: writer.header.readUInt32LE(6), bodyOffset: REGISTRY_HEADER_LENGTH };
  }
  if (buf.length < SINGLE_OBJECT_HEADER_LENGTH) {
    throw new DecodeError(`${label}: ${buf.length} bytes, shorter than the single-object header`, { reason: 'truncated', schema });
  }
  if (buf[0] !== MARKER_0 || buf[1] !== MARKER_1) throw new DecodeError(`${label}: no single-object marker C3 01 nor registry magic 00`, { reason: 'bad-magic', schema });
  return { lo: buf.readUInt32LE(2), hi: buf.readUInt32LE(6), bodyOffset: SINGLE_OBJECT_HEADER_LENGTH };
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Shared encode buffer: encoding is synchronous, so one buffer serves every codec; it grows when a record needs more. */
let scratch = Buffer.allocUnsafe(64 * 1024);

/** Encoder/decoder for one schema. */
export interface Codec<T> {
  readonly name: SchemaName;
  /** The version this codec writes and reads into. */
  readonly current: SchemaVersion;
  /** Every version it can read, oldest first (the last is current). */
  readonly versions: readonly SchemaVersion[];
  /** Single-object encoding of `value` with the current schema. Throws EncodeError for a non-conforming value. */
  encode(value: T): Buffer;
  /** Decodes a single-object encoded record of any known version of this schema. Throws DecodeError. */
  decode(bytes: Uint8Array): T;
  /** Dotted paths of the fields of `value` that do not conform to the schema; empty when it conforms. */
  validate(value: unknown): string[];
  /** Avro JSON encoding of `value` (unions wrapped, e.g. {"string": "x"}; longs as exact integers; bytes as code points). */
  toJson(value: T): string;
  /** Parses the Avro JSON encoding, keeping every digit of longs. Throws EncodeError when it does not conform. */
  fromJson(text: string): T;
}

function invalidPaths(type: avro.Type, value: unknown): string[] {
  const paths: string[] = [];
  type.isValid(value, { errorHook: (path: string[]) => paths.push(path.join('.') || '(root)') });
  return paths;
}

// Integers beyond 2^53 are turned into decimal strings while parsing, before they lose digits; the long type accepts
// decimal strings.
function parseLossless(text: string): unknown {
  const reviver = (_key: string, value: unknown, context?: { source?: string }): unknown =>
    typeof value === 'number' && !Number.isSafeInteger(value) && context?.source !== undefined && /^-?\d+$/.test(context.source)
      ? context.source
      : value;
  return JSON.parse(text, reviver as (key: string, value: unknown) => unknown);
}

/**
 * Single-object encoding of `value` with a specific (possibly older) schema version. For golden vectors and
 * compatibility tests; producers use a codec, which always writes the current version.
 */
export function encodeWithVersion(version: SchemaVersion, value: unknown): Buffer {
  return Buffer.concat([version.header, version.type.toBuffer(value)]);
}

/** Parses the Avro JSON encoding of a value of `type`, keeping every digit of longs. */
export function parseAvroJson(type: avro.Type, text: string): unknown {
  return type.fromString(JSON.stringify(parseLossless(text)));
}

class SingleObjectCodec<T> implements Codec<T> {
  readonly name: SchemaName;
  readonly current: SchemaVersion;
  readonly versions: readonly SchemaVersion[];
  readonly #lo: number;
  readonly #hi: number;
  readonly #resolvers = new Map<bigint, unknown>();

  constructor(name: SchemaName) {
    this.name = name;
    this.versions = schemaVersions(name);
    this.current = this.versions[this.versions.length - 1] as SchemaVersion;
    this.#lo = this.current.header.readUInt32LE(2);
    this.#hi = this.current.header.readUInt32LE(6);
    for (const older of this.versions.slice(0, -1)) {
      try {
        this.#resolvers.set(older.fingerprint, this.current.type.createResolver(older.type));
      } catch (cause) {
        throw new SchemaError(`${name} v${older.version} cannot be read as v${this.current.version}: ${(cause as Error).message}`, { cause });
      }
    }
  }

  encode(value: T): Buffer {
    const type = this.current.type;
    let end: number;
    try {
      end = type.encode(value, scratch, SINGLE_OBJECT_HEADER_LENGTH);
      if (end < 0) {
        scratch = Buffer.allocUnsafe(Math.max(scratch.length * 2, scratch.length - end));
        end = type.encode(value, scratch, SINGLE_OBJECT_HEADER_LENGTH);
      }
    } catch (cause) {
      const paths = invalidPaths(type, value);
      throw new EncodeError(`${this.name} value does not conform to its schema at ${paths.join(', ') || '(unknown)'}`, {
        schema: this.name,
        paths,
        cause,
      });
    }
    const out = Buffer.allocUnsafe(end);
    this.current.header.copy(out, 0);
    scratch.copy(out, SINGLE_OBJECT_HEADER_LENGTH, SINGLE_OBJECT_HEADER_LENGTH, end);
    return out;
  }

  decode(bytes: Uint8Array): T {
    const buf = asBuffer(bytes);
    const { lo, hi, bodyOffset } = readWriterHeader(buf, this.name);
    let resolver: unknown;
    if (lo !== this.#lo || hi !== this.#hi) {
      const fingerprint = (BigInt(hi) << 32n) | BigInt(lo);
      resolver = this.#resolvers.get(fingerprint) ?? this.#foreignResolver(fingerprint);
      if (resolver === undefined) {
        const writer = versionsByFingerprint?.get(fingerprint);
        const hex = fingerprint.toString(16).padStart(16, '0');
        throw writer
          ? new DecodeError(`${this.name}: record was written as ${writer.name} v${writer.version}`, { reason: 'wrong-schema', schema: this.name, fingerprint })
          : new DecodeError(`${this.name}: unknown writer fingerprint ${hex}`, { reason: 'unknown-fingerprint', schema: this.name, fingerprint });
      }
    }
    let result: { value: unknown; offset: number };
    try {
      result = this.current.type.decode(buf, bodyOffset, resolver as Parameters<avro.Type['decode']>[2]);
    } catch (cause) {
      throw new DecodeError(`${this.name}: invalid body: ${(cause as Error).message}`, { reason: 'invalid-body', schema: this.name, cause });
    }
    if (result.offset < 0) {
      throw new DecodeError(`${this.name}: body ends early`, { reason: 'truncated', schema: this.name });
    }
    if (result.offset !== buf.length) {
      throw new DecodeError(`${this.name}: ${buf.length - result.offset} bytes after the body`, { reason: 'invalid-body', schema: this.name });
    }
    return result.value as T;
  }

  /**
   * The resolver for a writer learnt from the registry that is no committed version (a newer producer's schema),
   * built on first use; undefined when the fingerprint is no such writer of this schema. A writer that does not
   * resolve to the current version is a DecodeError ('wrong-schema'): the registry's compatibility check should have
   * refused it.
   */
  #foreignResolver(fingerprint: bigint): unknown {
    const writer = foreignByFingerprint.get(fingerprint);
    if (!writer || writer.name !== this.name) return undefined;
    try {
      const resolver = this.current.type.createResolver(writer.type);
      this.#resolvers.set(fingerprint, resolver);
      return resolver;
    } catch (cause) {
      throw new DecodeError(`${this.name}: the registry's writer schema does not resolve to v${this.current.version}: ${(cause as Error).message}`, {
        reason: 'wrong-schema',
        schema: this.name,
        fingerprint,
        cause,
      });
    }
  }

  validate(value: unknown): string[] {
    return invalidPaths(this.current.type, value);
  }

  toJson(value: T): string {
    return this.current.type.toString(value);
  }

  fromJson(text: string): T {
    const type = this.current.type;
    try {
      return parseAvroJson(type, text) as T;
    } catch (cause) {
      throw new EncodeError(`${this.name}: JSON does not conform to the schema: ${(cause as Error).message}`, { schema: this.name, paths: [], cause });
    }
  }
}

/** Builds a codec for one schema. Prefer the shared instances in `codecs`. */
export function createCodec<N extends SchemaName>(name: N): Codec<SchemaTypes[N]> {
  if (!(SCHEMA_NAMES as readonly string[]).includes(name)) throw new SchemaError(`unknown schema: ${String(name)}`);
  return new SingleObjectCodec<SchemaTypes[N]>(name);
}

const cache = new Map<SchemaName, Codec<unknown>>();

/** One shared codec per schema, built on first use. */
export const codecs = {} as { readonly [N in SchemaName]: Codec<SchemaTypes[N]> };
for (const name of SCHEMA_NAMES) {
  Object.defineProperty(codecs, name, {
    enumerable: true,
    get: () => {
      let codec = cache.get(name);
      if (!codec) {
        codec = createCodec(name) as Codec<unknown>;
        cache.set(name, codec);
      }
      return codec;
    },
  });
}

/** Single-object encoding of a value of schema `name`. */
export function encode<N extends SchemaName>(name: N, value: SchemaTypes[N]): Buffer {
  return (codecs[name] as Codec<SchemaTypes[N]>).encode(value);
}

/** Decodes a single-object encoded value of schema `name` (any known version). */
export function decode<N extends SchemaName>(name: N, bytes: Uint8Array): SchemaTypes[N] {
  return (codecs[name] as Codec<SchemaTypes[N]>).decode(bytes);
}

/** A record of whichever schema its fingerprint names; switch on `name`. */
export type AnyRecord = { [N in SchemaName]: { readonly name: N; readonly version: number; readonly value: SchemaTypes[N] } }[SchemaName];

/** Decodes a single-object encoded record of any Stinger schema (replay, dead-letter inspection, the CLI). */
export function decodeAny(bytes: Uint8Array): AnyRecord {
  const buf = asBuffer(bytes);
  const { lo, hi } = readWriterHeader(buf, null);
  const fingerprint = (BigInt(hi) << 32n) | BigInt(lo);
  loadVersions();
  const writer = versionsByFingerprint?.get(fingerprint) ?? foreignByFingerprint.get(fingerprint);
  if (!writer) {
    throw new DecodeError(`unknown writer fingerprint ${fingerprint.toString(16).padStart(16, '0')}`, { reason: 'unknown-fingerprint', schema: null, fingerprint });
  }
  return { name: writer.name, version: writer.version, value: codecs[writer.name].decode(buf) } as AnyRecord;
}
