// Kernel test (root): the process sensor on the running kernel reports exec, fork and exit of real processes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { loadProcessSensor, type Sensor } from '../core/sensor.ts';
import { decodeProcessRecord, type ExecRecord, type ExitRecord, type ForkRecord, type ProcessRecord } from './records.ts';
import { buildBpf, collect, type Collector } from '../core/test-support.ts';

async function run(file: string, args: readonly string[]): Promise<{ pid: number; code: number | null; signal: string | null }> {
  const child = spawn(file, args, { stdio: 'ignore' });
  const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
  assert.ok(child.pid !== undefined);
  return { pid: child.pid, code, signal };
}

const isExecOf =
  (pid: number) =>
  (r: ProcessRecord): r is ExecRecord =>
    r.kind === 'exec' && r.pid === pid;
const isForkOf =
  (pid: number) =>
  (r: ProcessRecord): r is ForkRecord =>
    r.kind === 'fork' && r.childPid === pid;
const isExitOf =
  (pid: number) =>
  (r: ProcessRecord): r is ExitRecord =>
    r.kind === 'exit' && r.pid === pid;

describe('process sensor (kernel)', () => {
  let sensor: Sensor | undefined;
  let collector: Collector<ProcessRecord> | undefined;

  before(() => {
    buildBpf();
    sensor = loadProcessSensor();
    collector = collect(sensor, decodeProcessRecord);
  });

  after(async () => {
    await collector?.reader.stop();
    sensor?.close();
  });

  test('an exec record names the binary, its arguments and the pid of /bin/true a b c', async () => {
    const { pid, code } = await run('/bin/true', ['a', 'b', 'c']);
    assert.equal(code, 0);
    const exec = await collector!.waitFor(isExecOf(pid));
    assert.equal(exec.binary, '/bin/true');
    assert.deepEqual(exec.args, ['/bin/true', 'a', 'b', 'c']);
    assert.equal(exec.tid, pid);
    assert.equal(exec.comm, 'true');
    assert.equal(exec.ppid, process.pid);
    assert.equal(exec.argsTruncated, false);
    assert.equal(exec.uid, process.getuid!());
  });

  test('a fork record carries the parent pid and the new child pid', async () => {
    const { pid } = await run('/bin/true', []);
    const fork = await collector!.waitFor(isForkOf(pid));
    assert.equal(fork.pid, process.pid);
    const exec = await collector!.waitFor(isExecOf(pid));
    assert.ok(exec.timeNs > fork.timeNs, 'the exec is reported after the fork that made the process');
  });

  test("an exit record carries the exit code of sh -c 'exit 3'", async () => {
    const { pid, code } = await run('/bin/sh', ['-c', 'exit 3']);
    assert.equal(code, 3);
    const exit = await collector!.waitFor(isExitOf(pid));
    assert.equal(exit.statusKnown, true);
    assert.equal(exit.code, 3);
    assert.equal(exit.signal, null);
    assert.equal(exit.ppid, process.pid);
  });

  test('an exit record carries the signal of a process killed by SIGKILL', async () => {
    const { pid, signal } = await run('/bin/sh', ['-c', 'kill -KILL $$']);
    assert.equal(signal, 'SIGKILL');
    const exit = await collector!.waitFor(isExitOf(pid));
    assert.equal(exit.signal, 9);
    assert.equal(exit.code, null);
  });

  test('long argument lists are cut at EXEC_ARGS_SIZE and flagged', async () => {
    const long = Array.from({ length: 40 }, (_, i) => `${i}`.padEnd(60, 'x'));
    const { pid } = await run('/bin/true', long);
    const exec = await collector!.waitFor(isExecOf(pid));
    assert.equal(exec.argsTruncated, true);
    assert.deepEqual(exec.args.slice(0, 5), ['/bin/true', ...long.slice(0, 4)]);
    assert.ok(exec.args.join('\0').length < 1024);
  });

  test('threads are not reported as processes and no record was lost', async () => {
    const script = 'const { Worker } = require("node:worker_threads"); new Worker("0", { eval: true });';
    const { pid, code } = await run(process.execPath, ['-e', script]);
    assert.equal(code, 0);
    await collector!.waitFor(isExitOf(pid));
    const forksByChild = collector!.records.filter((r): r is ForkRecord => r.kind === 'fork' && r.pid === pid);
    assert.deepEqual(forksByChild, [], 'a Node process with worker and libuv threads made no process');
    assert.equal(sensor!.lostRecords(), 0n);
    assert.equal(collector!.reader.stats().droppedInUserSpace, 0);
  });
});
