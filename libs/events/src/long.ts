// Avro long <-> JS bigint. Every Avro long in Stinger's schemas decodes to a bigint and must be given as a bigint:
// nanosecond timestamps (~1.7e18) are far beyond Number.MAX_SAFE_INTEGER (2^53 - 1), and a silent rounding of a
// timestamp, cgroup id or capability mask is worse than a type error. JSON renderings write longs as exact integers.
//
// The type is built with avsc's `LongType.__with(methods, noUnpack = true)` (JSON, validation, comparison, schema
// resolution from int) and then given its own `_read`/`_write`, which move the zig-zag varint straight between the
// avsc Tap's buffer and a bigint: going through __with's per-long Buffer costs ~3x more. The 64-bit value moves
// between bigint and two 32-bit halves through a shared BigInt64Array, keeping BigInt arithmetic out of the hot path.
// `_read`/`_write` and the Tap's `buf`/`pos` are avsc internals: avsc is pinned, and long.test.ts checks the wire bytes
// against avsc's own long encoding.
import avro from 'avsc';
import { endianness } from 'node:os';

const cell = new BigInt64Array(1);
const halves = new Uint32Array(cell.buffer);
const LO = endianness() === 'LE' ? 0 : 1;
const HI = 1 - LO;
// Writes are copied into the output by avsc (`tap.writeFixed`) before the next long is encoded, so one scratch
// buffer serves every call.
const scratch = Buffer.alloc(10);

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function isInt64(value: unknown): value is bigint {
  return typeof value === 'bigint' && value >= INT64_MIN && value <= INT64_MAX;
}

function toVarint(value: bigint): Buffer {
  cell[0] = value;
  let lo = halves[LO] as number;
  let hi = halves[HI] as number;
  // zig-zag: (n << 1) ^ (n >> 63)
  const sign = hi >> 31;
  hi = (((hi << 1) | (lo >>> 31)) ^ sign) >>> 0;
  lo = ((lo << 1) ^ sign) >>> 0;
  let n = 0;
  while (hi !== 0 || lo > 0x7f) {
    scratch[n++] = (lo & 0x7f) | 0x80;
    lo = ((lo >>> 7) | (hi << 25)) >>> 0;
    hi = hi >>> 7;
  }
  scratch[n++] = lo;
  return scratch.subarray(0, n);
}

function fromVarint(bytes: Buffer): bigint {
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < bytes.length; i++) {
    const bits = (bytes[i] as number) & 0x7f;
    const shift = 7 * i;
    if (shift < 28) {
      lo |= bits << shift;
    } else if (shift === 28) {
      lo |= bits << 28;
      hi |= bits >>> 4;
    } else {
      hi |= bits << (shift - 32);
    }
  }
  lo >>>= 0;
  hi >>>= 0;
  // un-zig-zag: (z >>> 1) ^ -(z & 1)
  const sign = -(lo & 1);
  halves[LO] = ((lo >>> 1) | (hi << 31)) ^ sign;
  halves[HI] = (hi >>> 1) ^ sign;
  return cell[0] as bigint;
}

interface RawJsonFactory {
  rawJSON(text: string): unknown;
  isRawJSON(value: unknown): boolean;
}
const jsonWithRaw = JSON as unknown as RawJsonFactory;

/** Converts what a JSON document may hold for a long (number, decimal string, bigint, JSON.rawJSON) to a bigint. */
export function longFromJson(value: unknown): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return BigInt(value);
  if (jsonWithRaw.isRawJSON(value)) return BigInt((value as { rawJSON: string }).rawJSON);
  throw new TypeError(`not an exact integer for an Avro long: ${String(value)}`);
}

const withMethods = avro.types.LongType.__with(
  {
    fromBuffer: fromVarint,
    toBuffer: toVarint,
    fromJSON: longFromJson,
    // JSON.stringify writes a rawJSON value verbatim, so longs keep every digit in JSON output.
    toJSON: (value: bigint) => jsonWithRaw.rawJSON(value.toString()),
    isValid: isInt64,
    compare: (a: bigint, b: bigint) => (a === b ? 0 : a < b ? -1 : 1),
  },
  true,
);

interface Tap {
  buf: Buffer;
  pos: number;
}

function writeLong(tap: Tap, value: unknown): void {
  if (typeof value !== 'bigint') throw new TypeError(`invalid "long" (expected a bigint): ${String(value)}`);
  cell[0] = value;
  if (cell[0] !== value) throw new TypeError(`invalid "long" (outside int64): ${value}`);
  let lo = halves[LO] as number;
  let hi = halves[HI] as number;
  const sign = hi >> 31;
  hi = (((hi << 1) | (lo >>> 31)) ^ sign) >>> 0;
  lo = ((lo << 1) ^ sign) >>> 0;
  const buf = tap.buf;
  let pos = tap.pos;
  // Writes past the end are dropped by the typed array; the advanced pos makes avsc report the missing space.
  while (hi !== 0 || lo > 0x7f) {
    buf[pos++] = (lo & 0x7f) | 0x80;
    lo = ((lo >>> 7) | (hi << 25)) >>> 0;
    hi = hi >>> 7;
  }
  buf[pos++] = lo;
  tap.pos = pos;
}

function readLong(tap: Tap): bigint | undefined {
  const buf = tap.buf;
  let pos = tap.pos;
  let lo = 0;
  let hi = 0;
  let shift = 0;
  let byte: number;
  do {
    byte = buf[pos++] ?? 0;
    const bits = byte & 0x7f;
    if (shift < 28) lo |= bits << shift;
    else if (shift === 28) {
      lo |= bits << 28;
      hi |= bits >>> 4;
    } else if (shift < 64) hi |= bits << (shift - 32);
    shift += 7;
  } while (byte & 0x80 && pos <= buf.length);
  tap.pos = pos;
  lo >>>= 0;
  hi >>>= 0;
  const sign = -(lo & 1);
  halves[LO] = ((lo >>> 1) | (hi << 31)) ^ sign;
  halves[HI] = (hi >>> 1) ^ sign;
  return cell[0];
}

/** The avsc type used for every Avro long (see the file comment). */
export const bigintLongType: avro.Type = Object.create(Object.getPrototypeOf(withMethods), {
  ...Object.getOwnPropertyDescriptors(withMethods),
  _write: { value: writeLong },
  _read: { value: readLong },
}) as avro.Type;
Object.freeze(bigintLongType);
