// Real file system, real /proc: the test process's own root is walked as the agent walks a traced process's.
import { after, before, describe, test } from 'node:test';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSymlinkResolver, followSymlinks, type FollowSymlinks } from './symlinks.ts';

let dir = '';
before(() => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), 'stinger-symlinks-')));
  mkdirSync(join(dir, 'real/sub'), { recursive: true });
  writeFileSync(join(dir, 'real/secret'), 'x');
  symlinkSync(join(dir, 'real/secret'), join(dir, 'link-to-secret'));
  symlinkSync('real/sub', join(dir, 'dirlink'));
  symlinkSync(join(dir, 'nowhere'), join(dir, 'dangling'));
  symlinkSync('loop-b', join(dir, 'loop-a'));
  symlinkSync('loop-a', join(dir, 'loop-b'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

// The plain walk and the resolver that remembers directories must give the same answers.
for (const [label, resolve] of [
  ['walk', followSymlinks],
  ['resolver', createSymlinkResolver()],
] as const satisfies readonly (readonly [string, FollowSymlinks])[]) {
describe(label, () => {
  const self = (path: string, followLast = true) => resolve({ pid: process.pid, hostProcess: false, path, followLast });

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
    assert.equal(self(`${dir}/dangling`), `${dir}/nowhere`, 'what an O_CREAT open through it creates');
    assert.equal(self(`${dir}/dangling`, false), `${dir}/dangling`);
    assert.equal(self(`${dir}/real/secret/x`), null, 'a file is not a directory');
    assert.equal(self(`${dir}/loop-a`), null, 'a loop gives up after 40 links, as the kernel (ELOOP)');
    assert.equal(self(`${dir}/no-dir/gone`), null);
    assert.equal(self(`${dir}/dirlink/..`, true), `${dir}/real`);
  });

  test('an exited process: host processes resolve in the agent root, others not at all', () => {
    const gone = 2 ** 22 + 1; // above pid_max's ceiling: never a live pid
    assert.equal(resolve({ pid: gone, hostProcess: true, path: `${dir}/link-to-secret`, followLast: true }), `${dir}/real/secret`);
    assert.equal(resolve({ pid: gone, hostProcess: false, path: `${dir}/link-to-secret`, followLast: true }), null);
    assert.equal(self('relative/path'), null);
  });

  // A process in another root (a container's rootfs, here a chroot with the host's /usr bound in): an absolute link
  // inside it points into its root, not the agent's, and the answer is the path as the process sees it.
  describe('a process under another root (root only)', { skip: process.getuid?.() !== 0 ? 'needs root for chroot and a bind mount' : false }, () => {
    let rootDir = '';
    let mounted = false;

    before(() => {
      rootDir = realpathSync(mkdtempSync(join(tmpdir(), 'stinger-chroot-')));
      mkdirSync(join(rootDir, 'usr'));
      execFileSync('mount', ['--bind', '-o', 'ro', '/usr', join(rootDir, 'usr')]);
      mounted = true;
      for (const name of ['bin', 'lib', 'lib64']) symlinkSync(`usr/${name}`, join(rootDir, name));
      mkdirSync(join(rootDir, 'data'));
      writeFileSync(join(rootDir, 'data/real'), 'x');
      symlinkSync('/data/real', join(rootDir, 'data/link')); // absolute: means <rootDir>/data/real to the process
    });

    after(() => {
      if (mounted) execFileSync('umount', [join(rootDir, 'usr')]);
      rmSync(rootDir, { recursive: true, force: true });
    });

    test('an absolute link resolves inside the process root, and the answer is in its own view', async () => {
      const child = spawn('chroot', [rootDir, '/bin/sleep', '30'], { stdio: 'ignore' });
      try {
        const pid = child.pid!;
        // chroot(8) execs sleep once it has changed root: wait for that.
        for (let i = 0; i < 200 && !/sleep/.test(readFileSync(`/proc/${pid}/comm`, 'utf8')); i++) await new Promise((r) => setTimeout(r, 10));
        assert.equal(resolve({ pid, hostProcess: false, path: '/data/link', followLast: true }), '/data/real');
        assert.equal(resolve({ pid, hostProcess: false, path: '/data/gone', followLast: true }), '/data/gone');
        assert.equal(resolve({ pid, hostProcess: false, path: '/../../data/link', followLast: true }), '/data/real', '`..` stops at its root');
        assert.equal(resolve({ pid: process.pid, hostProcess: true, path: '/data/link', followLast: true }), null, 'not there in the host root');
      } finally {
        child.kill('SIGKILL');
      }
    });
  });
});
}

test('the resolver reuses a resolved directory for ttlMs, then walks it again', () => {
  let clock = 0;
  const resolve = createSymlinkResolver({ ttlMs: 1000, now: () => clock });
  const link = join(dir, 'moving');
  symlinkSync('real', link);
  const ask = () => resolve({ pid: process.pid, hostProcess: false, path: `${link}/secret`, followLast: true });
  assert.equal(ask(), `${dir}/real/secret`);
  rmSync(link);
  symlinkSync('real/sub', link);
  clock = 999;
  assert.equal(ask(), `${dir}/real/secret`, 'within ttlMs: the directory as resolved before');
  clock = 1000;
  assert.equal(ask(), `${dir}/real/sub/secret`);
});

test('the resolver remembers a process root by its processKey for ttlMs', () => {
  let clock = 0;
  const resolve = createSymlinkResolver({ ttlMs: 1000, now: () => clock });
  const path = `${dir}/link-to-secret`;
  const gone = 2 ** 22 + 1;
  assert.equal(resolve({ pid: process.pid, hostProcess: false, path, followLast: true, processKey: 'n:1:1' }), `${dir}/real/secret`);
  // Same execution, asked about after its /proc entry went away: the root found before still answers.
  assert.equal(resolve({ pid: gone, hostProcess: false, path, followLast: true, processKey: 'n:1:1' }), `${dir}/real/secret`);
  clock = 1000;
  assert.equal(resolve({ pid: gone, hostProcess: false, path, followLast: true, processKey: 'n:1:1' }), null, 'then it is gone');
});

test('a process that exits between two events: its remembered root is dropped, host processes resolve in the agent root', async () => {
  const resolve = createSymlinkResolver();
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  const pid = child.pid!;
  const ask = (hostProcess: boolean) => resolve({ pid, hostProcess, path: `${dir}/link-to-secret`, followLast: true, processKey: `n:9:${pid}` });
  assert.equal(ask(true), `${dir}/real/secret`, 'while it runs, through /proc/<pid>/root');
  child.kill('SIGKILL');
  await once(child, 'exit');
  // /proc/<pid>/root now finds nothing: without the fallback the link itself would come back, unresolved.
  assert.equal(ask(true), `${dir}/real/secret`);
  assert.equal(ask(false), null, 'not a host process: nothing can be said');
});
