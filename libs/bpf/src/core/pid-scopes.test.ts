// scopeMembers (pure) and, on the real kernel (root), pid scopes deciding an exec rule at execve: a rule scoped to a
// shell with followChildren kills the shell's grandchild (SIGKILL at execve, the exec_rule record says killed) and
// spares a sibling shell running the same program; without followChildren the grandchild runs; members leave the
// map at exit, and releasing the scope empties it. The connect policy consults the same scopes: a deny-connect rule
// scoped to a shell refuses its child's connect (EPERM, denied record) and lets a sibling's through.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPidScopes, scopeMembers, statShowsRunning, type PidScopes } from './pid-scopes.ts';
import { pidScopeFlags, PID_SCOPE_RULE } from './rule-scope.ts';
import { loadProcessSensor, type Sensor } from './sensor.ts';
import { buildBpf, collect, runCleanup, type Collector } from './test-support.ts';
import { loadFileSensor, type FileSensor } from '../file/sensor.ts';
import { kernelFileSensorMode } from '../file/test-support.ts';
import { decodeFileRecord, type ExecRuleRecord, type FileSensorRecord } from '../file/records.ts';
import { attachConnectPolicy, type ConnectPolicy } from '../network/sensor.ts';
import { decodeNetworkRecord, type NetworkRecord } from '../network/records.ts';
import { buildTestHelper, createTestCgroup, type TestCgroup, type TestHelper } from '../network/test-support.ts';

test('statShowsRunning: a zombie, and a task whose exit began (PF_EXITING) while its state still reads R, are not running', () => {
  // pid (comm) state ppid pgrp session tty_nr tpgid flags ...; a comm may hold spaces and parentheses.
  const stat = (state: string, flags: number): string => `383 (sh (x) y) ${state} 380 380 380 0 -1 ${flags} 120 0 0 0 1 2 0 0 20 0 1 0 42`;
  assert.equal(statShowsRunning(stat('S', 0x400000)), true, 'sleeping, PF_RANDOMIZE only');
  assert.equal(statShowsRunning(stat('R', 0x400000)), true);
  assert.equal(statShowsRunning(stat('R', 0x400004)), false, 'exiting: its exit tracepoint may have run already');
  assert.equal(statShowsRunning(stat('D', 0x4)), false);
  assert.equal(statShowsRunning(stat('Z', 0x400000)), false, 'a zombie');
  assert.equal(statShowsRunning(stat('X', 0)), false);
  assert.equal(statShowsRunning(readFileSync('/proc/self/stat', 'utf8')), true, 'this process, as the kernel writes it');
});

test('scopeMembers: the running named pids, and with followChildren every descendant, nothing else', () => {
  // 1 ─ 10 ─ 11 ─ 12 ; 10 ─ 13 ; 1 ─ 20 ─ 21
  const parents = new Map([
    [1, 0],
    [10, 1],
    [11, 10],
    [12, 11],
    [13, 10],
    [20, 1],
    [21, 20],
  ]);
  assert.deepEqual([...scopeMembers({ pids: [10, 99], followChildren: false }, parents)], [10]);
  assert.deepEqual([...scopeMembers({ pids: [10], followChildren: true }, parents)].sort((a, b) => a - b), [10, 11, 12, 13]);
  assert.deepEqual([...scopeMembers({ pids: [11, 21], followChildren: true }, parents)].sort((a, b) => a - b), [11, 12, 21]);
  assert.deepEqual([...scopeMembers({ pids: [99], followChildren: true }, parents)], []);
});

test('pidScopeFlags: the flag and the slot above the family bits; a slot out of range is refused by name', () => {
  assert.equal(pidScopeFlags(undefined, (m) => new Error(m)), 0);
  assert.equal(pidScopeFlags(0, (m) => new Error(m)), PID_SCOPE_RULE.flag);
  assert.equal(pidScopeFlags(63, (m) => new Error(m)), (PID_SCOPE_RULE.flag | (63 << 16)) >>> 0);
  assert.throws(() => pidScopeFlags(64, (m) => new Error(`pidScope: ${m}`)), /pidScope: must be an integer in 0\.\.63, got 64/);
  assert.throws(() => pidScopeFlags(1.5, (m) => new Error(m)), /got 1\.5/);
});

describe('pid scopes (kernel)', () => {
  let processSensor: Sensor | undefined;
  let fileSensor: FileSensor | undefined;
  let scopes: PidScopes | undefined;
  /** One reader of the shared ring: the exec rule records and the connect policy's records alike. */
  let collector: Collector<FileSensorRecord | NetworkRecord> | undefined;
  const tag = randomBytes(4).toString('hex');
  const dir = mkdtempSync(join(tmpdir(), 'stinger-pid-scope-'));
  /** A copy of sleep under a name only this test uses: the exec rule names it. */
  const marker = join(dir, `marker-${tag}`);
  const started: number[] = [];
  let cgroup: TestCgroup | undefined;
  let helper: TestHelper | undefined;
  let server: Server | undefined;
  let connectPolicy: ConnectPolicy | undefined;

  before(async () => {
    buildBpf();
    copyFileSync('/bin/sleep', marker);
    processSensor = loadProcessSensor();
    fileSensor = loadFileSensor({ join: processSensor, mode: kernelFileSensorMode() }); // as the agent would on this kernel
    scopes = createPidScopes(processSensor);
    collector = collect(processSensor, (slice) => decodeFileRecord(slice) ?? decodeNetworkRecord(slice));
    helper = buildTestHelper();
    cgroup = createTestCgroup();
    connectPolicy = attachConnectPolicy({ sensor: processSensor, cgroupPath: cgroup.path });
    server = createServer((socket) => socket.resume().on('error', () => undefined)).listen(0, '127.0.0.1');
    await once(server, 'listening');
  });

  after(async () => {
    await runCleanup([
      () => {
        for (const pid of started) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
      },
      () => fileSensor?.execPolicy.clear(),
      () => connectPolicy?.close(),
      () => cgroup?.remove(),
      () => helper?.remove(),
      () => server?.close(),
      () => {
        for (const holder of ['follow', 'named-only', 'connect']) scopes?.release(holder);
      },
      () => collector?.reader.stop(),
      () => fileSensor?.close(),
      () => processSensor?.close(),
      () => rmSync(dir, { recursive: true, force: true }),
    ]);
  });

  /**
   * A shell that waits for `go`, then runs a shell that runs the marker (a command follows it, so the inner shell
   * forks it rather than exec it in place: the marker is the outer shell's grandchild), and exits with its status:
   * 137 when the marker was killed, 0 when it ran.
   */
  const shell = (go: string) => {
    const child = spawn('/bin/sh', ['-c', `while [ ! -e ${go} ]; do sleep 0.05; done; /bin/sh -c "${marker} 0; exit \\$?"; exit $?`], { stdio: 'ignore' });
    started.push(child.pid!);
    return { pid: child.pid!, exited: new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code))) };
  };

  const killedExec = (r: FileSensorRecord | NetworkRecord): r is ExecRuleRecord => r.kind === 'exec-rule' && r.path === marker;

  test('followChildren: the named shell\'s grandchild is killed at execve, in the kernel; a sibling shell\'s marker runs', { timeout: 30_000 }, async () => {
    const go = join(dir, 'go-follow');
    const named = shell(go);
    const sibling = shell(go);
    const slot = scopes!.acquire('follow', { pids: [named.pid], followChildren: true });
    assert.ok(scopes!.members(slot).includes(named.pid), 'the named shell is a member');
    assert.ok(!scopes!.members(slot).includes(sibling.pid), 'the sibling is not');
    fileSensor!.execPolicy.addExact(marker, { ruleId: 1601, action: 'kill', pidScope: slot });
    writeFileSync(go, '');

    assert.deepEqual(await Promise.all([named.exited, sibling.exited]), [137, 0], 'the grandchild was killed, the sibling\'s marker ran');
    const records = collector!.settle().filter(killedExec);
    assert.equal(records.length, 1, 'one exec-rule record: the sibling\'s exec matched no rule for it');
    const record = records[0]!;
    assert.equal(record.action, 'killed');
    assert.equal(record.ruleId, 1601);
    assert.notEqual(record.pid, named.pid);
    assert.notEqual(record.ppid, named.pid, 'a grandchild of the named shell, not its child');
    assert.notEqual(record.ppid, 0, 'its parent was learnt at fork');
    assert.deepEqual(scopes!.members(slot), [], 'every member left the map at its exit');
    fileSensor!.execPolicy.removeExact(marker);
    scopes!.release('follow');
  });

  test('without followChildren only the named process is in scope: its grandchild runs the marker', { timeout: 30_000 }, async () => {
    const go = join(dir, 'go-named');
    const named = shell(go);
    const slot = scopes!.acquire('named-only', { pids: [named.pid], followChildren: false });
    fileSensor!.execPolicy.addExact(marker, { ruleId: 1602, action: 'kill', pidScope: slot });
    writeFileSync(go, '');
    assert.equal(await named.exited, 0);
    assert.deepEqual(collector!.settle().filter((r) => killedExec(r) && r.ruleId === 1602), []);
    fileSensor!.execPolicy.removeExact(marker);
    scopes!.release('named-only');
  });

  test('releasing a scope removes its members from the map', { timeout: 10_000 }, () => {
    const child = spawn('/bin/sleep', ['30'], { stdio: 'ignore' });
    started.push(child.pid!);
    const slot = scopes!.acquire('release', { pids: [child.pid!], followChildren: true });
    assert.deepEqual(scopes!.members(slot), [child.pid!]);
    scopes!.release('release');
    assert.deepEqual(scopes!.members(slot), []);
    child.kill('SIGKILL');
  });

  test('the connect policy consults the scopes: a deny-connect rule scoped to a shell refuses its child\'s connect, a sibling\'s connects', { timeout: 30_000 }, async () => {
    const go = join(dir, 'go-connect');
    const port = (server!.address() as AddressInfo).port;
    // In the policy's cgroup, each shell waits, then runs the helper as its child, which prints `errno 1` or `ok …`.
    const connector = () => {
      const child = spawn('/bin/sh', ['-c', `echo $$ > "${cgroup!.path}/cgroup.procs" && while [ ! -e ${go} ]; do sleep 0.05; done; ${helper!.path} tcp-connect 127.0.0.1 ${port}; true`], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      started.push(child.pid!);
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      return { pid: child.pid!, output: once(child, 'close').then(() => stdout.trim()) };
    };
    const named = connector();
    const sibling = connector();
    const slot = scopes!.acquire('connect', { pids: [named.pid], followChildren: true });
    connectPolicy!.rules.addDeny({ cidr: '127.0.0.1/32', port, ruleId: 1603, pidScope: slot });
    writeFileSync(go, '');

    assert.equal(await named.output, 'errno 1', 'EPERM for the named shell\'s child');
    assert.match(await sibling.output, /^ok /, 'the sibling connects');
    const denied = collector!.settle().filter((r): r is NetworkRecord => r.kind === 'connect' && r.ruleId === 1603);
    assert.equal(denied.length, 1, 'one denied connect');
    assert.equal(denied[0]!.action, 'denied');
    assert.notEqual(denied[0]!.pid, named.pid, 'the child connected, not the shell');
    connectPolicy!.rules.remove({ cidr: '127.0.0.1/32', port });
    scopes!.release('connect');
  });
});
