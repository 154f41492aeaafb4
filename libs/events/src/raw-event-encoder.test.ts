// RawEventEncoder writes exactly encodeRawEvent's bytes, whether it encodes a Process for the first time or reuses
// the bytes it kept for the same object. Random valid RawEvents come from a generator walking the schema's avsc type,
// so every field (payload branches, nullable fields, longs across int64) is covered; seeded, so reproducible.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type avro from 'avsc';
import fc from 'fast-check';
import { codecs } from './codec.ts';
import { EncodeError } from './errors.ts';
import type { Process, RawEvent } from './generated/types.ts';
import { encodeRawEvent } from './index.ts';
import { GROUP_PROPERTY } from './record-union.ts';
import { RawEventEncoder } from './raw-event-encoder.ts';

const SEED = 20261202;
const RUNS = 200;

interface TypeShape {
  readonly typeName: string;
  readonly name?: string;
  readonly fields?: readonly { readonly name: string; readonly type: avro.Type }[];
  readonly types?: readonly avro.Type[];
  readonly symbols?: readonly string[];
  readonly itemsType?: avro.Type;
  readonly valuesType?: avro.Type;
  readonly size?: number;
  readonly underlyingType?: avro.Type;
}

/** An arbitrary of the valid values of an avsc type in Stinger's representation. */
function valuesOf(type: avro.Type): fc.Arbitrary<unknown> {
  const shape = type as unknown as TypeShape;
  switch (shape.typeName) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'int':
      return fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
    case 'abstract:long':
      return fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
    case 'float':
      return fc.float({ noNaN: true });
    case 'double':
      return fc.double({ noNaN: true });
    case 'string':
      return fc.string({ unit: 'binary', maxLength: 40 });
    case 'bytes':
      return fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes));
    case 'fixed':
      return fc.uint8Array({ minLength: shape.size ?? 0, maxLength: shape.size ?? 0 }).map((bytes) => Buffer.from(bytes));
    case 'enum':
      return fc.constantFrom(...(shape.symbols ?? []));
    case 'array':
      return fc.array(valuesOf(shape.itemsType as avro.Type), { maxLength: 4 });
    case 'map':
      return fc.dictionary(fc.string({ maxLength: 8 }), valuesOf(shape.valuesType as avro.Type), { maxKeys: 3 });
    case 'record':
      return fc.record(Object.fromEntries((shape.fields ?? []).map((field) => [field.name, valuesOf(field.type)])));
    case 'union:unwrapped':
      return fc.oneof(...(shape.types ?? []).map(valuesOf));
    case 'logical:record-union': {
      const branches = ((shape.underlyingType as unknown as TypeShape).types ?? []).map((branch) =>
        valuesOf(branch).map((record) => ({ ...(record as object), [GROUP_PROPERTY]: (type as unknown as { groupByName: Map<string, string> }).groupByName.get(branch.name as string) })),
      );
      return fc.oneof(...branches);
    }
    default:
      throw new Error(`no generator for avsc type ${shape.typeName}`);
  }
}

const rawEventType = codecs.RawEvent.current.type;
const processType = (rawEventType as unknown as TypeShape).fields?.find((field) => field.name === 'process')?.type as avro.Type;
const events = valuesOf(rawEventType) as fc.Arbitrary<RawEvent>;
const processes = valuesOf(processType) as fc.Arbitrary<Process>;

test('the generator makes valid RawEvents', () => {
  fc.assert(
    fc.property(events, (event) => rawEventType.isValid(event)),
    { seed: SEED, numRuns: 50 },
  );
});

test('random RawEvents encode to the bytes of encodeRawEvent', () => {
  const encoder = new RawEventEncoder();
  fc.assert(
    fc.property(events, (event) => encoder.encode(event).equals(encodeRawEvent(event))),
    { seed: SEED, numRuns: RUNS },
  );
});

test('the same Process objects reused across events, as process and parent, null parents too, give the bytes of encodeRawEvent', () => {
  fc.assert(
    fc.property(
      fc.array(processes, { minLength: 1, maxLength: 4 }),
      fc.array(fc.tuple(events, fc.nat(), fc.option(fc.nat(), { nil: null })), { minLength: 1, maxLength: 12 }),
      (pool, picks) => {
        const encoder = new RawEventEncoder();
        for (const [base, processAt, parentAt] of picks) {
          const event: RawEvent = {
            ...base,
            process: pool[processAt % pool.length] as Process,
            parent: parentAt === null ? null : (pool[parentAt % pool.length] as Process),
          };
          if (!encoder.encode(event).equals(encodeRawEvent(event))) return false;
        }
        return true;
      },
    ),
    { seed: SEED, numRuns: RUNS },
  );
});

test('an invalid RawEvent fails with the EncodeError of encodeRawEvent, and a valid one still encodes afterwards', () => {
  const encoder = new RawEventEncoder();
  const [valid] = fc.sample(events, { seed: SEED, numRuns: 1 }) as [RawEvent];
  const invalid = { ...valid, process: { ...valid.process, pid: 'one' } } as unknown as RawEvent;
  const expected = (() => {
    try {
      encodeRawEvent(invalid);
    } catch (error) {
      return error as EncodeError;
    }
    throw new Error('encodeRawEvent accepted an invalid process');
  })();
  assert.throws(
    () => encoder.encode(invalid),
    (error: unknown) => error instanceof EncodeError && error.message === expected.message,
  );
  assert.ok(encoder.encode(valid).equals(encodeRawEvent(valid)));
});

test('a field left undefined is filled with its default, as encodeRawEvent does', () => {
  const encoder = new RawEventEncoder();
  const [valid] = fc.sample(events, { seed: SEED, numRuns: 1 }) as [RawEvent];
  const withoutParent = { ...valid, parent: undefined } as unknown as RawEvent;
  assert.ok(encoder.encode(withoutParent).equals(encodeRawEvent({ ...valid, parent: null })));
});

test('an event larger than the scratch buffer encodes to the bytes of encodeRawEvent', () => {
  const encoder = new RawEventEncoder();
  const [valid] = fc.sample(events, { seed: SEED, numRuns: 1 }) as [RawEvent];
  const process: Process = { ...valid.process, args: Array.from({ length: 40 }, (_, i) => `${i}:${'x'.repeat(1000)}`) };
  const big: RawEvent = { ...valid, process, parent: process, node: 'n'.repeat(20000) };
  assert.ok(encoder.encode(big).equals(encodeRawEvent(big)));
  assert.ok(encoder.encode({ ...big, node: 'small' }).equals(encodeRawEvent({ ...big, node: 'small' })));
});
