import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AT_FDCWD, normaliseLexically, reachedBy, type ReachInput } from './reached-by.ts';

const input = (overrides: Partial<ReachInput>): ReachInput => ({ given: '/etc/shadow', dirfd: AT_FDCWD, baseDirectory: '/', target: '/etc/shadow', realpath: () => null, links: 1, ...overrides });

test('each way of reaching the file is told apart', () => {
  assert.equal(reachedBy(input({})), 'path');
  assert.equal(reachedBy(input({ given: '//etc/./shadow' })), 'non_canonical');
  assert.equal(reachedBy(input({ given: 'shadow', baseDirectory: '/etc' })), 'relative');
  assert.equal(reachedBy(input({ given: 'shadow', dirfd: 3, baseDirectory: '/etc' })), 'dirfd');
  assert.equal(reachedBy(input({ given: '/proc/self/fd/4' })), 'fd_link');
  assert.equal(reachedBy(input({ given: '/tmp/x', realpath: (p) => (p === '/tmp/x' ? '/etc/shadow' : p) })), 'symlink');
  assert.equal(reachedBy(input({ given: '/tmp/x', realpath: (p) => p, links: 2 })), 'hard_link');
  assert.equal(reachedBy(input({ given: '/mnt/x', realpath: (p) => p })), 'bind_mount');
  assert.equal(reachedBy(input({ given: null })), 'unknown');
  assert.equal(reachedBy(input({ given: 'shadow', baseDirectory: null })), 'unknown');
});

test('normaliseLexically drops repeated slashes, dot and dot-dot segments', () => {
  assert.equal(normaliseLexically('/a//b/./c/../d'), '/a/b/d');
  assert.equal(normaliseLexically('/../..'), '/');
});
