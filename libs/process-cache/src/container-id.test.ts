import { test } from 'node:test';
import assert from 'node:assert/strict';
import { containerIdFromCgroupPath, isKubernetesPodCgroup, podUidFromCgroupPath } from './container-id.ts';

const id = 'a'.repeat(40) + '0123456789abcdef01234567';
const other = 'b'.repeat(64);
const uid = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';
const systemdUid = uid.replaceAll('-', '_');

test('cgroup v2, systemd driver: containerd, CRI-O and Docker scopes, nested cgroups below the scope', () => {
  const pod = `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${systemdUid}.slice`;
  assert.equal(containerIdFromCgroupPath(`${pod}/cri-containerd-${id}.scope`), id);
  assert.equal(containerIdFromCgroupPath(`${pod}/crio-${id}.scope`), id);
  assert.equal(containerIdFromCgroupPath(`${pod}/docker-${id}.scope`), id);
  assert.equal(containerIdFromCgroupPath(`${pod}/cri-containerd-${id}.scope/init`), id);
  assert.equal(containerIdFromCgroupPath(`0::${pod}/cri-containerd-${id}.scope`), id);
  assert.equal(podUidFromCgroupPath(`${pod}/cri-containerd-${id}.scope`), uid);
});

test('systemd-managed runtime paths of the form slice:prefix:name', () => {
  assert.equal(containerIdFromCgroupPath(`/kubepods-besteffort-pod${systemdUid}.slice:cri-containerd:${id}`), id);
  assert.equal(containerIdFromCgroupPath(`/system.slice/containerd.service/kubepods-pod${systemdUid}.slice:crio:${id}`), id);
});

test('cgroup v1 and cgroupfs driver: bare ids under pod<uid>, below a controller hierarchy, from /proc/<pid>/cgroup lines', () => {
  assert.equal(containerIdFromCgroupPath(`/kubepods/besteffort/pod${uid}/${id}`), id);
  assert.equal(containerIdFromCgroupPath(`/kubepods/pod${uid}/${id}`), id);
  assert.equal(containerIdFromCgroupPath(`/sys/fs/cgroup/memory/kubepods/burstable/pod${uid}/${id}`), id);
  assert.equal(containerIdFromCgroupPath(`11:memory:/kubepods/burstable/pod${uid}/${id}`), id);
  assert.equal(containerIdFromCgroupPath(`4:cpu,cpuacct:/kubepods/burstable/pod${uid}/crio-${id}`), id);
  assert.equal(podUidFromCgroupPath(`11:memory:/kubepods/burstable/pod${uid}/${id}`), uid);
});

test('plain Docker, cgroup v1 and v2', () => {
  assert.equal(containerIdFromCgroupPath(`/docker/${id}`), id);
  assert.equal(containerIdFromCgroupPath(`9:devices:/docker/${id}`), id);
  assert.equal(containerIdFromCgroupPath(`/system.slice/docker-${id}.scope`), id);
});

test('CRI-O and podman monitor scopes are not containers; the pod cgroup itself has no container', () => {
  const pod = `/kubepods.slice/kubepods-pod${systemdUid}.slice`;
  assert.equal(containerIdFromCgroupPath(`${pod}/crio-conmon-${id}.scope`), null);
  assert.equal(containerIdFromCgroupPath(`/kubepods/burstable/pod${uid}/crio-conmon-${id}`), null);
  assert.equal(containerIdFromCgroupPath(`/machine.slice/libpod-conmon-${id}.scope`), null);
  assert.equal(containerIdFromCgroupPath(pod), null);
  // An id above the pod's cgroup is not this process's container.
  assert.equal(containerIdFromCgroupPath(`/${other}/kubepods/pod${uid}`), null);
});

test('host processes: no container, no pod', () => {
  for (const path of ['/user.slice/user-0.slice/session-1.scope', '/system.slice/sshd.service', '/', '0::/init.scope']) {
    assert.equal(containerIdFromCgroupPath(path), null, path);
    assert.equal(podUidFromCgroupPath(path), null, path);
    assert.equal(isKubernetesPodCgroup(path), false, path);
  }
  assert.equal(containerIdFromCgroupPath(null), null);
  assert.equal(containerIdFromCgroupPath(`/system.slice/docker-${id.slice(1)}.scope`), null);
});

test('isKubernetesPodCgroup: kubelet-made cgroups of either driver, not plain Docker', () => {
  assert.equal(isKubernetesPodCgroup(`/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${systemdUid}.slice/cri-containerd-${id}.scope`), true);
  assert.equal(isKubernetesPodCgroup(`/kubepods/besteffort/pod${uid}/${id}`), true);
  assert.equal(isKubernetesPodCgroup(`4:memory:/kubepods/pod${uid}/${id}`), true);
  assert.equal(isKubernetesPodCgroup(`/docker/${id}`), false);
  assert.equal(isKubernetesPodCgroup(null), false);
});
