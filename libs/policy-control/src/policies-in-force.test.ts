import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateSigningKey, signedPolicyRecord, signPolicyRecord, type KeyRing } from '@stinger/trust';
import { policiesInForce } from './policies-in-force.ts';
import { judgePolicyObject } from './reconcile.ts';

const trusted = generateSigningKey();
const stranger = generateSigningKey();
const ring: KeyRing = new Map([[trusted.keyId, trusted.publicKey]]);

function compiled(name: string) {
  const verdict = judgePolicyObject(
    {
      apiVersion: 'stinger.io/v1alpha1',
      kind: 'TracingPolicy',
      metadata: { name, generation: 1 },
      spec: { rules: [{ name: 'r', event: 'exec', match: { binary: { equal: ['/usr/bin/x'] } }, action: 'audit' }] },
    },
    undefined,
  );
  assert.ok(verdict.kind === 'valid');
  return verdict.result.compiled;
}

test('policiesInForce keeps what a verifying consumer admits: signed, trusted, in signed-at order; tombstones remove', () => {
  const records = [
    signedPolicyRecord('a', compiled('a'), { key: trusted, signedAtNs: 10n }),
    signedPolicyRecord('b', compiled('b'), { key: trusted, signedAtNs: 11n }),
    signedPolicyRecord('b', null, { key: trusted, signedAtNs: 12n }),
    // Refused: an unknown key, no signature, and a replay of an older record of a.
    signedPolicyRecord('c', compiled('c'), { key: stranger, signedAtNs: 13n }),
    { key: 'd', value: signedPolicyRecord('d', compiled('d'), { key: trusted, signedAtNs: 14n }).value, headers: {} },
    signedPolicyRecord('a', null, { key: trusted, signedAtNs: 9n }),
  ];
  const state = policiesInForce(records, ring);
  assert.deepEqual([...state.policies.keys()], ['a']);
  assert.equal(state.policies.get('a')?.compiled?.name, 'a');
  assert.deepEqual(
    state.refused.map((r) => [r.key, r.reason]),
    [
      ['c', 'unknown_key'],
      ['d', 'unsigned'],
      ['a', 'replayed'],
    ],
  );
  assert.equal(state.latestSignedAtNs, 12n);
});

test('a signed record that does not decode is in force with no content (republished or tombstoned later)', () => {
  const junk = Buffer.from('junk');
  const state = policiesInForce([{ key: 'x', value: junk, headers: signPolicyRecord({ key: 'x', value: junk }, trusted, 1n) }], ring);
  assert.deepEqual([...state.policies.entries()], [['x', { compiled: null, signedAtNs: 1n }]]);
  assert.equal(state.refused[0]?.reason, 'undecodable');
});
