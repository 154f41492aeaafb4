import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AT_FDCWD, bindMountPoints, isUnder, reachedBy, type ReachInput } from './reached-by.ts';

const input = (overrides: Partial<ReachInput>): ReachInput => ({
  given: '/etc/shadow',
  dirfd: AT_FDCWD,
  baseDirectory: '/',
  target: '/etc/shadow',
  realpath: () => null,
  links: 1,
  underBindMount: () => false,
  ...overrides,
});

test('each way of reaching the file is told apart', () => {
  assert.equal(reachedBy(input({})), 'path');
  assert.equal(reachedBy(input({ given: '//etc/./shadow' })), 'non_canonical');
  assert.equal(reachedBy(input({ given: 'shadow', baseDirectory: '/etc' })), 'relative');
  assert.equal(reachedBy(input({ given: 'shadow', dirfd: 3, baseDirectory: '/etc' })), 'dirfd');
  assert.equal(reachedBy(input({ given: '/proc/self/fd/4' })), 'fd_link');
  assert.equal(reachedBy(input({ given: '/tmp/x', realpath: (p) => (p === '/tmp/x' ? '/etc/shadow' : p) })), 'symlink');
  assert.equal(reachedBy(input({ given: '/tmp/x', realpath: (p) => p, links: 2 })), 'hard_link');
  assert.equal(reachedBy(input({ given: '/mnt/x', realpath: (p) => p, links: 2, underBindMount: (p) => p === '/mnt/x' })), 'bind_mount');
  assert.equal(reachedBy(input({ given: '/mnt/x', realpath: (p) => p })), 'unknown');
  assert.equal(reachedBy(input({ given: null })), 'unknown');
  assert.equal(reachedBy(input({ given: 'shadow', baseDirectory: null })), 'unknown');
});


test('bind mounts are the mountinfo entries whose root is not /', () => {
  const mountinfo = [
    '22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw',
    '90 22 254:0 /tmp/s/etc/shadow /tmp/s/bound rw,relatime shared:1 - ext4 /dev/vda rw',
    '91 22 254:0 /srv /mnt/with\\040space rw - ext4 /dev/vda rw',
  ].join('\n');
  const points = bindMountPoints(mountinfo);
  assert.deepEqual([...points], ['/tmp/s/bound', '/mnt/with space']);
  assert.ok(isUnder(points, '/mnt/with space/a/b'));
  assert.ok(!isUnder(points, '/tmp/s/etc/shadow'));
});
