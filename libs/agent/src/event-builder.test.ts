import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProcessCache, type FollowSymlinks, type ProcessInfo, type SymlinkRequest } from '@stinger/process-cache';
import { decodeRawEvent, encodeRawEvent } from '@stinger/events';
import { EventBuilder, processMatches, toProcess, type UnsequencedEvent } from './event-builder.ts';
import { guardRecordOf } from './guard-records.ts';
import { execRecord, execRuleRecord, fileCloseRecord, fileRecord, forkRecord, namespaceRecord, networkRecord } from './test-records.ts';

/** Every built event must be a valid RawEvent: encode it (the schema check) and decode it back. */
function encodable(event: UnsequencedEvent | null): UnsequencedEvent | null {
  if (event) assert.equal(decodeRawEvent(encodeRawEvent({ ...event, seq: 0n })).id, event.id);
  return event;
}

function builder(fdPaths: Record<string, string> = {}, followSymlinks: FollowSymlinks = () => null) {
  const cache = new ProcessCache({ nodeName: 'n', procReader: { listPids: () => [], read: () => null } });
  const inner = new EventBuilder({
    nodeName: 'n',
    agentId: 'a',
    bootId: null,
    bootToWallNs: 0n,
    cache,
    ruleOrigin: (id) => (id === 7 ? { policy: 'deny-shadow', rule: 'no-shadow-read' } : undefined),
    readFdPath: (pid, fd) => fdPaths[`${pid}/${fd}`] ?? null,
    followSymlinks,
  });
  cache.fork({ parentPid: 1, childPid: 50, timeNs: 1n });
  const events = { build: (record: Parameters<EventBuilder['build']>[0]) => encodable(inner.build(record)) };
  return { cache, events, stats: () => inner.stats() };
}

test('`cd /etc && cat passwd`: the relative open resolves against the cwd tracked from chdir', () => {
  const { events } = builder();
  events.build(fileRecord({ pid: 50, op: 'chdir', path: '/etc' }));
  events.build(forkRecord({ timeNs: 2n, pid: 50, childPid: 51 }));
  events.build(execRecord({ timeNs: 3n, pid: 51, binary: '/usr/bin/cat', args: ['cat', 'passwd'] }));
  const open = events.build(fileRecord({ pid: 51, op: 'open', path: 'passwd', result: 3 }));
  assert.equal(open?.kind, 'file');
  assert.ok(open?.payload.group === 'file');
  assert.equal(open.payload.path, '/etc/passwd');
  assert.equal(open.payload.path_as_given, 'passwd');
  assert.equal(open.process.cwd, '/etc');
});

test('dirfd-relative paths resolve through the fd, dot-dots and double slashes are normalised', () => {
  const { events } = builder({ '50/5': '/var/lib' });
  const viaFd = events.build(fileRecord({ pid: 50, op: 'open', path: '../log//syslog', dirfd: 5 }));
  assert.ok(viaFd?.payload.group === 'file');
  assert.equal(viaFd.payload.path, '/var/log/syslog');
  const unknown = events.build(fileRecord({ pid: 50, op: 'open', path: 'x', dirfd: 9 }));
  assert.ok(unknown?.payload.group === 'file');
  assert.equal(unknown.payload.path, 'x', 'unresolvable: the given string, visibly relative');
});

test('a kernel kill names the policy and rule; an unknown rule id is still visible', () => {
  const { events } = builder();
  const killed = events.build(fileRecord({ pid: 50, op: 'open', path: '/etc/shadow', ruleId: 7, action: 'killed', result: null }));
  assert.deepEqual(killed?.action, { kind: 'sigkill', policy: 'deny-shadow', rule: 'no-shadow-read' });
  const audited = events.build(fileRecord({ pid: 50, op: 'open', path: '/etc/shadow', ruleId: 7, action: 'audit' }));
  assert.equal(audited?.action, null);
  const denied = events.build(networkRecord({ pid: 50, kind: 'connect', ruleId: 99, action: 'denied', result: -1 }));
  assert.deepEqual(denied?.action, { kind: 'deny', policy: 'rule-id:99', rule: '99' });
});

test('network records: remote address for connect and accept, local for bind and listen', () => {
  const { events } = builder();
  const connect = events.build(networkRecord({ pid: 50, kind: 'connect', address: '10.0.0.1', port: 443 }));
  assert.ok(connect?.payload.group === 'network');
  assert.deepEqual([connect.kind, connect.payload.daddr, connect.payload.dport, connect.payload.saddr, connect.payload.protocol], ['connect', '10.0.0.1', 443, null, 'tcp']);
  const listen = events.build(networkRecord({ pid: 50, kind: 'listen', address: '0.0.0.0', port: 8080 }));
  assert.ok(listen?.payload.group === 'network');
  assert.deepEqual([listen.payload.saddr, listen.payload.sport, listen.payload.daddr], ['0.0.0.0', 8080, null]);
});

test('namespace records carry the /proc/<pid>/ns names libs/bpf decoded', () => {
  const { events } = builder();
  const event = events.build(namespaceRecord({ pid: 50, namespaces: ['net', 'mnt'] }));
  assert.ok(event?.payload.group === 'namespace');
  assert.deepEqual(event.payload.namespaces, ['net', 'mnt']);
  assert.equal(event.payload.op, 'unshare');
  assert.equal(event.payload.fd, null);
});

test('symlinks: the walk gets the unnormalised absolute path and follows the last component only when the syscall did', () => {
  const requests: SymlinkRequest[] = [];
  const { events, stats } = builder({}, (request) => {
    requests.push(request);
    return request.path.endsWith('/lexical') ? null : `/followed${request.path}`;
  });
  events.build(fileRecord({ pid: 50, op: 'chdir', path: '/srv/link' }));
  const open = events.build(fileRecord({ pid: 50, op: 'open', path: '../x', result: 3 }));
  assert.ok(open?.payload.group === 'file');
  assert.equal(open.payload.path, '/followed/followed/srv/link/../x', 'cwd from the followed chdir, then `..` left to the walk');
  const noFollow = events.build(fileRecord({ pid: 50, op: 'open', path: '/a', openFlags: 0o400000 }));
  const unlink = events.build(fileRecord({ pid: 50, op: 'unlink', path: '/b' }));
  const lchown = events.build(fileRecord({ pid: 50, op: 'chown', path: '/c', openFlags: 0x100 }));
  const chmod = events.build(fileRecord({ pid: 50, op: 'chmod', path: '/d' }));
  const lexical = events.build(fileRecord({ pid: 50, op: 'open', path: '/tmp/..//lexical' }));
  assert.ok(noFollow && unlink && lchown && chmod);
  assert.deepEqual(
    requests.map((r) => [r.path, r.followLast, r.hostProcess]),
    [
      ['/srv/link', true, true],
      ['/followed/srv/link/../x', true, true],
      ['/a', false, true],
      ['/b', false, true],
      ['/c', false, true],
      ['/d', true, true],
      ['/tmp/..//lexical', true, true],
    ],
  );
  assert.ok(lexical?.payload.group === 'file');
  assert.equal(lexical.payload.path, '/lexical', 'no walk: normalised as a string');
  assert.deepEqual(stats(), { followedPaths: 6, lexicalPaths: 1, closesWithoutOpen: 0 });
});

test('an open the file_open LSM hook resolved: the event names the kernel\'s path, no walk, and keeps the path as given', () => {
  const requests: SymlinkRequest[] = [];
  const { events, stats } = builder({}, (request) => {
    requests.push(request);
    return null;
  });
  const open = events.build(fileRecord({ pid: 50, op: 'open', path: 'link-to-secret', resolvedPath: '/srv/secret/data', action: 'denied', ruleId: 7, result: -1 }));
  assert.ok(open?.payload.group === 'file');
  assert.deepEqual([open.payload.path, open.payload.path_as_given, open.payload.result], ['/srv/secret/data', 'link-to-secret', -1]);
  assert.equal(open.action?.kind, 'deny');
  assert.deepEqual([requests.length, stats().followedPaths], [0, 0], 'nothing left to resolve in user space');
});

test('fchdir: the directory behind the descriptor becomes the cwd, and is handed to onFchdir for the kernel', () => {
  const learnt: [number, string][] = [];
  const cache = new ProcessCache({ nodeName: 'n', procReader: { listPids: () => [], read: () => null } });
  cache.fork({ parentPid: 1, childPid: 50, timeNs: 1n });
  const builder = new EventBuilder({
    nodeName: 'n',
    agentId: 'a',
    bootId: null,
    bootToWallNs: 0n,
    cache,
    readFdPath: (pid, fd) => (pid === 50 && fd === 7 ? '/var/lib/app' : null),
    followSymlinks: () => null,
    onFchdir: (pid, cwd) => learnt.push([pid, cwd]),
  });
  assert.equal(builder.build(fileRecord({ pid: 50, op: 'fchdir', path: '', dirfd: 7, result: 0 })), null);
  assert.deepEqual(learnt, [[50, '/var/lib/app']]);
  assert.equal(cache.get(50)?.cwd, '/var/lib/app');
  builder.build(fileRecord({ pid: 50, op: 'fchdir', path: '', dirfd: 9, result: -9 }));
  assert.equal(learnt.length, 1, 'a failed fchdir changes nothing');
});

test('an exec names the binary the kernel found (symlinks followed, relative to the cwd) and keeps the filename as given', () => {
  const { events } = builder({}, (request) => (request.path === '/opt/app/./run' ? '/opt/app/releases/3/run' : null));
  events.build(fileRecord({ pid: 50, op: 'chdir', path: '/opt/app' }));
  const exec = events.build(execRecord({ timeNs: 3n, pid: 50, binary: './run', args: ['./run'] }));
  assert.ok(exec?.payload.group === 'exec');
  assert.equal(exec.process.binary, '/opt/app/releases/3/run');
  assert.equal(exec.payload.filename, './run');
});

test('a file guard refusal becomes a denied open (or exec) naming the file, the name given and how it was reached', () => {
  const { cache, events } = builder();
  events.build(execRecord({ timeNs: 3n, pid: 50, binary: '/usr/bin/cat', args: ['cat', '/tmp/link'] }));
  const decision = {
    ruleId: 9,
    policy: 'deny-shadow',
    rule: 'no-shadow',
    action: 'deny' as const,
    event: 'file' as const,
    pid: 50,
    timeNs: 5_000n,
    path: '/etc/shadow',
    pathAsGiven: '/tmp/link',
    reachedBy: 'symlink' as const,
    flags: 0,
    sha256: null,
    answerMicros: 40,
  };
  const open = events.build(guardRecordOf(decision, cache.lookup(50), 0n));
  assert.ok(open?.payload.group === 'file');
  assert.deepEqual([open.payload.path, open.payload.path_as_given, open.payload.reached_by, open.payload.result], ['/etc/shadow', '/tmp/link', 'symlink', -1]);
  assert.deepEqual({ ...open.action }, { kind: 'deny', policy: 'deny-shadow', rule: 'no-shadow' });
  assert.equal(open.process.binary, '/usr/bin/cat');
  assert.equal(open.time, 5_000n, 'the worker wall time is the event time (with the same boot-to-wall offset as the builder)');
  const exec = events.build(guardRecordOf({ ...decision, event: 'exec', action: 'kill', path: '/usr/bin/nc', sha256: 'ab'.repeat(32) }, cache.lookup(50), 0n));
  assert.ok(exec?.payload.group === 'exec');
  assert.equal(exec.kind, 'exec');
  assert.deepEqual([exec.payload.filename, exec.payload.sha256, exec.action?.kind], ['/usr/bin/nc', 'ab'.repeat(32), 'sigkill']);
});

test('a close record becomes a file close event with the path, given path and flags of its open and the I/O totals', () => {
  const { events, stats } = builder();
  events.build(fileRecord({ pid: 50, op: 'chdir', path: '/etc' }));
  events.build(fileRecord({ pid: 50, op: 'open', path: 'passwd', result: 3, openFlags: 0o2000000, openId: 77n }));
  const close = events.build(
    fileCloseRecord({ pid: 50, openId: 77n, bytesRead: 2150n, reads: 3, bytesWritten: 10n, writes: 1, bytesMapped: 4096n, maps: 1, reason: 'exit' }),
  );
  assert.equal(close?.kind, 'file');
  assert.ok(close?.payload.group === 'file');
  assert.deepEqual(
    { op: close.payload.op, path: close.payload.path, given: close.payload.path_as_given, flags: close.payload.flags, result: close.payload.result },
    { op: 'close', path: '/etc/passwd', given: 'passwd', flags: 0o2000000, result: 0 },
  );
  assert.deepEqual(close.payload.io, { bytes_read: 2150n, bytes_written: 10n, reads: 3n, writes: 1n, bytes_mapped: 4096n, closed_by: 'exit' });
  assert.equal(events.build(fileCloseRecord({ pid: 50, openId: 77n })), null, 'an open is closed once: a second close of its id is unknown');
  assert.equal(events.build(fileCloseRecord({ pid: 50, openId: 78n })), null, 'a close whose open was never seen');
  assert.equal(stats().closesWithoutOpen, 2);
  const open = events.build(fileRecord({ pid: 50, op: 'open', path: '/etc/hosts', result: 4 }));
  assert.ok(open?.payload.group === 'file');
  assert.equal(open.payload.io, null, 'every other file event has io null');
});

test("kubectl exec's process killed at its execve is reported in the container it was moved into, not in runc's host cgroup", () => {
  // runc forks its init on the host (containerd's cgroup), writes it into the running container's cgroup.procs (no
  // record: a cgroup move is no syscall the sensors watch) and init execs the command, which a kernel rule kills at
  // the execve's entry: no exec record follows, so only the kill record's cgroup id tells where the process is.
  const containerId = 'c'.repeat(64);
  const paths = new Map<bigint, string>([[1n, '/system.slice/containerd.service'], [42n, `/kubepods/besteffort/pod1/${containerId}`]]);
  const cache = new ProcessCache({ nodeName: 'n', procReader: { listPids: () => [], read: () => null }, cgroupPathOf: (id) => paths.get(id) ?? null });
  const events = new EventBuilder({ nodeName: 'n', agentId: 'a', bootId: null, bootToWallNs: 0n, cache, ruleOrigin: () => ({ policy: 'no-head', rule: 'head' }), followSymlinks: () => null });
  events.build(execRecord({ timeNs: 1n, pid: 60, binary: '/usr/bin/runc', args: ['runc', 'exec'] }));
  events.build(forkRecord({ timeNs: 2n, pid: 60, childPid: 61 }));
  assert.equal(cache.get(61)?.containerId, null, 'forked on the host');
  const killed = encodable(events.build(execRuleRecord({ timeNs: 3n, pid: 61, path: '/usr/bin/head', cgroupId: 42n, ruleId: 7 })));
  assert.deepEqual(killed?.action, { kind: 'sigkill', policy: 'no-head', rule: 'head' });
  assert.equal(killed?.process.container_id, containerId);
  assert.equal(killed?.process.cgroup_path, `/kubepods/besteffort/pod1/${containerId}`);
  assert.equal(killed?.process.cgroup_id, 42n);
  assert.equal(killed?.parent?.container_id, null, 'runc itself stays on the host');
});

test('an unchanged process keeps its Process object; a changed cwd, cgroup, binary or another thread gets a new one', () => {
  const { events } = builder();
  events.build(forkRecord({ timeNs: 2n, pid: 50, childPid: 51 }));
  events.build(execRecord({ timeNs: 3n, pid: 51, binary: '/usr/bin/cat', args: ['cat', 'a'] }));
  const first = events.build(fileRecord({ pid: 51, op: 'open', path: '/a' }));
  const second = events.build(fileRecord({ pid: 51, op: 'open', path: '/b' }));
  assert.ok(first && second && first.parent && second.parent);
  assert.equal(second.process, first.process, 'same process, same fields: the same object');
  assert.equal(second.parent, first.parent, 'same parent: the same object');

  events.build(fileRecord({ pid: 51, op: 'chdir', path: '/tmp' }));
  const moved = events.build(fileRecord({ pid: 51, op: 'open', path: '/c' }));
  assert.ok(moved);
  assert.notEqual(moved.process, first.process);
  assert.equal(moved.process.cwd, '/tmp');
  assert.equal(first.process.cwd, null, 'the object published before the chdir is not changed');
  assert.equal(moved.parent, first.parent, 'the parent did not change');

  const recgrouped = events.build(fileRecord({ pid: 51, op: 'open', path: '/d', cgroupId: 4242n }));
  assert.ok(recgrouped);
  assert.notEqual(recgrouped.process, moved.process);
  assert.equal(recgrouped.process.cgroup_id, 4242n);
  assert.notEqual(moved.process.cgroup_id, 4242n);

  const exec = events.build(execRecord({ timeNs: 4n, pid: 51, binary: '/usr/bin/tail', args: ['tail', 'a'] }));
  const afterExec = events.build(fileRecord({ pid: 51, op: 'open', path: '/e', cgroupId: 4242n }));
  assert.ok(exec && afterExec);
  assert.notEqual(afterExec.process, recgrouped.process);
  assert.equal(afterExec.process.binary, '/usr/bin/tail');
  assert.equal(recgrouped.process.binary, '/usr/bin/cat');

  const otherThread = events.build(fileRecord({ pid: 51, tid: 52, op: 'open', path: '/f', cgroupId: 4242n }));
  assert.ok(otherThread);
  assert.notEqual(otherThread.process, afterExec.process);
  assert.equal(otherThread.process.tid, 52);
  assert.equal(events.build(fileRecord({ pid: 51, op: 'open', path: '/g', cgroupId: 4242n }))?.process, afterExec.process, 'back on the first thread: its object again');
});

test('processMatches tells a Process from what any changed ProcessInfo field or tid would make', () => {
  const info: ProcessInfo = {
    execId: 'n:1:51', pid: 51, ppid: 50, uid: 1000, gid: 1000, binary: '/usr/bin/cat', args: ['a', 'b'], cwd: '/', startTimeNs: 1n,
    cgroupId: 7n, cgroupPath: '/kubepods/x', containerId: 'abc', parentExecId: 'n:1:50', exitTimeNs: null,
  };
  const process = toProcess(info, 52);
  assert.equal(processMatches(process, { ...info, args: [...info.args] }, 52), true);
  assert.equal(processMatches(process, info, 51), false, 'another thread');
  const changes: Partial<ProcessInfo>[] = [
    { execId: 'n:2:51' }, { pid: 53 }, { uid: 0 }, { gid: 0 }, { binary: '/usr/bin/tail' }, { args: ['a'] }, { args: ['a', 'c'] }, { cwd: null },
    { startTimeNs: 2n }, { cgroupId: null }, { cgroupPath: '/other' }, { containerId: null }, { parentExecId: null },
  ];
  for (const change of changes) assert.equal(processMatches(process, { ...info, ...change }, 52), false, JSON.stringify(change, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v)));
});
