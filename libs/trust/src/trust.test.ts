import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { ControlCommand } from '@stinger/events';
import {
  createPolicyRecordHandler,
  generateSigningKey,
  installNewSigningKey,
  PolicyRecordGate,
  readKeyRing,
  readSigningKey,
  ReplayGuard,
  retireKey,
  signControlCommand,
  signPolicyRecord,
  TrustError,
  verifyControlCommand,
  verifyPolicyRecord,
  type KeyRing,
} from './index.ts';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function keysDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'stinger-trust-'));
  dirs.push(dir);
  return dir;
}

const NOW = 1_800_000_000_000_000_000n;
function command(overrides: Partial<ControlCommand> = {}): Omit<ControlCommand, 'key_id' | 'signature'> {
  return {
    command_id: '6b1f3c1e-5b8e-4a53-9a59-1d2f3c4b5a69',
    node: 'node-a',
    action: 'kill',
    target: { pid: 4242, start_time: 123_456_789n, exec_id: 'node-a:123456789:4242' },
    reason: 'test',
    alert_id: null,
    policy: 'p',
    issued_at_ns: NOW,
    expires_at_ns: NOW + 10_000_000_000n,
    dry_run: false,
    ...overrides,
  };
}

describe('key files', () => {
  test('generate writes a private key only root can read and trusts its public key; rotate keeps the old key trusted until retired', () => {
    const dir = keysDir();
    const first = installNewSigningKey(dir);
    assert.equal(first.previousKeyId, null);
    assert.equal(statSync(join(dir, 'signing.key')).mode & 0o777, 0o600);
    assert.equal(readSigningKey(dir).keyId, first.key.keyId);
    const second = installNewSigningKey(dir);
    assert.equal(second.previousKeyId, first.key.keyId);
    assert.deepEqual([...readKeyRing(dir).keys()].sort(), [first.key.keyId, second.key.keyId].sort());
    assert.throws(() => retireKey(dir, second.key.keyId), /active signing key/);
    retireKey(dir, first.key.keyId);
    assert.deepEqual([...readKeyRing(dir).keys()], [second.key.keyId]);
  });

  test('a trusted file named after another key is refused, not trusted under either name', () => {
    const dir = keysDir();
    const { key } = installNewSigningKey(dir);
    const [file] = readdirSync(join(dir, 'trusted'));
    const other = generateSigningKey();
    writeFileSync(join(dir, 'trusted', `${other.keyId}.pub`), other.publicKey.export({ format: 'pem', type: 'spki' }).toString());
    assert.ok(file);
    writeFileSync(join(dir, 'trusted', file), other.publicKey.export({ format: 'pem', type: 'spki' }).toString());
    assert.throws(() => readKeyRing(dir), (error: unknown) => error instanceof TrustError && error.message.includes(`${key.keyId}.pub`));
  });
});

describe('control commands', () => {
  const key = generateSigningKey();
  const ring: KeyRing = new Map([[key.keyId, key.publicKey]]);
  const verifyAs = (signed: ControlCommand, replays = new ReplayGuard(), node = 'node-a') => verifyControlCommand(signed, { ring, node, nowNs: NOW, replays });

  test('a signed command verifies once; the same command again is a replay', () => {
    const replays = new ReplayGuard();
    const signed = signControlCommand(command(), key);
    assert.deepEqual(verifyAs(signed, replays), { ok: true });
    const again = verifyAs(signed, replays);
    assert.equal(again.ok, false);
    assert.equal(!again.ok && again.reason, 'replayed');
  });

  test('every forged field breaks the signature', () => {
    const signed = signControlCommand(command(), key);
    const forgeries: ControlCommand[] = [
      { ...signed, target: { ...signed.target, pid: 1 } },
      { ...signed, target: { ...signed.target, start_time: 1n } },
      { ...signed, dry_run: true },
      { ...signed, expires_at_ns: signed.expires_at_ns + 1n },
      { ...signed, node: 'node-b' },
      { ...signed, signature: Buffer.alloc(64) },
      { ...signed, signature: Buffer.alloc(0) },
    ];
    for (const forged of forgeries) {
      const verdict = verifyAs(forged, new ReplayGuard(), forged.node);
      assert.equal(!verdict.ok && verdict.reason, 'bad_signature', JSON.stringify(forged, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)));
    }
  });

  test('unknown key, wrong node, expired and over-long lifetime are refused with their reason', () => {
    const stranger = generateSigningKey();
    const reason = (signed: ControlCommand) => {
      const verdict = verifyAs(signed);
      return verdict.ok ? 'ok' : verdict.reason;
    };
    assert.equal(reason(signControlCommand(command(), stranger)), 'unknown_key');
    assert.equal(reason(signControlCommand(command({ node: 'node-b' }), key)), 'wrong_node');
    assert.equal(reason(signControlCommand(command({ expires_at_ns: NOW }), key)), 'expired');
    assert.equal(reason(signControlCommand(command({ expires_at_ns: NOW + 3600n * 1_000_000_000n }), key)), 'expired');
  });
});

describe('policy records', () => {
  const key = generateSigningKey();
  const ring: KeyRing = new Map([[key.keyId, key.publicKey]]);
  const value = Buffer.from('compiled policy bytes');

  test('a signed record and a signed tombstone verify; moving the signature to another key or value does not', () => {
    const headers = signPolicyRecord({ key: 'deny-shadow', value }, key, NOW);
    assert.equal(verifyPolicyRecord({ key: 'deny-shadow', value, headers }, ring).ok, true);
    const tombstone = signPolicyRecord({ key: 'deny-shadow', value: null }, key, NOW);
    assert.equal(verifyPolicyRecord({ key: 'deny-shadow', value: null, headers: tombstone }, ring).ok, true);
    const reason = (record: Parameters<typeof verifyPolicyRecord>[0]) => {
      const verdict = verifyPolicyRecord(record, ring);
      return verdict.ok ? 'ok' : verdict.reason;
    };
    assert.equal(reason({ key: 'other', value, headers }), 'bad_signature');
    assert.equal(reason({ key: 'deny-shadow', value: Buffer.from('other'), headers }), 'bad_signature');
    assert.equal(reason({ key: 'deny-shadow', value: null, headers }), 'bad_signature');
    assert.equal(reason({ key: 'deny-shadow', value, headers: {} }), 'unsigned');
    assert.equal(reason({ key: 'deny-shadow', value, headers: signPolicyRecord({ key: 'deny-shadow', value }, generateSigningKey(), NOW) }), 'unknown_key');
  });

  test('the gate refuses a record signed no later than the one in force, tombstones included', () => {
    const gate = new PolicyRecordGate(() => ring);
    const at = (signedAt: bigint, v: Buffer | null) => gate.admit({ key: 'p', value: v, headers: signPolicyRecord({ key: 'p', value: v }, key, signedAt) });
    const oldTombstone = signPolicyRecord({ key: 'p', value: null }, key, NOW + 1n);
    assert.equal(at(NOW, value).ok, true);
    assert.equal(gate.admit({ key: 'p', value: null, headers: oldTombstone }).ok, true);
    assert.equal(at(NOW + 5n, value).ok, true);
    const replayed = gate.admit({ key: 'p', value: null, headers: oldTombstone });
    assert.equal(!replayed.ok && replayed.reason, 'replayed');
    assert.equal(at(NOW + 5n, value).ok, false);
  });

  test('the handler refuses a signed record it cannot decode and an unsigned one; the undecodable one is handed over as taken', () => {
    const applied: string[] = [];
    const refused: [string, string][] = [];
    const dead: number[] = [];
    const take = createPolicyRecordHandler<{ key: Buffer; value: Buffer; headers: Record<string, Buffer>; offset: number }>({
      gate: new PolicyRecordGate(() => ring),
      apply: (policyKey) => void applied.push(policyKey),
      refuse: (policyKey, reason) => void refused.push([policyKey, reason]),
      undecodable: (record, detail) => void dead.push(record.offset, detail.length),
    });
    const garbage = Buffer.from('not a CompiledPolicy');
    take({ key: Buffer.from('q'), value: garbage, headers: signPolicyRecord({ key: 'q', value: garbage }, key, NOW), offset: 7 });
    take({ key: Buffer.from('q'), value: garbage, headers: {}, offset: 8 });
    assert.deepEqual(applied, []);
    assert.deepEqual(refused, [['q', 'undecodable'], ['q', 'unsigned']]);
    assert.equal(dead[0], 7, 'the undecodable record itself, once; the unsigned one is no dead letter');
    assert.equal(dead.length, 2);
  });
});
