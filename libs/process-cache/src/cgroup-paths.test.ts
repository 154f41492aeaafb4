import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCgroupPathResolver, findPodCgroupRoots, findPodCgroups } from './cgroup-paths.ts';

test('ids resolve to paths relative to the mount point, and new directories after a re-walk', () => {
  const root = mkdtempSync(join(tmpdir(), 'cgroup-test-'));
  try {
    const scope = join(root, 'kubepods.slice', 'pod.slice', 'cri-containerd-x.scope');
    mkdirSync(scope, { recursive: true });
    let clock = 0;
    const resolver = createCgroupPathResolver({ mountPoint: root, now: () => clock });
    assert.equal(resolver.pathOf(statSync(scope, { bigint: true }).ino), '/kubepods.slice/pod.slice/cri-containerd-x.scope');
    assert.equal(resolver.pathOf(statSync(root, { bigint: true }).ino), '/');
    const later = join(root, 'later');
    mkdirSync(later);
    const laterId = statSync(later, { bigint: true }).ino;
    assert.equal(resolver.pathOf(laterId), null, 'no re-walk within the interval');
    clock = 5000;
    assert.equal(resolver.pathOf(laterId), '/later');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('pod cgroup roots: kubepods.slice and kubepods at any level up to the depth, not below them, not deeper', () => {
  const root = mkdtempSync(join(tmpdir(), 'cgroup-test-'));
  try {
    mkdirSync(join(root, 'kubepods.slice', 'kubepods-besteffort.slice', 'kubepods'), { recursive: true }); // nested name: not a root
    mkdirSync(join(root, 'system.slice', 'containerd.service', 'kubepods'), { recursive: true });
    mkdirSync(join(root, 'a', 'b', 'c', 'd', 'kubepods'), { recursive: true }); // level 5: beyond the kernel's search
    mkdirSync(join(root, 'user.slice'), { recursive: true });
    const found = findPodCgroupRoots(root).sort((x, y) => x.path.localeCompare(y.path));
    assert.deepEqual(
      found.map((r) => r.path),
      ['/kubepods.slice', '/system.slice/containerd.service/kubepods'],
    );
    assert.equal(found[0]?.id, statSync(join(root, 'kubepods.slice'), { bigint: true }).ino);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('pod cgroups: each pod uid to its own cgroup, for both drivers and every QoS class, not deeper, not outside the roots', () => {
  const root = mkdtempSync(join(tmpdir(), 'cgroup-test-'));
  const uid = (n: number) => `0000000${n}-aaaa-bbbb-cccc-dddddddddddd`;
  const dirs = {
    besteffort: `kubepods/besteffort/pod${uid(1)}`,
    guaranteed: `kubepods/pod${uid(2)}`,
    systemd: `kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${uid(3).replaceAll('-', '_')}.slice`,
    outside: `system.slice/pod${uid(4)}`,
  };
  try {
    for (const dir of Object.values(dirs)) mkdirSync(join(root, dir, 'cri-containerd-x.scope'), { recursive: true });
    mkdirSync(join(root, dirs.besteffort, `nested-pod${uid(5)}`));
    const ino = (dir: string) => statSync(join(root, dir), { bigint: true }).ino;
    const found = findPodCgroups(root, findPodCgroupRoots(root).map((r) => r.path));
    assert.deepEqual(
      [...found].sort(([a], [b]) => a.localeCompare(b)),
      [
        [uid(1), ino(dirs.besteffort)],
        [uid(2), ino(dirs.guaranteed)],
        [uid(3), ino(dirs.systemd)],
      ],
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
