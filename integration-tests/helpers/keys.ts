/**
 * The signing keys of a test process: one temp keys directory (STINGER_KEYS_DIR) with an active Ed25519 key, made on
 * first use and removed when the process exits. `runStinger` and `startAgent` pass it to every CLI run and agent of
 * the same test file, so a policy the CLI signs is one the agent trusts. A test that needs other keys (an untrusted
 * signer, a rotation) passes its own STINGER_KEYS_DIR, which wins.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installNewSigningKey, readSigningKey, type SigningKey } from '@stinger/trust';

let dir: string | null = null;

/** The keys directory shared by this test process's CLI runs and agents; it holds an active signing key. */
export function testKeysDir(): string {
  if (dir === null) {
    const created = mkdtempSync(join(tmpdir(), 'stinger-test-keys-'));
    installNewSigningKey(created);
    process.once('exit', () => rmSync(created, { recursive: true, force: true }));
    dir = created;
  }
  return dir;
}

/** The active key of `testKeysDir()`, for tests that sign or verify records themselves. */
export function testSigningKey(): SigningKey {
  return readSigningKey(testKeysDir());
}
