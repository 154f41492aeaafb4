/**
 * Signed policy records (stinger.policies). The policy-controller — or the CLI where there is no cluster — signs
 * every record it writes, tombstones included; agents and the detector verify before a record changes anything.
 *
 * A record's signature travels in three Kafka headers, so a tombstone (null value) is signed like a policy:
 *   stinger-key-id     the signing key's id
 *   stinger-signed-at  decimal ns since the Unix epoch
 *   stinger-signature  64 raw bytes: Ed25519 over ("stinger.policies/v1", key, signed-at, value-or-tombstone),
 *                      each length-prefixed, so no field can be moved into another
 *
 * `PolicyRecordGate` adds what a signature alone cannot: a record is accepted only when it was signed later than the
 * last accepted record of the same key (deleted keys remembered too), so a replayed old policy or an old tombstone
 * never undoes a newer decision.
 */
import { sign, verify } from 'node:crypto';
import { decodeCompiledPolicy, encodeCompiledPolicy, type CompiledPolicy } from '@stinger/events';
import type { KeyRing, SigningKey } from './keys.ts';

export const POLICY_SIGNATURE_HEADERS = {
  keyId: 'stinger-key-id',
  signedAt: 'stinger-signed-at',
  signature: 'stinger-signature',
} as const;

const DOMAIN = 'stinger.policies/v1';

function field(bytes: Buffer): Buffer[] {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return [length, bytes];
}

function signedBytes(key: string, signedAtNs: bigint, value: Buffer | null): Buffer {
  return Buffer.concat([
    ...field(Buffer.from(DOMAIN)),
    ...field(Buffer.from(key)),
    ...field(Buffer.from(signedAtNs.toString())),
    ...field(Buffer.from(value === null ? 'T' : 'V')),
    ...field(value ?? Buffer.alloc(0)),
  ]);
}

/** The headers that sign the record (`key`, `value`; null value = tombstone) at `signedAtNs`. */
export function signPolicyRecord(record: { readonly key: string; readonly value: Buffer | null }, key: SigningKey, signedAtNs: bigint): Record<string, Buffer> {
  return {
    [POLICY_SIGNATURE_HEADERS.keyId]: Buffer.from(key.keyId),
    [POLICY_SIGNATURE_HEADERS.signedAt]: Buffer.from(signedAtNs.toString()),
    [POLICY_SIGNATURE_HEADERS.signature]: sign(null, signedBytes(record.key, signedAtNs, record.value), key.privateKey),
  };
}

export type PolicyRecordVerdict =
  | { readonly ok: true; readonly keyId: string; readonly signedAtNs: bigint }
  | { readonly ok: false; readonly reason: 'unsigned' | 'unknown_key' | 'bad_signature' | 'replayed' | 'duplicate'; readonly detail: string };

export interface SignedRecord {
  readonly key: string;
  readonly value: Buffer | null;
  readonly headers: Readonly<Record<string, Buffer | undefined>>;
}

export function verifyPolicyRecord(record: SignedRecord, ring: KeyRing): PolicyRecordVerdict {
  const keyId = record.headers[POLICY_SIGNATURE_HEADERS.keyId]?.toString();
  const signedAt = record.headers[POLICY_SIGNATURE_HEADERS.signedAt]?.toString();
  const signature = record.headers[POLICY_SIGNATURE_HEADERS.signature];
  if (keyId === undefined || signedAt === undefined || signature === undefined) {
    return { ok: false, reason: 'unsigned', detail: 'no signature headers (records must be written by the policy-controller or `stinger policy`)' };
  }
  const publicKey = ring.get(keyId);
  if (publicKey === undefined) return { ok: false, reason: 'unknown_key', detail: `key ${JSON.stringify(keyId)} is not trusted` };
  if (!/^\d{1,20}$/.test(signedAt)) return { ok: false, reason: 'bad_signature', detail: `signed-at ${JSON.stringify(signedAt)} is not a number` };
  const signedAtNs = BigInt(signedAt);
  let valid = false;
  try {
    valid = signature.length === 64 && verify(null, signedBytes(record.key, signedAtNs, record.value), publicKey, signature);
  } catch {
    valid = false;
  }
  if (!valid) return { ok: false, reason: 'bad_signature', detail: `signature does not verify with key ${keyId}` };
  return { ok: true, keyId, signedAtNs };
}

/**
 * Verification plus ordering for one consumer of stinger.policies. `admit` answers whether the record may change
 * what is in force; the caller applies it (or the tombstone) only on `ok`.
 */
export class PolicyRecordGate {
  readonly #ring: () => KeyRing;
  readonly #latest = new Map<string, bigint>();

  /** `ring` is asked at every record, so a key ring re-read from disk (rotation) takes effect at once. */
  constructor(ring: () => KeyRing) {
    this.#ring = ring;
  }

  admit(record: SignedRecord): PolicyRecordVerdict {
    const verdict = verifyPolicyRecord(record, this.#ring());
    if (!verdict.ok) return verdict;
    const latest = this.#latest.get(record.key);
    // The same record again (a consumer re-reading the topic from the start) is no attack: say so apart.
    if (latest !== undefined && verdict.signedAtNs === latest) return { ok: false, reason: 'duplicate', detail: 'already in force' };
    if (latest !== undefined && verdict.signedAtNs < latest) {
      return { ok: false, reason: 'replayed', detail: `signed at ${verdict.signedAtNs}, not after the record in force (${latest})` };
    }
    this.#latest.set(record.key, verdict.signedAtNs);
    return verdict;
  }
}

/**
 * The stinger.policies record for `compiled` (null: the tombstone of `key`), signed by `key` at `signedAtNs`: what the
 * policy-controller and `stinger policy` produce. The Kafka key is the policy key (policyKey in @stinger/policy).
 */
export function signedPolicyRecord(
  policyKey: string,
  compiled: CompiledPolicy | null,
  signer: { readonly key: SigningKey; readonly signedAtNs: bigint },
): { readonly key: string; readonly value: Buffer | null; readonly headers: Record<string, Buffer> } {
  const value = compiled === null ? null : encodeCompiledPolicy(compiled);
  return { key: policyKey, value, headers: signPolicyRecord({ key: policyKey, value }, signer.key, signer.signedAtNs) };
}

/** What the handler reads of a stinger.policies record (a ConsumedRecord has all of it). */
export interface PolicyRecordInput {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Readonly<Record<string, Buffer | undefined>>;
}

export interface PolicyRecordHandlerOptions<R extends PolicyRecordInput = PolicyRecordInput> {
  readonly gate: PolicyRecordGate;
  /** A verified record: the policy (decoded), or null for a verified tombstone. */
  readonly apply: (key: string, compiled: CompiledPolicy | null) => void;
  /** A record that was refused (not signed, badly signed, replayed) or could not be decoded; nothing changed. */
  readonly refuse: (key: string, reason: string, detail: string) => void;
  /** Besides `refuse`: a verified record that could not be decoded, as taken (for a dead-letter topic). */
  readonly undecodable?: (record: R, detail: string) => void;
}

/**
 * The one way a consumer of stinger.policies (agent, detector, enforcer) takes a record: verify and order it
 * (`gate`), decode it, and only then `apply` it. Duplicates of the record in force are dropped silently.
 */
export function createPolicyRecordHandler<R extends PolicyRecordInput>(options: PolicyRecordHandlerOptions<R>): (record: R) => void {
  return (record) => {
    const key = record.key?.toString() ?? '';
    const verdict = options.gate.admit({ key, value: record.value, headers: record.headers });
    if (!verdict.ok) {
      if (verdict.reason !== 'duplicate') options.refuse(key, verdict.reason, verdict.detail);
      return;
    }
    if (record.value === null) {
      options.apply(key, null);
      return;
    }
    let compiled: CompiledPolicy;
    try {
      compiled = decodeCompiledPolicy(record.value);
    } catch (error) {
      const detail = `undecodable CompiledPolicy: ${(error as Error).message}`;
      options.refuse(key, 'undecodable', detail);
      options.undecodable?.(record, detail);
      return;
    }
    options.apply(key, compiled);
  };
}
