import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commandLineOf, freePorts, isAlive, isPortFree, pollUntilGone, readFileTail, signalProcess } from './index.ts';

test('a process is alive until signalled, then gone; signalling it again is harmless', async () => {
  const child = spawn('sleep', ['30']);
  const pid = child.pid ?? 0;
  assert.equal(isAlive(pid), true);
  assert.deepEqual(commandLineOf(pid), ['sleep', '30']);
  signalProcess(pid, 'SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  assert.equal(await pollUntilGone(pid, 2000), true);
  assert.equal(isAlive(pid), false);
  assert.doesNotThrow(() => signalProcess(pid, 'SIGTERM'));
  assert.deepEqual(commandLineOf(pid), []);
});

test('free ports are distinct and bindable; a bound one is not free', async () => {
  const [a, b] = await freePorts('127.0.0.1', 2);
  assert.ok(a && b && a !== b);
  assert.equal(await isPortFree(a, '127.0.0.1'), true);
  const server = createServer().listen(a, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  assert.equal(await isPortFree(a, '127.0.0.1'), false);
  await new Promise((resolve) => server.close(resolve));
});

test('readFileTail returns the end of a file, or nothing for a missing one', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tail-test-'));
  try {
    writeFileSync(join(dir, 'log'), 'first line\nlast line\n');
    assert.equal(await readFileTail(join(dir, 'log'), 10), 'last line\n');
    assert.equal(await readFileTail(join(dir, 'missing'), 10), '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
