import { test } from 'node:test';
import assert from 'node:assert/strict';
import { absentMountPoints, coveredPrivateParents, iptablesCleanupCommands, mountsToUnmount, parseIptablesSave, privateMountPoints, splitIptablesWords } from './host-state.ts';

test('splitIptablesWords keeps quoted comments whole and unescapes', () => {
  assert.deepEqual(splitIptablesWords('-A KUBE-FIREWALL -m comment --comment "block \\"incoming\\" localnet" -j DROP'), [
    '-A', 'KUBE-FIREWALL', '-m', 'comment', '--comment', 'block "incoming" localnet', '-j', 'DROP',
  ]);
});

test("the node's new chains go with the rules that jump to them; chains that were there before and others' chains stay", () => {
  const before = parseIptablesSave([':PREROUTING ACCEPT [0:0]', ':POSTROUTING ACCEPT [0:0]', ':KUBE-OLD - [0:0]', 'COMMIT'].join('\n'));
  const after = parseIptablesSave([
    ':PREROUTING ACCEPT [0:0]',
    ':POSTROUTING ACCEPT [0:0]',
    ':KUBE-OLD - [0:0]',
    ':KUBE-KUBELET-CANARY - [0:0]',
    ':STINGER-DEV-SERVICES - [0:0]',
    ':DOCKER - [0:0]',
    '-A PREROUTING -i stinger0 -j STINGER-DEV-SERVICES',
    '-A PREROUTING -j DOCKER',
    '-A POSTROUTING -m comment --comment "kube hostport" -j KUBE-OLD',
    '-A STINGER-DEV-SERVICES -d 10.96.0.1/32 -p tcp -m tcp --dport 443 -j DNAT --to-destination 127.0.0.1:6443',
    'COMMIT',
  ].join('\n'));
  assert.deepEqual(iptablesCleanupCommands('nat', before, after), [
    ['-t', 'nat', '-D', 'PREROUTING', '-i', 'stinger0', '-j', 'STINGER-DEV-SERVICES'],
    ['-t', 'nat', '-F', 'KUBE-KUBELET-CANARY'],
    ['-t', 'nat', '-F', 'STINGER-DEV-SERVICES'],
    ['-t', 'nat', '-X', 'KUBE-KUBELET-CANARY'],
    ['-t', 'nat', '-X', 'STINGER-DEV-SERVICES'],
  ]);
  assert.deepEqual(iptablesCleanupCommands('nat', after, after), []);
});

test('mounts under the roots are unmounted deepest first; octal escapes in mount points are decoded', () => {
  const mountinfo = [
    '22 1 0:21 / /run rw - tmpfs tmpfs rw',
    '30 22 0:40 / /srv/node/kubelet/pods/a/volumes/secret rw - tmpfs tmpfs rw',
    '31 22 0:41 / /srv/node/containerd/state/x/rootfs rw - overlay overlay rw',
    '32 22 0:42 / /srv/node/kubelet/pods/a/volumes/with\\040space rw - tmpfs tmpfs rw',
    '33 22 0:43 / /srv/node-other/y rw - tmpfs tmpfs rw',
  ].join('\n');
  assert.deepEqual(mountsToUnmount(mountinfo, ['/srv/node']), [
    '/srv/node/kubelet/pods/a/volumes/with space',
    '/srv/node/kubelet/pods/a/volumes/secret',
    '/srv/node/containerd/state/x/rootfs',
  ]);
});

test('privateMountPoints names the mount points without a shared: or master: tag', () => {
  const mountinfo = [
    '25 20 0:22 / /sys/fs/cgroup rw,nosuid - tmpfs tmpfs rw',
    '26 20 0:23 / /sys/fs/bpf rw shared:7 - bpf bpf rw',
    '27 20 0:24 / /sys/kernel/tracing rw master:3 - tracefs tracefs rw',
  ].join('\n');
  assert.deepEqual(privateMountPoints(mountinfo, ['/sys/fs/cgroup', '/sys/fs/bpf', '/sys/kernel/tracing', '/absent']), ['/sys/fs/cgroup']);
});

test('absentMountPoints names the paths that are no mount point (a bpffs the host never mounted)', () => {
  const mountinfo = ['23 27 0:22 / /sys rw,relatime - sysfs sysfs rw', '45 23 0:13 / /sys/kernel/tracing rw,relatime shared:12 - tracefs tracefs rw'].join('\n');
  assert.deepEqual(absentMountPoints(mountinfo, ['/sys/fs/bpf', '/sys/kernel/tracing']), ['/sys/fs/bpf']);
});

test('coveredPrivateParents names the parent of a private mount another one covers, when everything under that parent is private', () => {
  // This machine once bpffs is mounted: sysfs's /sys/fs/bpf folder bound on itself, the bpffs on top of it.
  const stacked = [
    '23 27 0:22 / /sys rw,relatime - sysfs sysfs rw',
    '49 23 0:22 /fs/bpf /sys/fs/bpf rw,relatime - sysfs sysfs rw',
    '50 49 0:42 / /sys/fs/bpf rw,relatime - bpf bpf rw,mode=700',
    '60 23 0:30 / /sys/fs/cgroup rw - tmpfs tmpfs rw',
  ].join('\n');
  assert.deepEqual(coveredPrivateParents(stacked, ['/sys/fs/cgroup', '/sys/fs/bpf']), ['/sys']);
  // One mount on the path (make-shared reaches it), or a covered one already shared: nothing to do.
  assert.deepEqual(coveredPrivateParents(stacked.split('\n').filter((line) => !line.startsWith('49 ')).join('\n'), ['/sys/fs/bpf']), []);
  assert.deepEqual(coveredPrivateParents(stacked.replace('49 23 0:22 /fs/bpf /sys/fs/bpf rw,relatime -', '49 23 0:22 /fs/bpf /sys/fs/bpf rw,relatime shared:9 -'), ['/sys/fs/bpf']), []);
  // A shared mount under the parent: making the parent private again on down would change it, so not this way.
  assert.deepEqual(coveredPrivateParents(stacked.replace('/sys/fs/cgroup rw -', '/sys/fs/cgroup rw shared:4 -'), ['/sys/fs/bpf']), []);
});
