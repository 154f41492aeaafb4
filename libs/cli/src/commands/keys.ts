/**
 * `stinger keys generate | rotate | retire ID | list`: the Ed25519 keys in STINGER_KEYS_DIR that sign policy records
 * and control commands (@stinger/trust has the file layout).
 *
 * - generate  a first key; refuses when there is already an active key (a second `generate` would silently replace
 *             it, and agents that only know the old key would refuse everything signed from then on)
 * - rotate    a new active key; the old one stays trusted until `retire`, so what it signed keeps verifying while
 *             agents receive the new public key
 * - retire    stops trusting a key; refuses the active one
 * - list      one line per trusted key, the active one marked
 * - secrets   the keys as two Kubernetes Secrets on stdout: `stinger-signing-key` (signing.key, for the
 *             policy-controller and the enforcer) and `stinger-trusted-keys` (trusted/*.pub, for agents and the
 *             detector, mounted at <keys dir>/trusted); `| kubectl apply -f -`
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StingerConfig } from '@stinger/config';
import { installNewSigningKey, publicKeyPem, readKeyRing, readSigningKey, retireKey, SIGNING_KEY_FILE, TrustError, type SigningKey } from '@stinger/trust';
import { stringify } from 'yaml';
import { CliError } from '../errors.ts';

export interface KeysCommandOptions {
  readonly config: StingerConfig;
  readonly out: (line: string) => void;
}

function hasSigningKey(dir: string): boolean {
  return existsSync(join(dir, SIGNING_KEY_FILE));
}

/** Runs `action`, turning a key-file problem (TrustError) into the CLI's one-line error. */
function trusting<T>(action: () => T): T {
  try {
    return action();
  } catch (error) {
    if (error instanceof TrustError) throw new CliError(error.message);
    throw error;
  }
}

export function keysGenerate({ config, out }: KeysCommandOptions): number {
  const dir = config.keysDir;
  if (hasSigningKey(dir)) {
    const active = trusting(() => readSigningKey(dir));
    throw new CliError(`${join(dir, SIGNING_KEY_FILE)} already holds key ${active.keyId}; \`stinger keys rotate\` replaces it`);
  }
  const { key } = trusting(() => installNewSigningKey(dir));
  out(`generated key ${key.keyId} (active) in ${dir}`);
  return 0;
}

export function keysRotate({ config, out }: KeysCommandOptions): number {
  const dir = config.keysDir;
  if (!hasSigningKey(dir)) throw new CliError(`no signing key in ${dir} to rotate (run \`stinger keys generate\`)`);
  const { key, previousKeyId } = trusting(() => installNewSigningKey(dir));
  out(`generated key ${key.keyId} (active) in ${dir}`);
  out(`key ${previousKeyId} stays trusted until \`stinger keys retire ${previousKeyId}\``);
  return 0;
}

export function keysRetire({ config, out }: KeysCommandOptions, keyId: string): number {
  trusting(() => retireKey(config.keysDir, keyId));
  out(`key ${keyId} retired: no longer trusted`);
  return 0;
}

export function keysList({ config, out }: KeysCommandOptions): number {
  const dir = config.keysDir;
  const active = hasSigningKey(dir) ? trusting(() => readSigningKey(dir)).keyId : null;
  const ring = trusting(() => readKeyRing(dir));
  if (ring.size === 0 && active === null) {
    out(`no keys in ${dir} (run \`stinger keys generate\`)`);
    return 0;
  }
  for (const keyId of ring.keys()) out(`${keyId}  ${keyId === active ? 'active' : 'trusted'}`);
  // A signing key whose public half is not trusted signs records nobody accepts: say so rather than hide it.
  if (active !== null && !ring.has(active)) out(`${active}  active, NOT trusted (its public key is missing from ${join(dir, 'trusted')})`);
  return 0;
}

export function keysSecrets({ config, out }: KeysCommandOptions, namespace: string): number {
  const dir = config.keysDir;
  if (!hasSigningKey(dir)) throw new CliError(`no signing key in ${dir} (run \`stinger keys generate\`)`);
  const ring = trusting(() => readKeyRing(dir));
  const secret = (name: string, data: Record<string, string>) => ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace, labels: { 'app.kubernetes.io/part-of': 'stinger' } },
    type: 'Opaque',
    data: Object.fromEntries(Object.entries(data).map(([file, text]) => [file, Buffer.from(text).toString('base64')])),
  });
  out(stringify(secret('stinger-signing-key', { [SIGNING_KEY_FILE]: readFileSync(join(dir, SIGNING_KEY_FILE), 'utf8') })).trimEnd());
  out('---');
  out(stringify(secret('stinger-trusted-keys', Object.fromEntries([...ring].map(([keyId, key]) => [`${keyId}.pub`, publicKeyPem(key)])))).trimEnd());
  return 0;
}

/**
 * The active key for a command that signs (`stinger policy apply|delete`). `what` names the input being signed (a
 * file, a policy), so the error says what could not be applied and how to fix it.
 */
export function signingKeyFor(config: StingerConfig, what: string): SigningKey {
  try {
    return readSigningKey(config.keysDir);
  } catch (error) {
    if (error instanceof TrustError) throw new CliError(`${what}: cannot sign: ${error.message}`);
    throw error;
  }
}

/**
 * `stinger up`: makes the first key when the keys directory has no signing key, so a fresh machine's pipeline signs
 * and verifies out of the box. Returns the line to print, or null when a key was already there.
 */
export function ensureSigningKey(config: StingerConfig): string | null {
  if (hasSigningKey(config.keysDir)) return null;
  const { key } = trusting(() => installNewSigningKey(config.keysDir));
  return `signing key: none in ${config.keysDir}, generated ${key.keyId} (\`stinger keys list\`)`;
}
