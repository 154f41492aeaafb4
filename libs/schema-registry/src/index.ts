/**
 * @stinger/schema-registry — Stinger with a schema registry (issue: downstream tools read the security topics).
 * registry-client.ts speaks the Confluent-compatible REST API (Apicurio's ccompat, Confluent, Karapace);
 * wire-format.ts decides what a producer writes and teaches readers the ids they meet.
 */
export { createSchemaRegistryClient, type CompatibilityLevel, type SchemaRegistryClient } from './registry-client.ts';
export { createRegistryWireFormat, SINGLE_OBJECT_WIRE_FORMAT, valueSubject, type RegistryWireFormatOptions, type WireFormat, type WireFormatKind } from './wire-format.ts';
export { SchemaIncompatibleError, SchemaRegistryError } from './errors.ts';
