// @stinger/events: the Avro contract. Types generated from schemas/*.avsc, single-object encoding with writer-schema
// lookup by CRC-64-AVRO fingerprint, and schema resolution of older versions. Decoders also read the schema registry
// wire format (00 + schema id) for ids taught by learnRegistrySchema (see codec.ts).
//
// Value representation (what decode returns and encode expects):
//   - Avro long -> bigint (exact; ns timestamps exceed 2^53), int/float/double -> number, bytes -> Buffer,
//     enums -> string literal unions, nullable unions -> T | null, maps -> Record<string, T>.
//   - The event payload union -> a discriminated union on `group` ('exec', 'file', 'network', ...).
import { codecs, decode, encode } from './codec.ts';
import type { AgentHealth, Alert, CompiledPolicy, ControlAck, ControlCommand, DeadLetter, Enforcement, Event, PolicyStatus, RawEvent } from './generated/types.ts';

export * from './generated/types.ts';
export { SCHEMA_NAMES, type SchemaName } from './generated/schemas.ts';
export {
  codecs,
  createCodec,
  createAvroType,
  decode,
  decodeAny,
  encode,
  readFingerprint,
  schemaVersionOf,
  schemaVersions,
  SINGLE_OBJECT_HEADER_LENGTH,
  REGISTRY_HEADER_LENGTH,
  readRegistrySchemaId,
  registryWriterOf,
  learnRegistrySchema,
  toRegistryFraming,
  type AnyRecord,
  type Codec,
  type SchemaVersion,
} from './codec.ts';
export { CRC64_AVRO_EMPTY, fingerprint64, fingerprint64Halves, fingerprintToBytes, type Fingerprint64Halves } from './crc64.ts';
export { parsingCanonicalForm, SchemaFormError } from './canonical.ts';
export { GROUP_PROPERTY, groupOfRecord } from './record-union.ts';
export { longFromJson } from './long.ts';
export { RawEventEncoder } from './raw-event-encoder.ts';
export { NO_FLOW, type NetworkFlowFields } from './network-payload.ts';
export {
  DecodeError,
  EncodeError,
  EventsError,
  SchemaError,
  type DecodeErrorOptions,
  type DecodeErrorReason,
  type EncodeErrorOptions,
} from './errors.ts';

export const encodeRawEvent = (value: RawEvent): Buffer => codecs.RawEvent.encode(value);
export const decodeRawEvent = (bytes: Uint8Array): RawEvent => codecs.RawEvent.decode(bytes);
export const encodeEvent = (value: Event): Buffer => codecs.Event.encode(value);
export const decodeEvent = (bytes: Uint8Array): Event => codecs.Event.decode(bytes);
export const encodeAlert = (value: Alert): Buffer => encode('Alert', value);
export const decodeAlert = (bytes: Uint8Array): Alert => decode('Alert', bytes);
export const encodeControlCommand = (value: ControlCommand): Buffer => encode('ControlCommand', value);
export const decodeControlCommand = (bytes: Uint8Array): ControlCommand => decode('ControlCommand', bytes);
export const encodeControlAck = (value: ControlAck): Buffer => encode('ControlAck', value);
export const decodeControlAck = (bytes: Uint8Array): ControlAck => decode('ControlAck', bytes);
export const encodeEnforcement = (value: Enforcement): Buffer => encode('Enforcement', value);
export const decodeEnforcement = (bytes: Uint8Array): Enforcement => decode('Enforcement', bytes);
export const encodeCompiledPolicy = (value: CompiledPolicy): Buffer => encode('CompiledPolicy', value);
export const decodeCompiledPolicy = (bytes: Uint8Array): CompiledPolicy => decode('CompiledPolicy', bytes);
export const encodeDeadLetter = (value: DeadLetter): Buffer => encode('DeadLetter', value);
export const decodeDeadLetter = (bytes: Uint8Array): DeadLetter => decode('DeadLetter', bytes);
export const encodePolicyStatus = (value: PolicyStatus): Buffer => encode('PolicyStatus', value);
export const decodePolicyStatus = (bytes: Uint8Array): PolicyStatus => decode('PolicyStatus', bytes);
export const encodeAgentHealth = (value: AgentHealth): Buffer => encode('AgentHealth', value);
export const decodeAgentHealth = (bytes: Uint8Array): AgentHealth => decode('AgentHealth', bytes);
export { decodeEventSummary, fullEvent, keepEvent } from './event-summary.ts';
export { renderAlertCompact, renderAlertJson, renderEventJson, renderEventCompact, formatTimeNs, formatBytes, describeFileIo, type JsonValue } from './render.ts';
