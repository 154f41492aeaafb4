import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { hostPidsInContainers, namespacedProcessesFromProc, parseNsPids } from './container-pids.ts';

const CONTAINER = '0123456789abcdef'.repeat(4);
const POD = `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1b2c3d4e_0000_4000_8000_000000000001.slice`;

describe('container pids', () => {
  test('parseNsPids reads the NSpid line: host pid first, one pid per nested namespace', () => {
    assert.deepEqual(parseNsPids('Name:\tsh\nTgid:\t4242\nNSpid:\t4242\t1\nPPid:\t4200\n'), [4242, 1]);
    assert.deepEqual(parseNsPids('NSpid:\t17\n'), [17]);
    assert.equal(parseNsPids('Name:\tsh\nTgid:\t17\n'), null, 'no NSpid line: null');
    assert.equal(parseNsPids('NSpid:\t0\n'), null, 'pid 0 is none');
  });

  test('hostPidsInContainers: the processes of a container whose pid in their own namespace is named', () => {
    const processes = [
      { pid: 4242, nsPids: [4242, 1], cgroupPath: `${POD}/cri-containerd-${CONTAINER}.scope` }, // pid 1 of the container
      { pid: 4250, nsPids: [4250, 9], cgroupPath: `${POD}/cri-containerd-${CONTAINER}.scope` }, // its pid 9
      { pid: 1, nsPids: [1], cgroupPath: '/init.scope' }, // the host's own pid 1
      { pid: 5000, nsPids: [5000, 1], cgroupPath: '/user.slice/user-0.slice/session-1.scope' }, // a pid namespace outside containers
      { pid: 6000, nsPids: [6000, 1], cgroupPath: null }, // cgroup unknown
      { pid: 7000, nsPids: [7000, 12, 1], cgroupPath: `${POD}/cri-containerd-${CONTAINER}.scope` }, // pid 1 of a namespace nested in it
    ];
    assert.deepEqual(hostPidsInContainers([1], processes), [4242, 7000]);
    assert.deepEqual(hostPidsInContainers([9, 1], processes), [4242, 4250, 7000]);
    assert.deepEqual(hostPidsInContainers([4242], processes), [], 'a host pid is not a container pid');
  });

  test('namespacedProcessesFromProc reads status and cgroup of every pid directory; host processes and gone ones are left out', () => {
    const root = mkdtempSync(join(tmpdir(), 'stinger-container-pids-'));
    try {
      const proc = (pid: number, status: string | null, cgroup: string): void => {
        mkdirSync(join(root, String(pid)));
        if (status !== null) writeFileSync(join(root, String(pid), 'status'), status);
        writeFileSync(join(root, String(pid), 'cgroup'), cgroup);
      };
      proc(4242, 'Tgid:\t4242\nNSpid:\t4242\t1\n', `12:memory:/x\n0::${POD}/cri-containerd-${CONTAINER}.scope\n`);
      proc(17, 'Tgid:\t17\nNSpid:\t17\n', '0::/system.slice/x.service\n');
      proc(99, null, '0::/gone\n'); // exited between the listing and the read
      mkdirSync(join(root, 'self'));
      assert.deepEqual(namespacedProcessesFromProc(root), [{ pid: 4242, nsPids: [4242, 1], cgroupPath: `${POD}/cri-containerd-${CONTAINER}.scope` }]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
