import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@stinger/config';
import { readKeyRing, readSigningKey, signingKeyFromPem } from '@stinger/trust';
import { parseAllDocuments } from 'yaml';
import { CliError } from '../errors.ts';
import { ensureSigningKey, keysGenerate, keysSecrets, signingKeyFor } from './keys.ts';

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

test('keys secrets: the signing key and every trusted public key as two Secrets, decodable back to the same keys', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'keys-')), 'keys');
  const config = configWithKeys(dir);
  ensureSigningKey(config);
  const lines: string[] = [];
  keysSecrets({ config, out: (line) => lines.push(line) }, 'security');
  const [signing, trusted] = parseAllDocuments(lines.join('\n')).map((d) => d.toJS() as { metadata: { name: string; namespace: string }; data: Record<string, string> });
  assert.deepEqual([signing?.metadata, trusted?.metadata.name], [{ name: 'stinger-signing-key', namespace: 'security', labels: { 'app.kubernetes.io/part-of': 'stinger' } }, 'stinger-trusted-keys']);
  const pem = Buffer.from(signing?.data['signing.key'] ?? '', 'base64').toString();
  assert.equal(signingKeyFromPem(pem).keyId, readSigningKey(dir).keyId);
  assert.deepEqual(Object.keys(trusted?.data ?? {}), [...readKeyRing(dir).keys()].map((id) => `${id}.pub`));
});
