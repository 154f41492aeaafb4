import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isClusterId, randomClusterId } from './cluster-id.ts';

test('randomClusterId is 22 base64url characters that decode to 16 bytes', () => {
  const id = randomClusterId();
  assert.match(id, /^[A-Za-z0-9_-]{22}$/);
  assert.equal(Buffer.from(id, 'base64url').length, 16);
  assert.ok(isClusterId(id));
});

test('randomClusterId never starts with "-" and differs between calls', () => {
  const ids = new Set(Array.from({ length: 2000 }, () => randomClusterId()));
  assert.equal(ids.size, 2000);
  for (const id of ids) assert.ok(!id.startsWith('-'), id);
});

test('isClusterId accepts an id printed by kafka-storage random-uuid and refuses malformed ones', () => {
  assert.ok(isClusterId('ZGFVHjrlRleqmfgoX8N0hg'));
  assert.ok(!isClusterId('ZGFVHjrlRleqmfgoX8N0hg=='), 'padding');
  assert.ok(!isClusterId('ZGFVHjrlRleqmfgoX8N0'), 'too short');
  assert.ok(!isClusterId('ZGFVHjrlRleqmfgoX8N0h+'), 'not base64url');
  assert.ok(!isClusterId('ZGFVHjrlRleqmfgoX8N0hh'), 'last character carries bits beyond 128');
});
