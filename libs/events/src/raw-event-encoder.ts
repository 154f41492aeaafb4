// A RawEvent encoder that reuses the encoded bytes of processes. Avro's binary encoding of a record is the
// concatenation of its fields' encodings, so the bytes of a Process are the same in every event that carries it. The
// agent publishes many events per process (and the same parent again and again), and re-encoding their strings was
// the largest cost of its events stage; this encoder keeps the bytes of each Process object it sees a second time (a
// WeakMap from the object to its bytes) and encodes every other field as avsc does, through avsc's public
// Type.encode / Type.toBuffer.
//
// Contract: a Process object handed to encode must not change afterwards (the agent treats published events as
// immutable). Bytes are identical to encodeRawEvent's, single-object header included; a value that does not conform
// to the schema throws the same EncodeError, because it is then handed to encodeRawEvent's codec.
import type avro from 'avsc';
import { codecs, SINGLE_OBJECT_HEADER_LENGTH } from './codec.ts';
import { SchemaError } from './errors.ts';
import type { Process, RawEvent } from './generated/types.ts';

interface AvroField {
  readonly name: string;
  readonly type: avro.Type;
}

type FieldPlan =
  | { readonly kind: 'plain'; readonly name: string; readonly type: avro.Type }
  | { readonly kind: 'process'; readonly name: string }
  | { readonly kind: 'parent'; readonly name: string };

/** Encodes RawEvents like encodeRawEvent, reusing the bytes of Process objects it has seen. One per producer. */
export class RawEventEncoder {
  readonly #header: Buffer;
  readonly #plan: readonly FieldPlan[];
  readonly #processType: avro.Type;
  /** The parent union's branch index bytes: null, and the Process branch. */
  readonly #parentNull: Buffer;
  readonly #parentProcess: Buffer;
  readonly #processBytes = new WeakMap<Process, Buffer>();
  /** Process objects encoded once, in place: their bytes are kept when they come again. */
  readonly #seenOnce = new WeakSet<Process>();
  #scratch = Buffer.allocUnsafe(8192);

  constructor() {
    const current = codecs.RawEvent.current;
    this.#header = current.header;
    const fields = (current.type as unknown as { fields: readonly AvroField[] }).fields;
    const processField = fields.find((field) => field.name === 'process');
    const parentField = fields.find((field) => field.name === 'parent');
    if (!processField || processField.type.typeName !== 'record') throw new SchemaError('RawEvent has no process record field');
    this.#processType = processField.type;
    const branches = (parentField?.type as unknown as { types?: readonly avro.Type[] } | undefined)?.types;
    const nullIndex = branches?.findIndex((branch) => branch.typeName === 'null') ?? -1;
    const processIndex = branches?.findIndex((branch) => branch.name === processField.type.name) ?? -1;
    if (!branches || branches.length !== 2 || nullIndex < 0 || processIndex < 0) throw new SchemaError('RawEvent.parent is not a union of null and the process record');
    // Union branch index: a zig-zag varint, one byte for index < 64.
    this.#parentNull = Buffer.of(nullIndex * 2);
    this.#parentProcess = Buffer.of(processIndex * 2);
    this.#plan = fields.map((field): FieldPlan => {
      if (field === processField) return { kind: 'process', name: field.name };
      if (field === parentField) return { kind: 'parent', name: field.name };
      return { kind: 'plain', name: field.name, type: field.type };
    });
  }

  /** Single-object encoding of `event`, identical to encodeRawEvent(event). */
  encode(event: RawEvent): Buffer {
    let end: number;
    try {
      end = this.#body(event);
    } catch {
      // Not conforming (or a field left undefined, which avsc fills with its default): the codec gives the same
      // bytes or the same EncodeError naming the invalid paths.
      return codecs.RawEvent.encode(event);
    }
    const out = Buffer.allocUnsafe(end);
    this.#header.copy(out, 0);
    this.#scratch.copy(out, SINGLE_OBJECT_HEADER_LENGTH, SINGLE_OBJECT_HEADER_LENGTH, end);
    return out;
  }

  /** Writes the body into the scratch buffer from the header's end; returns its end, growing the buffer as needed. */
  #body(event: RawEvent): number {
    const values = event as unknown as Record<string, unknown>;
    for (;;) {
      const buf = this.#scratch;
      let pos = SINGLE_OBJECT_HEADER_LENGTH;
      for (const field of this.#plan) {
        const value = values[field.name];
        if (value === undefined) throw new TypeError(`${field.name} is undefined`);
        if (field.kind === 'plain') {
          pos = field.type.encode(value, buf, pos);
          if (pos < 0) break;
          continue;
        }
        if (field.kind === 'parent') {
          if (value === null) {
            pos = this.#copy(this.#parentNull, buf, pos);
            if (pos < 0) break;
            continue;
          }
          pos = this.#copy(this.#parentProcess, buf, pos);
          if (pos < 0) break;
        }
        pos = this.#writeProcess(value as Process, buf, pos);
        if (pos < 0) break;
      }
      if (pos >= 0) return pos;
      this.#scratch = Buffer.allocUnsafe(buf.length * 2);
    }
  }

  #copy(bytes: Buffer, buf: Buffer, pos: number): number {
    if (pos + bytes.length > buf.length) return -1;
    bytes.copy(buf, pos);
    return pos + bytes.length;
  }

  /**
   * Writes a process: its kept bytes from the second time the object is seen on (the first time it is encoded in
   * place, as avsc would, so an object seen once, e.g. a process the cache could not resolve, costs no more than
   * encodeRawEvent). Returns the end, or a negative number when the buffer is too small.
   */
  #writeProcess(process: Process, buf: Buffer, pos: number): number {
    const kept = this.#processBytes.get(process);
    if (kept !== undefined) return this.#copy(kept, buf, pos);
    if (typeof process !== 'object' || process === null) throw new TypeError('process is not an object');
    if (!this.#seenOnce.has(process)) {
      this.#seenOnce.add(process);
      return this.#processType.encode(process, buf, pos);
    }
    const bytes = this.#processType.toBuffer(process);
    this.#processBytes.set(process, bytes);
    return this.#copy(bytes, buf, pos);
  }
}
