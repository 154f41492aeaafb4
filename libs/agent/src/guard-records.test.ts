import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ProcessInfo } from '@stinger/process-cache';
import { containerRootsOf, GuardRootTracker } from './guard-records.ts';

function proc(pid: number, containerId: string | null, started: { at: bigint; exited?: boolean }): ProcessInfo {
  const { at: startTimeNs, exited = false } = started;
  return {
    pid,
    containerId,
    startTimeNs,
    exitTimeNs: exited ? startTimeNs + 1n : null,
    cgroupPath: '/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-poda.slice/cri-containerd-c.scope',
  } as ProcessInfo;
}

test('each container is rooted at its oldest live process; host processes and exited ones are not roots', () => {
  const roots = containerRootsOf([proc(10, 'b', { at: 5n }), proc(11, 'b', { at: 3n }), proc(12, 'b', { at: 1n, exited: true }), proc(13, null, { at: 0n }), proc(14, 'a', { at: 9n })]);
  assert.deepEqual(roots, [
    { id: 'a', pid: 14, pod: true },
    { id: 'b', pid: 11, pod: true },
  ]);
});

test('the tracker gives roots once, and again only when a root process changed its root directory', () => {
  const rootDirs = new Map<number, string | null>([[11, '1:2']]);
  const tracker = new GuardRootTracker((pid) => rootDirs.get(pid) ?? null);
  const processes = [proc(11, 'b', { at: 3n })];
  assert.equal(tracker.stale('b'), true, 'a container never given is stale');
  assert.deepEqual(tracker.update(processes), [{ id: 'b', pid: 11, pod: true }]);
  assert.equal(tracker.stale('b'), false);
  assert.equal(tracker.update(processes), null, 'nothing changed: nothing to give');
  rootDirs.set(11, '7:1'); // the process chrooted into its image after the agent first saw it
  assert.equal(tracker.stale('b'), true, 'its root moved');
  assert.deepEqual(tracker.update(processes), [{ id: 'b', pid: 11, pod: true }], 'given again, so the guard plans again');
  assert.equal(tracker.stale('b'), false);
  assert.equal(tracker.stale('other'), true);
});
