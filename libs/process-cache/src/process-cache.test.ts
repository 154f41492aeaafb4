import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProcessCache } from './process-cache.ts';
import type { ProcReader, ProcSnapshot } from './proc-reader.ts';

function fakeProc(snapshots: readonly ProcSnapshot[]): ProcReader & { reads: number[] } {
  const byPid = new Map(snapshots.map((s) => [s.pid, s]));
  const reads: number[] = [];
  return {
    reads,
    listPids: () => [...byPid.keys()],
    read: (pid) => {
      reads.push(pid);
      return byPid.get(pid) ?? null;
    },
  };
}

const init: ProcSnapshot = { pid: 1, ppid: 0, startTimeNs: 10_000_000n, uid: 0, gid: 0, binary: '/sbin/init', args: [], cwd: '/', cgroupPath: '/init.scope' };
const shell: ProcSnapshot = { pid: 100, ppid: 1, startTimeNs: 50_000_000n, uid: 1000, gid: 1000, binary: '/bin/bash', args: ['-l'], cwd: '/home/u', cgroupPath: '/user.slice' };

test('scan adds running processes with parent links, parents first', () => {
  const cache = new ProcessCache({ nodeName: 'n1', procReader: fakeProc([shell, init]) });
  assert.equal(cache.scan(), 2);
  assert.equal(cache.get(1)?.execId, 'n1:10000000:1');
  assert.equal(cache.get(100)?.parentExecId, 'n1:10000000:1');
  assert.equal(cache.get(100)?.cwd, '/home/u');
});

test('a fork tree gets correct parent exec ids, and exec gives a new exec id that keeps the cwd', () => {
  const cache = new ProcessCache({ nodeName: 'n1', procReader: fakeProc([init, shell]), cgroupPathOf: () => '/kubepods.slice/x/cri-containerd-' + 'a'.repeat(64) + '.scope' });
  cache.scan();
  const child = cache.fork({ parentPid: 100, childPid: 200, timeNs: 900n });
  assert.equal(child.execId, 'n1:900:200');
  assert.equal(child.parentExecId, 'n1:50000000:100');
  assert.equal(child.binary, '/bin/bash');
  assert.equal(child.cwd, '/home/u');
  cache.chdir(200, '../../etc');
  const execd = cache.exec({ pid: 200, timeNs: 950n, binary: '/usr/bin/cat', argv: ['cat', 'passwd'], uid: 1000, gid: 1000, cgroupId: 77n });
  assert.equal(execd.execId, 'n1:950:200');
  assert.equal(execd.parentExecId, 'n1:50000000:100');
  assert.deepEqual(execd.args, ['passwd']);
  assert.equal(execd.cwd, '/etc');
  assert.equal(execd.startTimeNs, 900n, 'start time is the fork, not the exec');
  assert.equal(execd.containerId, 'a'.repeat(64));
  const grandchild = cache.fork({ parentPid: 200, childPid: 201, timeNs: 990n });
  assert.equal(grandchild.parentExecId, 'n1:950:200');
});

test('exited processes still resolve until evicted, oldest first', () => {
  const cache = new ProcessCache({ nodeName: 'n', procReader: fakeProc([]), maxExited: 2 });
  for (const pid of [10, 11, 12]) {
    cache.fork({ parentPid: 1, childPid: pid, timeNs: BigInt(pid) });
    cache.exit(pid, BigInt(pid) + 100n);
  }
  assert.equal(cache.get(10), undefined);
  assert.equal(cache.get(11)?.exitTimeNs, 111n);
  assert.equal(cache.get(12)?.execId, 'n:12:12');
  // Each fork looked up the unknown parent pid 1: three misses.
  assert.deepEqual(cache.stats(), { live: 0, exited: 2, misses: 3, evicted: 1 });
});

test('an exited process stays resolvable for the retention time after its exit, then goes with the next exit', () => {
  const second = 1_000_000_000n;
  const cache = new ProcessCache({ nodeName: 'n', procReader: fakeProc([]), exitedRetentionNs: 60n * second });
  for (const pid of [10, 11]) cache.fork({ parentPid: 1, childPid: pid, timeNs: BigInt(pid) });
  cache.fork({ parentPid: 1, childPid: 12, timeNs: 12n });
  cache.exit(10, 5n * second);
  cache.exit(11, 30n * second);
  cache.exit(12, 65n * second); // 10 exited 60 s before: still kept (at most the retention), 11 too
  assert.deepEqual([cache.get(10)?.exitTimeNs, cache.get(11)?.exitTimeNs], [5n * second, 30n * second]);
  cache.fork({ parentPid: 1, childPid: 13, timeNs: 13n });
  cache.exit(13, 65n * second + 1n); // now 10 is past the retention; 11 is not
  assert.equal(cache.get(10), undefined);
  assert.equal(cache.get(11)?.exitTimeNs, 30n * second);
  assert.deepEqual({ exited: cache.stats().exited, evicted: cache.stats().evicted }, { exited: 3, evicted: 1 });
});

test('a steady rate of short processes keeps rate × retention exited entries, not maxExited', () => {
  const second = 1_000_000_000n;
  const cache = new ProcessCache({ nodeName: 'n', procReader: fakeProc([]), exitedRetentionNs: 10n * second, maxExited: 20_000 });
  // 25 processes a second for 10 minutes, each living 40 ms.
  for (let i = 0; i < 25 * 600; i++) {
    const at = BigInt(i) * 40_000_000n;
    cache.fork({ parentPid: 1, childPid: 1000 + (i % 30_000), timeNs: at });
    cache.exit(1000 + (i % 30_000), at + 40_000_000n);
  }
  assert.ok(cache.stats().exited <= 25 * 10 + 1, `${cache.stats().exited} exited entries kept`);
});

test('a recycled pid resolves to the running process, not the exited one', () => {
  const cache = new ProcessCache({ nodeName: 'n', procReader: fakeProc([]) });
  cache.fork({ parentPid: 1, childPid: 5, timeNs: 1n });
  cache.exit(5, 2n);
  cache.fork({ parentPid: 1, childPid: 5, timeNs: 3n });
  assert.equal(cache.get(5)?.execId, 'n:3:5');
  assert.equal(cache.get(5)?.exitTimeNs, null);
});

test('a miss is counted and answered from /proc when possible', () => {
  const proc = fakeProc([shell]);
  const cache = new ProcessCache({ nodeName: 'n', procReader: proc });
  assert.equal(cache.lookup(100)?.binary, '/bin/bash');
  assert.equal(cache.lookup(100)?.binary, '/bin/bash');
  assert.equal(cache.lookup(4242), null);
  assert.deepEqual(proc.reads, [100, 4242]);
  assert.equal(cache.stats().misses, 2);
});

test('live entries are bounded and sweep drops processes whose exit was lost', () => {
  const cache = new ProcessCache({ nodeName: 'n', procReader: fakeProc([]), maxLive: 3 });
  for (const pid of [1, 2, 3, 4]) cache.fork({ parentPid: 0, childPid: pid, timeNs: 1n });
  assert.equal(cache.stats().live, 3);
  assert.equal(cache.get(1), undefined);
  assert.equal(cache.sweep((pid) => pid !== 3), 1);
  assert.equal(cache.get(3)?.exitTimeNs, 0n);
  assert.equal(cache.stats().live, 2);
});

test('live() lists the running processes, not the exited ones', () => {
  const cache = new ProcessCache({ nodeName: 'n', procReader: { listPids: () => [], read: () => null } });
  cache.fork({ parentPid: 1, childPid: 10, timeNs: 1n });
  cache.fork({ parentPid: 1, childPid: 11, timeNs: 2n });
  cache.exit(10, 3n);
  assert.deepEqual([...cache.live()].map((p) => p.pid), [11]);
});

test("an exec into a cgroup the resolver does not know yet gets the cgroup's path once it does, and so do its forks", () => {
  // runc: forked in the host's cgroup, moved into the container's just before the exec of the entry process.
  const container = `/kubepods/besteffort/pod1/${'b'.repeat(64)}`;
  const known = new Map<bigint, string>([[1n, '/']]);
  const cache = new ProcessCache({ nodeName: 'n1', procReader: fakeProc([init]), cgroupPathOf: (id) => known.get(id) ?? null });
  cache.scan();
  cache.fork({ parentPid: 1, childPid: 300, timeNs: 1000n });
  const entry = cache.exec({ pid: 300, timeNs: 1100n, binary: '/usr/bin/bash', argv: ['bash'], uid: 0, gid: 0, cgroupId: 42n });
  assert.equal(entry.cgroupPath, '/init.scope', 'the path it had, while the id is unknown');
  const subshell = cache.fork({ parentPid: 300, childPid: 301, timeNs: 1200n });
  assert.equal(subshell.containerId, null);
  known.set(42n, container);
  assert.equal(cache.get(300)?.cgroupPath, container);
  assert.equal(cache.lookup(301)?.containerId, 'b'.repeat(64), 'the fork made before the path was known');
});

test('a process moved into another cgroup without an exec follows the cgroup id of its records, and its forks inherit it', () => {
  // runc exec: init forked in the runtime's host cgroup, then written into the container's cgroup.procs.
  const container = `/kubepods/besteffort/pod1/${'d'.repeat(64)}`;
  const known = new Map<bigint, string>([[1n, '/'], [5n, '/system.slice/containerd.service'], [42n, container]]);
  const cache = new ProcessCache({ nodeName: 'n1', procReader: fakeProc([init]), cgroupPathOf: (id) => known.get(id) ?? null });
  cache.scan();
  cache.exec({ pid: 1, timeNs: 900n, binary: '/usr/bin/runc', argv: ['runc'], uid: 0, gid: 0, cgroupId: 5n });
  cache.fork({ parentPid: 1, childPid: 400, timeNs: 1000n });
  assert.equal(cache.get(400, 0n)?.containerId, null, 'no cgroup id (0) changes nothing');
  assert.equal(cache.lookup(400, 5n)?.cgroupPath, '/system.slice/containerd.service', 'the same id changes nothing');
  const moved = cache.lookup(400, 42n);
  assert.deepEqual([moved?.cgroupId, moved?.cgroupPath, moved?.containerId], [42n, container, 'd'.repeat(64)]);
  assert.equal(cache.get(400)?.containerId, 'd'.repeat(64), 'kept without an id');
  assert.equal(cache.get(1)?.containerId, null, 'its parent stays where it is');
  const child = cache.fork({ parentPid: 400, childPid: 401, timeNs: 1100n });
  assert.equal(child.containerId, 'd'.repeat(64));
  // Moved again (its fork record says so) into a cgroup the resolver does not know yet: the child of that fork
  // keeps the old path until the new id resolves.
  const later = `/kubepods/besteffort/pod2/${'e'.repeat(64)}`;
  const grandchild = cache.fork({ parentPid: 401, childPid: 402, timeNs: 1200n, parentCgroupId: 77n });
  assert.deepEqual([cache.get(401)?.cgroupId, grandchild.cgroupId, grandchild.containerId], [77n, 77n, 'd'.repeat(64)]);
  known.set(77n, later);
  assert.equal(cache.get(402)?.containerId, 'e'.repeat(64));
  assert.equal(cache.get(401)?.containerId, 'e'.repeat(64));
});
