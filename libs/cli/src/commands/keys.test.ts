import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@stinger/config';
import { readKeyRing, readSigningKey } from '@stinger/trust';
import { CliError } from '../errors.ts';
import { ensureSigningKey, keysGenerate, signingKeyFor } from './keys.ts';

const configWithKeys = (dir: string) => loadConfig({ HOME: '/h', STINGER_KEYS_DIR: dir }, { fileExists: () => false });

test('ensureSigningKey (stinger up): makes a trusted key when there is none, says so once, then leaves it alone', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'keys-')), 'keys');
  const config = configWithKeys(dir);
  const line = ensureSigningKey(config);
  const key = readSigningKey(dir);
  assert.equal(line, `signing key: none in ${dir}, generated ${key.keyId} (\`stinger keys list\`)`);
  assert.ok(readKeyRing(dir).has(key.keyId));
  assert.equal(ensureSigningKey(config), null);
  assert.equal(readSigningKey(dir).keyId, key.keyId);
  assert.throws(() => keysGenerate({ config, out: () => undefined }), CliError);
});

test('signingKeyFor names what could not be signed and how to make a key', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'keys-')), 'none');
  assert.throws(() => signingKeyFor(configWithKeys(dir), 'p.yaml'), {
    name: 'CliError',
    message: `p.yaml: cannot sign: no signing key at ${dir}/signing.key (run \`stinger keys generate\`)`,
  });
});
