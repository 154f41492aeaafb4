import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpioArchive } from './cpio.ts';

test('busybox cpio unpacks the archive: directories, file bytes and modes, symlinks', () => {
  const data = Buffer.from('odd length: 13');
  const archive = cpioArchive([
    { kind: 'directory', path: 'bin' },
    { kind: 'file', path: 'bin/tool', data, mode: 0o755 },
    { kind: 'symlink', path: 'bin/sh', target: 'tool' },
    { kind: 'file', path: 'empty', data: new Uint8Array() },
  ]);
  assert.equal(archive.length % 4, 0, 'members are padded to 4 bytes');
  const dir = mkdtempSync(join(tmpdir(), 'stinger-cpio-'));
  try {
    writeFileSync(join(dir, 'a.cpio'), archive);
    execFileSync('/bin/busybox', ['cpio', '-i', '-d', '-F', join(dir, 'a.cpio')], { cwd: dir, stdio: 'pipe' });
    assert.deepEqual(readFileSync(join(dir, 'bin/tool')), data);
    assert.equal(statSync(join(dir, 'bin/tool')).mode & 0o777, 0o755);
    assert.equal(readlinkSync(join(dir, 'bin/sh')), 'tool');
    assert.equal(readFileSync(join(dir, 'empty')).length, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the archive ends with the TRAILER!!! member, and the same entries give the same bytes', () => {
  const entries = [{ kind: 'file', path: 'init', data: Buffer.from('#!/bin/sh\n') }] as const;
  const archive = cpioArchive(entries);
  assert.match(archive.toString('latin1'), /^070701/);
  assert.ok(archive.toString('latin1').includes('TRAILER!!!\0'));
  assert.deepEqual(cpioArchive(entries), archive);
});

test('an absolute or empty member path is refused', () => {
  assert.throws(() => cpioArchive([{ kind: 'directory', path: '/bin' }]), /must be relative: "\/bin"/);
  assert.throws(() => cpioArchive([{ kind: 'directory', path: '' }]), /must be relative/);
});
