/**
 * What the agents hold, read from the stinger.policies topic: the records a consumer that verifies (PolicyRecordGate:
 * signed by a trusted key, later than the record it replaces) would have admitted, in topic order, the last one per
 * key winning. The controller compares custom resources against this, not against the raw topic, so an unsigned or
 * replayed record never counts as "already published".
 */
import { decodeCompiledPolicy, type CompiledPolicy } from '@stinger/events';
import { PolicyRecordGate, type KeyRing, type SignedRecord } from '@stinger/trust';

export interface PolicyInForce {
  /** Null: the record verified but could not be decoded (agents keep what they held; the controller republishes). */
  readonly compiled: CompiledPolicy | null;
  readonly signedAtNs: bigint;
}

export interface RefusedPolicyRecord {
  readonly key: string;
  readonly reason: string;
  readonly detail: string;
}

export interface PoliciesInForce {
  readonly policies: Map<string, PolicyInForce>;
  /** Records a verifying consumer refuses (unsigned, unknown key, bad signature, replayed). */
  readonly refused: readonly RefusedPolicyRecord[];
  /** The latest signed-at of any admitted record (0 when none): new signatures must come later. */
  readonly latestSignedAtNs: bigint;
}

export function policiesInForce(records: readonly SignedRecord[], ring: KeyRing): PoliciesInForce {
  const gate = new PolicyRecordGate(() => ring);
  const policies = new Map<string, PolicyInForce>();
  const refused: RefusedPolicyRecord[] = [];
  let latestSignedAtNs = 0n;
  for (const record of records) {
    const verdict = gate.admit(record);
    if (!verdict.ok) {
      refused.push({ key: record.key, reason: verdict.reason, detail: verdict.detail });
      continue;
    }
    if (verdict.signedAtNs > latestSignedAtNs) latestSignedAtNs = verdict.signedAtNs;
    if (record.value === null) {
      policies.delete(record.key);
      continue;
    }
    let compiled: CompiledPolicy | null;
    try {
      compiled = decodeCompiledPolicy(record.value);
    } catch (error) {
      compiled = null;
      refused.push({ key: record.key, reason: 'undecodable', detail: (error as Error).message });
    }
    policies.set(record.key, { compiled, signedAtNs: verdict.signedAtNs });
  }
  return { policies, refused, latestSignedAtNs };
}
