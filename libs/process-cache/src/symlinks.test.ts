// Real file system, real /proc: the test process's own root is walked as the agent walks a traced process's.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { followSymlinks } from './symlinks.ts';

let dir = '';
before(() => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), 'stinger-symlinks-')));
  mkdirSync(join(dir, 'real/sub'), { recursive: true });
  writeFileSync(join(dir, 'real/secret'), 'x');
  symlinkSync(join(dir, 'real/secret'), join(dir, 'link-to-secret'));
  symlinkSync('real/sub', join(dir, 'dirlink'));
  symlinkSync(join(dir, 'nowhere'), join(dir, 'dangling'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const self = (path: string, followLast = true) => followSymlinks({ pid: process.pid, hostProcess: false, path, followLast });

test('a symlink to a file resolves to its target; without following, to the link itself', () => {
  assert.equal(self(`${dir}/link-to-secret`), `${dir}/real/secret`);
  assert.equal(self(`${dir}/link-to-secret`, false), `${dir}/link-to-secret`);
});

test('".." after a directory symlink goes up from the target, as the kernel does (not lexically)', () => {
  // Lexically dirlink/../secret would be <dir>/secret; the kernel reaches <dir>/real/secret.
  assert.equal(self(`${dir}/dirlink/../secret`), `${dir}/real/secret`);
  assert.equal(self(`${dir}//real/./sub/../secret`), `${dir}/real/secret`);
});

test('a path that does not exist resolves its directory and keeps its last component', () => {
  assert.equal(self(`${dir}/dirlink/gone`), `${dir}/real/sub/gone`);
  assert.equal(self(`${dir}/dangling`), `${dir}/dangling`);
  assert.equal(self(`${dir}/no-dir/gone`), null);
  assert.equal(self(`${dir}/dirlink/..`, true), `${dir}/real`);
});

test('an exited process: host processes resolve in the agent root, others not at all', () => {
  const gone = 2 ** 22 + 1; // above pid_max's ceiling: never a live pid
  assert.equal(followSymlinks({ pid: gone, hostProcess: true, path: `${dir}/link-to-secret`, followLast: true }), `${dir}/real/secret`);
  assert.equal(followSymlinks({ pid: gone, hostProcess: false, path: `${dir}/link-to-secret`, followLast: true }), null);
  assert.equal(self('relative/path'), null);
});
