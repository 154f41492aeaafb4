// CRC-64-AVRO, the 64-bit Rabin fingerprint defined by the Avro specification ("Schema Fingerprints").
// Implemented from the spec's reference algorithm with the 64-bit state kept in two unsigned 32-bit halves, so the
// inner loop stays in small-integer arithmetic (no BigInt per byte).

/** The spec's EMPTY constant: the fingerprint of zero bytes and the polynomial the table is built from. */
export const CRC64_AVRO_EMPTY = 0xc15d213aa4d7a795n;

const EMPTY_HI = 0xc15d213a;
const EMPTY_LO = 0xa4d7a795;

const TABLE_LO = new Uint32Array(256);
const TABLE_HI = new Uint32Array(256);

for (let i = 0; i < 256; i++) {
  let lo = i;
  let hi = 0;
  for (let j = 0; j < 8; j++) {
    // fp = (fp >>> 1) ^ (EMPTY & -(fp & 1))
    const mask = -(lo & 1);
    lo = ((lo >>> 1) | (hi << 31)) ^ (EMPTY_LO & mask);
    hi = (hi >>> 1) ^ (EMPTY_HI & mask);
  }
  TABLE_LO[i] = lo >>> 0;
  TABLE_HI[i] = hi >>> 0;
}

const encoder = new TextEncoder();

/** The two 32-bit halves of a fingerprint, as single-object encoding writes them (low half first, little-endian). */
export interface Fingerprint64Halves {
  readonly lo: number;
  readonly hi: number;
}

/** CRC-64-AVRO of `input` (a string is taken as its UTF-8 bytes), as two unsigned 32-bit halves. */
export function fingerprint64Halves(input: string | Uint8Array): Fingerprint64Halves {
  const bytes = typeof input === 'string' ? encoder.encode(input) : input;
  let lo = EMPTY_LO;
  let hi = EMPTY_HI;
  for (let i = 0; i < bytes.length; i++) {
    // fp = (fp >>> 8) ^ TABLE[(fp ^ b) & 0xff]
    const index = (lo ^ (bytes[i] as number)) & 0xff;
    lo = (((lo >>> 8) | (hi << 24)) ^ (TABLE_LO[index] as number)) >>> 0;
    hi = ((hi >>> 8) ^ (TABLE_HI[index] as number)) >>> 0;
  }
  return { lo: lo >>> 0, hi: hi >>> 0 };
}

/**
 * CRC-64-AVRO of `input` as an unsigned 64-bit bigint. Java's `SchemaNormalization.fingerprint64` returns the same
 * bits as a signed long: `BigInt.asIntN(64, fingerprint64(x))` gives Java's value.
 */
export function fingerprint64(input: string | Uint8Array): bigint {
  const { lo, hi } = fingerprint64Halves(input);
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/** The 8 little-endian bytes of a fingerprint, as they follow `C3 01` in a single-object encoded record. */
export function fingerprintToBytes(fingerprint: bigint): Buffer {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64LE(BigInt.asUintN(64, fingerprint));
  return bytes;
}
