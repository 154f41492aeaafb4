import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizedImageName, parseLddPaths } from './local-images.ts';

test('parseLddPaths finds the libraries and the loader, not the vDSO', () => {
  const ldd = [
    '\tlinux-vdso.so.1 (0x00007ffd4a3f2000)',
    '\tlibtinfo.so.6 => /lib/x86_64-linux-gnu/libtinfo.so.6 (0x00007f0b7c5c4000)',
    '\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f0b7c3e3000)',
    '\t/lib64/ld-linux-x86-64.so.2 (0x00007f0b7c74b000)',
  ].join('\n');
  assert.deepEqual(parseLddPaths(ldd), ['/lib/x86_64-linux-gnu/libtinfo.so.6', '/lib/x86_64-linux-gnu/libc.so.6', '/lib64/ld-linux-x86-64.so.2']);
});

test("normalizedImageName names images as containerd's CRI looks them up", () => {
  assert.equal(normalizedImageName('stinger/agent:0.1.0'), 'docker.io/stinger/agent:0.1.0');
  assert.equal(normalizedImageName('busybox:1'), 'docker.io/library/busybox:1');
  assert.equal(normalizedImageName('localhost/stinger/pause:1'), 'localhost/stinger/pause:1');
  assert.equal(normalizedImageName('registry.example:5000/team/app:2'), 'registry.example:5000/team/app:2');
});
