// Hostile bytes on any topic: random bytes and mutations of real records (every schema's golden vector: flipped
// bytes, truncations, appended garbage, huge lengths) either decode or fail with a DecodeError naming why — never
// another exception, never a hang or an unbounded allocation. Seeded, so a failure is reproducible; bounded, so the
// suite stays fast.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import { listGoldenVectors, parseHex } from '../scripts/golden.ts';
import { decode, decodeAny } from './codec.ts';
import { DecodeError } from './errors.ts';
import { SCHEMA_NAMES, type SchemaName } from './generated/schemas.ts';

const SEED = 20261202;
const RUNS = 300;

/** Decoding either works or throws a DecodeError; anything else is a defect the property reports. */
function decodesOrRefuses(run: () => unknown): boolean {
  try {
    run();
    return true;
  } catch (error) {
    if (error instanceof DecodeError) return true;
    throw error;
  }
}

/** Each schema's golden vector of its newest version: a real record to mutate. */
const latest = new Map<SchemaName, { version: number; bytes: Buffer }>();
for (const vector of listGoldenVectors()) {
  const name = vector.name as SchemaName;
  if (!SCHEMA_NAMES.includes(name)) continue;
  if ((latest.get(name)?.version ?? 0) <= vector.version.version) {
    latest.set(name, { version: vector.version.version, bytes: parseHex(readFileSync(vector.hexPath, 'utf8')) });
  }
}

test('random bytes of any length are decoded or refused with a DecodeError, by every reader', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 2048 }), (bytes) => decodesOrRefuses(() => decodeAny(bytes)) && SCHEMA_NAMES.every((name) => decodesOrRefuses(() => decode(name, bytes)))),
    { seed: SEED, numRuns: RUNS },
  );
});

for (const name of SCHEMA_NAMES) {
  test(`${name}: mutated real records are decoded or refused with a DecodeError`, () => {
    const golden = latest.get(name)?.bytes;
    assert.ok(golden, `a golden vector of ${name}`);
    const mutation = fc.oneof(
      // flip some bytes (the header's fingerprint too, sometimes)
      fc.array(fc.tuple(fc.nat(golden.length - 1), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 8 }).map((flips) => {
        const bytes = Buffer.from(golden);
        for (const [at, xor] of flips) bytes[at] = (bytes[at] ?? 0) ^ xor;
        return bytes;
      }),
      // truncate anywhere
      fc.nat(golden.length).map((length) => golden.subarray(0, length)),
      // garbage appended
      fc.uint8Array({ minLength: 1, maxLength: 64 }).map((tail) => Buffer.concat([golden, tail])),
      // a varint claiming a huge length or count, spliced into the body (arrays, maps and strings read lengths so)
      fc.tuple(fc.integer({ min: 10, max: golden.length }), fc.constantFrom([0xfe, 0xff, 0xff, 0xff, 0x0f], [0x80, 0x80, 0x80, 0x80, 0x08], [0x01])).map(
        ([at, varint]) => Buffer.concat([golden.subarray(0, at), Buffer.from(varint), golden.subarray(at)]),
      ),
    );
    fc.assert(
      fc.property(mutation, (bytes) => decodesOrRefuses(() => decode(name, bytes)) && decodesOrRefuses(() => decodeAny(bytes))),
      { seed: SEED, numRuns: RUNS },
    );
  });
}
