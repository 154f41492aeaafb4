/**
 * Ed25519 keys on disk and the key ring a verifier trusts.
 *
 * Layout of a keys directory (STINGER_KEYS_DIR, default ~/.stinger/keys; in a cluster, Secrets mounted there):
 *   signing.key           the active private key (PKCS#8 PEM, mode 0600): the policy-controller, CLI and enforcer sign
 *                         with it; agents never need it
 *   trusted/<key id>.pub  every public key verifiers accept (SPKI PEM); rotation adds the new key here first and
 *                         retires the old one later, so records signed by either verify during the change-over
 *
 * A key id is the first 16 hex digits of SHA-256 over the raw 32-byte public key: stable, short, and derived, so a
 * record cannot claim a key id that is not its key's.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SigningKeyMissingError, TrustError } from './errors.ts';

export const SIGNING_KEY_FILE = 'signing.key';
export const TRUSTED_DIR = 'trusted';

export interface SigningKey {
  readonly keyId: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

/** Public keys by key id. */
export type KeyRing = ReadonlyMap<string, KeyObject>;

export function keyIdOf(publicKey: KeyObject): string {
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  return createHash('sha256').update(raw).digest('hex').slice(0, 16);
}

export function generateSigningKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { keyId: keyIdOf(publicKey), privateKey, publicKey };
}

export function signingKeyFromPem(pem: string, file = '(inline)'): SigningKey {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch (error) {
    throw new TrustError(`${file}: not a PEM private key (${(error as Error).message})`, { file, cause: error });
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new TrustError(`${file}: a ${privateKey.asymmetricKeyType} key, expected ed25519`, { file });
  const publicKey = createPublicKey(privateKey);
  return { keyId: keyIdOf(publicKey), privateKey, publicKey };
}

export function publicKeyPem(key: KeyObject): string {
  return key.export({ format: 'pem', type: 'spki' }).toString();
}

/** The active signing key of `dir`. @throws SigningKeyMissingError when there is none. */
export function readSigningKey(dir: string): SigningKey {
  const file = join(dir, SIGNING_KEY_FILE);
  if (!existsSync(file)) throw new SigningKeyMissingError(`no signing key at ${file} (run \`stinger keys generate\`)`, { file });
  return signingKeyFromPem(readFileSync(file, 'utf8'), file);
}

/**
 * Every public key in `dir/trusted` (files `<id>.pub`; a file whose content is not an Ed25519 public key, or whose
 * name is not its key id, is an error: a verifier must not silently trust less, or more, than it was given).
 * An absent directory is an empty ring.
 */
export function readKeyRing(dir: string): KeyRing {
  const trusted = join(dir, TRUSTED_DIR);
  const ring = new Map<string, KeyObject>();
  if (!existsSync(trusted)) return ring;
  for (const name of readdirSync(trusted).sort()) {
    if (!name.endsWith('.pub')) continue;
    const file = join(trusted, name);
    let key: KeyObject;
    try {
      key = createPublicKey(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new TrustError(`${file}: not a PEM public key (${(error as Error).message})`, { file, cause: error });
    }
    if (key.asymmetricKeyType !== 'ed25519') throw new TrustError(`${file}: a ${key.asymmetricKeyType} key, expected ed25519`, { file });
    const keyId = keyIdOf(key);
    if (name !== `${keyId}.pub`) throw new TrustError(`${file}: holds key ${keyId}; the file must be named ${keyId}.pub`, { file });
    ring.set(keyId, key);
  }
  return ring;
}

function writeSecret(file: string, text: string): void {
  const temporary = `${file}.tmp-${process.pid}`;
  writeFileSync(temporary, text, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, file);
}

/** Adds `publicKey` to the trusted keys of `dir`; returns its key id. */
export function trustPublicKey(dir: string, publicKey: KeyObject): string {
  const keyId = keyIdOf(publicKey);
  mkdirSync(join(dir, TRUSTED_DIR), { recursive: true, mode: 0o755 });
  writeFileSync(join(dir, TRUSTED_DIR, `${keyId}.pub`), publicKeyPem(publicKey));
  return keyId;
}

/**
 * A new active signing key in `dir`, trusted at once. The previous key (if any) stays trusted until `retireKey`, so
 * what it signed keeps verifying while agents and records catch up. Used by `generate` (no key yet) and `rotate`.
 */
export function installNewSigningKey(dir: string): { readonly key: SigningKey; readonly previousKeyId: string | null } {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const previous = existsSync(join(dir, SIGNING_KEY_FILE)) ? readSigningKey(dir) : null;
  const key = generateSigningKey();
  trustPublicKey(dir, key.publicKey);
  writeSecret(join(dir, SIGNING_KEY_FILE), key.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString());
  return { key, previousKeyId: previous?.keyId ?? null };
}

/** Stops trusting `keyId`. Refuses the active signing key (that would make every new record unverifiable). */
export function retireKey(dir: string, keyId: string): void {
  const file = join(dir, TRUSTED_DIR, `${keyId}.pub`);
  if (!existsSync(file)) throw new TrustError(`key ${keyId} is not trusted in ${dir}`, { file });
  if (existsSync(join(dir, SIGNING_KEY_FILE)) && readSigningKey(dir).keyId === keyId) {
    throw new TrustError(`key ${keyId} is the active signing key; rotate first (\`stinger keys rotate\`)`, { file });
  }
  rmSync(file);
}
