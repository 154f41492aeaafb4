import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createProcReader, parseStat, parseStatusIds, parseCgroupV2Path } from './proc-reader.ts';

test('stat parsing survives spaces and parentheses in the command name', () => {
  const stat = '4242 (my (weird) cmd) S 17 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 123456 1000 10 18446744073709551615';
  assert.deepEqual(parseStat(stat), { ppid: 17, startTicks: 123456n });
  assert.equal(parseStat('garbage'), null);
});

test('status and cgroup parsing', () => {
  assert.deepEqual(parseStatusIds('Name:\tx\nUid:\t1000\t1000\t1000\t1000\nGid:\t100\t100\t100\t100\n'), { uid: 1000, gid: 100 });
  assert.equal(parseCgroupV2Path('12:memory:/x\n0::/user.slice/session-1.scope\n'), '/user.slice/session-1.scope');
  assert.equal(parseCgroupV2Path('12:memory:/x\n'), null);
});

test('reads this very process from the real /proc', () => {
  const reader = createProcReader();
  assert.ok(reader.listPids().includes(process.pid));
  const me = reader.read(process.pid);
  assert.ok(me);
  assert.equal(me.ppid, process.ppid);
  assert.equal(me.binary, process.execPath);
  assert.equal(me.cwd, process.cwd());
  assert.equal(me.uid, process.getuid?.());
  assert.ok(me.startTimeNs > 0n);
  assert.equal(reader.read(2 ** 22 + 1), null);
});
