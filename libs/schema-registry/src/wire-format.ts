/**
 * What goes on the wire: Avro single-object encoding (no registry), or the schema registry's format (00 + schema id +
 * body) when STINGER_SCHEMA_REGISTRY_URL is set. @stinger/kafka runs every produced value through `frameRecords` and
 * every fetched batch through `learnIds` before handing it on, so services encode and decode as they always did.
 *
 * Contract (registry mode):
 * - Subjects follow the topic name strategy: `<topic>-value`. The first time this process writes a schema version to a
 *   topic it sets the subject's compatibility to BACKWARD, registers the version's bundled schema and keeps the id;
 *   the registry answers the same id for a schema it already has, so every producer of a topic agrees.
 * - A registration the registry refuses (SchemaIncompatibleError, one line naming schema, subject and reason) fails the
 *   send and is logged once, as that one line; the refusal is kept, so later sends of that schema to that topic fail
 *   at once with the same error rather than ask again (the registry's answer will not change while it holds the
 *   subject's versions). Nothing is written in another format instead. Any other failed lookup is forgotten, so the
 *   next send asks again.
 * - Values that are not single-object encoded (tombstones, records already framed) and the values of `keepBytesTopics`
 *   (whose bytes are signed: stinger.policies) pass unchanged.
 * - Readers accept both formats always; `learnIds` asks the registry once per unknown id and teaches the decoders
 *   (@stinger/events learnRegistrySchema). An id the registry does not have, or a schema that is no Stinger schema, is
 *   left unknown: the decoder then rejects the record ('unknown-schema-id') and the consumer dead-letters it.
 */
import { learnRegistrySchema, readFingerprint, readRegistrySchemaId, registryWriterOf, schemaVersionOf, toRegistryFraming } from '@stinger/events';
import { namespaced, type Logger } from '@stinger/log';
import { SchemaIncompatibleError } from './errors.ts';
import type { SchemaRegistryClient } from './registry-client.ts';

export type WireFormatKind = 'single-object' | 'registry';

export interface WireFormat {
  readonly kind: WireFormatKind;
  /** `records` as they go on `topic` (new objects with the value replaced where it changes; order kept). */
  frameRecords<R extends { readonly value: Buffer | null }>(topic: string, records: readonly R[]): Promise<R[]>;
  /** Teaches this process's decoders the registry ids among `values` (a no-op without a registry). */
  learnIds(values: Iterable<Buffer | null>): Promise<void>;
  /**
   * Registers `schema` (Avro JSON) for the values of `topic` as a producer's first write does, and resolves to its id.
   * For a writer this build does not have (a schema evolution drill, a newer producer); `frameRecords` registers
   * committed schemas by itself. Rejects without a registry.
   */
  registerSchema(topic: string, schema: unknown): Promise<number>;
}

/** No registry: values pass as they are (single-object encoded); registry-framed values stay undecodable here. */
export const SINGLE_OBJECT_WIRE_FORMAT: WireFormat = Object.freeze({
  kind: 'single-object' as const,
  frameRecords: <R extends { readonly value: Buffer | null }>(_topic: string, records: readonly R[]) => Promise.resolve([...records]),
  learnIds: () => Promise.resolve(),
  registerSchema: () => Promise.reject(new Error('no schema registry: STINGER_SCHEMA_REGISTRY_URL is not set')),
});

export interface RegistryWireFormatOptions {
  readonly client: SchemaRegistryClient;
  readonly logger: Logger;
  /** Topics whose value bytes are signed and so are never re-framed (full names, prefix included). */
  readonly keepBytesTopics?: ReadonlySet<string>;
}

/** The subject of a topic's values (Confluent's TopicNameStrategy, which Apicurio's ccompat API follows). */
export function valueSubject(topic: string): string {
  return `${topic}-value`;
}

export function createRegistryWireFormat(options: RegistryWireFormatOptions): WireFormat {
  const { client, keepBytesTopics = new Set<string>() } = options;
  const logger = namespaced(options.logger, 'SchemaRegistry');
  const ids = new Map<string, Promise<number>>();
  const compatibilitySet = new Map<string, Promise<void>>();
  const lookups = new Map<number, Promise<void>>();

  function subjectReady(subject: string): Promise<void> {
    let ready = compatibilitySet.get(subject);
    if (!ready) {
      ready = client.setCompatibility(subject, 'BACKWARD');
      compatibilitySet.set(subject, ready);
      ready.catch(() => compatibilitySet.delete(subject));
    }
    return ready;
  }

  async function registerSchema(topic: string, schema: unknown): Promise<number> {
    const subject = valueSubject(topic);
    await subjectReady(subject);
    const id = await client.registerSchema(subject, schema);
    const writer = learnRegistrySchema(id, schema);
    logger.info({ subject, schema: writer.name, version: writer.version, id }, 'schema registered');
    return id;
  }

  function idFor(topic: string, value: Buffer): Promise<number> | undefined {
    const fingerprint = readFingerprint(value);
    if (fingerprint === undefined) return undefined;
    const key = `${topic}\u0000${fingerprint}`;
    let id = ids.get(key);
    if (!id) {
      const version = schemaVersionOf(value);
      if (!version) return Promise.reject(new Error(`a value for ${topic} carries fingerprint ${fingerprint.toString(16).padStart(16, '0')}, no Stinger schema`));
      id = registerSchema(topic, version.schema);
      ids.set(key, id);
      id.catch((error: unknown) => {
        if (error instanceof SchemaIncompatibleError) logger.error({ subject: error.subject, schema: version.name, version: version.version }, error.message);
        else ids.delete(key);
      });
    }
    return id;
  }

  return {
    kind: 'registry',
    registerSchema,
    async frameRecords(topic, records) {
      if (keepBytesTopics.has(topic)) return [...records];
      const pending = records.map((record) => (record.value === null ? undefined : idFor(topic, record.value)));
      const resolved = await Promise.all(pending);
      return records.map((record, index) => {
        const id = resolved[index];
        return id === undefined || record.value === null ? record : { ...record, value: toRegistryFraming(record.value, id) };
      });
    },
    async learnIds(values) {
      const unknown = new Set<number>();
      for (const value of values) {
        if (value === null) continue;
        const id = readRegistrySchemaId(value);
        if (id !== undefined && registryWriterOf(id) === undefined) unknown.add(id);
      }
      await Promise.all(
        [...unknown].map((id) => {
          let lookup = lookups.get(id);
          if (!lookup) {
            lookup = client.schemaById(id).then((schema) => {
              if (schema === null) {
                logger.warn({ id }, 'the registry has no schema under this id; its records are dead-lettered');
                return;
              }
              try {
                const writer = learnRegistrySchema(id, schema);
                logger.info({ id, schema: writer.name, version: writer.version }, 'schema id learnt');
              } catch (error) {
                logger.warn({ id, err: error }, 'schema id names no Stinger schema; its records are dead-lettered');
              }
            });
            lookups.set(id, lookup);
            // Failed lookups (registry down) are asked again with the next batch; the batch itself fails and retries.
            lookup.catch(() => lookups.delete(id));
          }
          return lookup;
        }),
      );
    },
  };
}
