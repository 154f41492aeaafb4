import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeAbsolutePath, resolvePath } from './paths.ts';
import { containerIdFromCgroupPath, podUidFromCgroupPath } from './container-id.ts';

test('normalisation collapses slashes, dots and dot-dots', () => {
  assert.equal(normalizeAbsolutePath('//etc///./shadow'), '/etc/shadow');
  assert.equal(normalizeAbsolutePath('/etc/ssl/../shadow'), '/etc/shadow');
  assert.equal(normalizeAbsolutePath('/../../etc/shadow'), '/etc/shadow');
  assert.equal(normalizeAbsolutePath('/'), '/');
  assert.throws(() => normalizeAbsolutePath('etc'), RangeError);
});

test('relative paths resolve against the cwd, or not at all without one', () => {
  assert.equal(resolvePath('/etc', 'passwd'), '/etc/passwd');
  assert.equal(resolvePath('/home/u', '../../etc/./shadow'), '/etc/shadow');
  assert.equal(resolvePath(null, 'passwd'), null);
  assert.equal(resolvePath(null, '/etc//passwd'), '/etc/passwd');
});

test('container ids come from containerd, CRI-O, docker and cgroupfs layouts', () => {
  const id = 'ab'.repeat(32);
  const uid = '3f2c8e1a-7b6d-4c5e-9f0a-1b2c3d4e5f60';
  const systemdUid = uid.replaceAll('-', '_');
  assert.equal(containerIdFromCgroupPath(`/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${systemdUid}.slice/cri-containerd-${id}.scope`), id);
  assert.equal(containerIdFromCgroupPath(`/kubepods.slice/kubepods-pod${systemdUid}.slice/crio-${id}.scope`), id);
  assert.equal(containerIdFromCgroupPath(`/kubepods/burstable/pod${uid}/${id}`), id);
  assert.equal(containerIdFromCgroupPath(`/system.slice/docker-${id}.scope`), id);
  assert.equal(containerIdFromCgroupPath('/user.slice/user-0.slice/session-1.scope'), null);
  assert.equal(containerIdFromCgroupPath(null), null);
  assert.equal(podUidFromCgroupPath(`/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${systemdUid}.slice/x.scope`), uid);
  assert.equal(podUidFromCgroupPath(`/kubepods/burstable/pod${uid}/${id}`), uid);
});
