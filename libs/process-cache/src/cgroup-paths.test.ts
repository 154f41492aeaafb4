import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCgroupPathResolver } from './cgroup-paths.ts';

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
