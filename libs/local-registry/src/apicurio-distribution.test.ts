import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { APICURIO_PROJECT_DIR, APICURIO_VERSION, apicurioProjectHash } from './apicurio-distribution.ts';

test('APICURIO_VERSION is the version the pom builds', () => {
  const pom = readFileSync(join(APICURIO_PROJECT_DIR, 'pom.xml'), 'utf8');
  assert.match(pom, new RegExp(`<apicurio.version>${APICURIO_VERSION.replace(/\./g, '\\.')}</apicurio.version>`));
});

test('the cache key is a SHA-256 of the project files, stable between calls', async () => {
  const first = await apicurioProjectHash();
  assert.match(first, /^[0-9a-f]{64}$/);
  assert.equal(await apicurioProjectHash(), first);
});
