// Kernel test (root): descriptor tracking of watched opens (bpf/file/bpf_file_io.c). A process reads, preads,
// dup()s and writes through the copy, sendfile()s and mmaps a watched file; one close record carries exactly those
// totals and names the open's id, whether the process closes both descriptors or exits with them open. An
// unwatched file gives nothing, and the programs are attached only while a path is watched.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadFileSensor, type FileSensor } from './sensor.ts';
import { decodeFileRecord, type FileCloseRecord, type FileRecord, type FileSensorRecord } from './records.ts';
import { buildBpf, collect, type Collector } from '../core/test-support.ts';
import { buildFdIo, kernelFileSensorMode, runChild } from './test-support.ts';

const isOpen = (pid: number) => (r: FileSensorRecord): r is FileRecord => r.kind === 'file' && r.op === 'open' && r.pid === pid;
const isClose = (pid: number) => (r: FileSensorRecord): r is FileCloseRecord => r.kind === 'file-close' && r.pid === pid;

describe('file descriptor I/O (kernel)', () => {
  let sensor: FileSensor | undefined;
  let collector: Collector<FileSensorRecord> | undefined;
  let dir = '';
  let fdIo = '';
  const tag = randomBytes(4).toString('hex');

  before(() => {
    buildBpf();
    dir = mkdtempSync(join(tmpdir(), 'stinger-file-io-'));
    fdIo = buildFdIo(dir);
    sensor = loadFileSensor({ ignoredProcesses: [], mode: kernelFileSensorMode() });
    collector = collect(sensor, decodeFileRecord);
  });

  after(async () => {
    sensor?.filePolicy.clear();
    await collector?.reader.stop();
    sensor?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const watchedFile = (name: string): string => {
    const path = join(dir, `${name}-${tag}`);
    writeFileSync(path, randomBytes(8192));
    sensor!.filePolicy.addExact(path, { ruleId: 701, action: 'audit', ops: ['open'] });
    return path;
  };

  const expectTotals = (close: FileCloseRecord, openId: bigint | null): void => {
    assert.equal(close.openId, openId, 'the close names the open');
    assert.deepEqual(
      { bytesRead: close.bytesRead, reads: close.reads, bytesWritten: close.bytesWritten, writes: close.writes, bytesMapped: close.bytesMapped, maps: close.maps },
      // 3 reads of 100, a pread of 50, sendfile of 200 from it; 10 bytes written through the dup; one 4096-byte mmap.
      { bytesRead: 550n, reads: 5, bytesWritten: 10n, writes: 1, bytesMapped: 4096n, maps: 1 },
    );
  };

  test('the programs are attached only while a path is watched', () => {
    assert.equal(sensor!.io.attached, false, 'nothing watched yet');
    const path = watchedFile('attach');
    assert.equal(sensor!.io.attached, true);
    sensor!.filePolicy.removeExact(path);
    assert.equal(sensor!.io.attached, false, 'detached with the last path');
  });

  test('read, pread, dup + write, sendfile and mmap of a watched file, both descriptors closed: one close record with the totals', async () => {
    const path = watchedFile('closed');
    try {
      const run = await runChild(fdIo, [path, 'close']);
      assert.equal(run.code, 0, run.stdout);
      const [fd, copy] = run.stdout.trim().split(' ').map(Number);
      const open = await collector!.waitFor(isOpen(run.pid));
      assert.equal(open.result, fd);
      assert.ok(open.openId !== null, 'a successful watched open has an id');
      const close = await collector!.waitFor(isClose(run.pid));
      expectTotals(close, open.openId);
      assert.equal(close.reason, 'close');
      assert.equal(close.fd, copy, 'the last descriptor to go was the copy');
      assert.equal(close.comm, 'fd-io');
      await new Promise((resolve) => setTimeout(resolve, 100));
      collector!.drain();
      assert.equal(collector!.records.filter(isClose(run.pid)).length, 1, 'the first close (of two) wrote nothing');
    } finally {
      sensor!.filePolicy.removeExact(path);
    }
  });

  test('a process that exits with the descriptors open: the kernel closes the open at its exit, with the same totals', async () => {
    const path = watchedFile('exited');
    try {
      const run = await runChild(fdIo, [path, 'exit']);
      assert.equal(run.code, 0, run.stdout);
      const open = await collector!.waitFor(isOpen(run.pid));
      const close = await collector!.waitFor(isClose(run.pid));
      expectTotals(close, open.openId);
      assert.equal(close.reason, 'exit');
    } finally {
      sensor!.filePolicy.removeExact(path);
    }
  });

  test('the same I/O on an unwatched file, while another path is watched, writes no record', async () => {
    const watched = watchedFile('other');
    const unwatched = join(dir, `unwatched-${tag}`);
    writeFileSync(unwatched, randomBytes(8192));
    try {
      assert.equal(sensor!.io.attached, true, 'the hooks run');
      const run = await runChild(fdIo, [unwatched, 'close']);
      assert.equal(run.code, 0, run.stdout);
      await new Promise((resolve) => setTimeout(resolve, 200));
      collector!.drain();
      assert.deepEqual(collector!.records.filter((r) => r.pid === run.pid), []);
      assert.deepEqual(sensor!.io.losses(), { evicted: 0n, staleFd: 0n, sweepFull: 0n, untracked: 0n });
    } finally {
      sensor!.filePolicy.removeExact(watched);
    }
  });
});
