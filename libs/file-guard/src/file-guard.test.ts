// The file guard against the real kernel (root): a deny or kill rule on a file holds whatever name a process
// uses for it, an allowed twin stays readable, binaries are stopped by inode and by digest, and files created
// below a guarded directory later are covered.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createLogger } from '@stinger/log';
import type { GuardRule } from './guard-rules.ts';
import { startFileGuard, type FileGuard } from './file-guard.ts';
import type { GuardDecision } from './protocol.ts';

const root = mkdtempSync(join(tmpdir(), 'stinger-guard-'));
const secret = join(root, 'etc', 'shadow');
const twin = join(root, 'etc', 'passwd');
const vault = join(root, 'vault');
const decisions: GuardDecision[] = [];
let guard: FileGuard;

function rule(overrides: Partial<GuardRule> & Pick<GuardRule, 'ruleId' | 'rule' | 'targets'>): GuardRule {
  return { policy: 'guard-test', scope: 'all', event: 'file', action: 'deny', sha256: [], exclude: {}, ...overrides };
}

/** Runs a shell script as a child (the guard allows only its own process without asking). */
function sh(script: string, cwd = root): { status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string } {
  const result = spawnSync('sh', ['-c', script], { cwd, encoding: 'utf8' });
  return { status: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
}

/** Inodes on which this process's fanotify groups ignore exec permission events (from /proc/self/fdinfo). */
function execIgnored(): Set<number> {
  const inodes = new Set<number>();
  for (const fd of readdirSync('/proc/self/fdinfo')) {
    let text: string;
    try {
      text = readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
    } catch {
      continue;
    }
    for (const match of text.matchAll(/^fanotify ino:([0-9a-f]+) .*ignored_mask:([0-9a-f]+)/gm)) {
      if ((parseInt(match[2] ?? '0', 16) & 0x40000) !== 0) inodes.add(parseInt(match[1] ?? '0', 16));
    }
  }
  return inodes;
}

async function settled(): Promise<void> {
  // Marks follow a rules message within the worker's next loop turn (at most ~100 ms); decisions arrive as messages.
  await new Promise((resolve) => setTimeout(resolve, 300));
}

before(async () => {
  mkdirSync(join(root, 'etc'));
  mkdirSync(join(vault, 'deep'), { recursive: true });
  writeFileSync(secret, 'root:secret-hash\n');
  writeFileSync(twin, 'root:x:0:0\n');
  writeFileSync(join(vault, 'deep', 'key'), 'vault key\n');
  mkdirSync(join(root, 'bin'));
  copyFileSync('/usr/bin/true', join(root, 'bin', 'forbidden'));
  guard = await startFileGuard({ logger: createLogger({ name: 'test', level: 'silent' }), onDecision: (d) => decisions.push(d) });
  assert.equal(guard.unavailableReason(), null, 'fanotify must be available to root on this kernel');
  guard.setRules([
    rule({ ruleId: 1, rule: 'no-shadow', targets: [{ kind: 'equal', path: secret }] }),
    rule({ ruleId: 2, rule: 'no-vault', targets: [{ kind: 'prefix', path: `${vault}/` }], action: 'kill' }),
    rule({ ruleId: 3, rule: 'no-forbidden-binary', event: 'exec', targets: [{ kind: 'equal', path: join(root, 'bin', 'forbidden') }] }),
    rule({ ruleId: 4, rule: 'no-true-copy', event: 'exec', targets: [], sha256: [createHash('sha256').update(readFileSync('/usr/bin/false')).digest('hex')] }),
  ]);
  await settled();
});

after(async () => {
  await guard?.close();
  rmSync(root, { recursive: true, force: true });
});

test('every spelling of a denied file fails with EPERM before a byte is read; the twin is read', async () => {
  symlinkSync(secret, join(root, 'link'));
  linkSync(secret, join(root, 'hardlink'));
  const spellings: Record<string, string> = {
    absolute: `cat ${secret}`,
    'double slash': `cat ${root}//etc//shadow`,
    'dot segment': `cat ${root}/./etc/./shadow`,
    'dot-dot': `cat ${root}/etc/../etc/shadow`,
    'relative after cd': 'cd etc && cat shadow',
    symlink: `cat ${root}/link`,
    'hard link': `cat ${root}/hardlink`,
    'dirfd (openat relative to a directory fd)': `python3 -c "import os; d=os.open('${root}/etc', os.O_RDONLY); print(os.read(os.open('shadow', os.O_RDONLY, dir_fd=d), 99))"`,
    'O_PATH then /proc/self/fd': `python3 -c "import os; p=os.open('${secret}', os.O_PATH); print(os.read(os.open('/proc/self/fd/%d' % p, os.O_RDONLY), 99))"`,
  };
  for (const [name, script] of Object.entries(spellings)) {
    const result = sh(script);
    assert.notEqual(result.status, 0, `${name}: must fail`);
    assert.doesNotMatch(result.stdout, /secret-hash/, `${name}: nothing of the file may be read`);
    assert.match(result.stderr, /Operation not permitted|PermissionError/, `${name}: EPERM expected, got ${result.stderr}`);
  }
  assert.equal(sh(`cat ${twin}`).stdout, 'root:x:0:0\n');
  await settled();
  const reached = decisions.filter((d) => d.rule === 'no-shadow').map((d) => `${d.pathAsGiven} ${d.reachedBy}`);
  assert.deepEqual(reached, [
    `${secret} path`,
    `${root}//etc//shadow non_canonical`,
    `${root}/./etc/./shadow non_canonical`,
    `${root}/etc/../etc/shadow non_canonical`,
    'shadow relative',
    `${root}/link symlink`,
    `${root}/hardlink hard_link`,
    'shadow dirfd',
    '/proc/self/fd/3 fd_link',
  ]);
  for (const decision of decisions.filter((d) => d.rule === 'no-shadow')) assert.equal(decision.path, secret);
});

test('a bind mount of the denied file is denied too', () => {
  const mountPoint = join(root, 'bound');
  writeFileSync(mountPoint, '');
  assert.equal(sh(`mount --bind ${secret} ${mountPoint}`).status, 0);
  try {
    const result = sh(`cat ${mountPoint}`);
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /Operation not permitted/);
  } finally {
    sh(`umount ${mountPoint}`);
  }
});

test('kill: a read below a guarded directory is refused and its process killed; files created later are covered', async () => {
  const before = decisions.length;
  const result = sh(`cat ${vault}/deep/key; echo survived`);
  assert.doesNotMatch(result.stdout, /vault key/);
  // cat is killed; the shell that ran it goes on.
  assert.match(result.stdout, /survived/);
  writeFileSync(join(vault, 'deep', 'later'), 'written later\n');
  const later = sh(`cat ${vault}/deep/later`);
  assert.equal(later.stdout, '');
  assert.ok(later.signal === 'SIGKILL' || later.status === 137, `cat must be killed: ${JSON.stringify(later)}`);
  await settled();
  const kills = decisions.slice(before).filter((d) => d.rule === 'no-vault');
  assert.ok(kills.some((d) => d.path === `${vault}/deep/key` && d.action === 'kill'));
  assert.ok(kills.some((d) => d.path === `${vault}/deep/later`), 'a file created after the marks were made is covered by its directory');
});

test('exec of a forbidden binary fails by symlink, relative path and hard link; a copy is stopped by its digest', () => {
  const binary = join(root, 'bin', 'forbidden');
  symlinkSync(binary, join(root, 'bin', 'alias'));
  linkSync(binary, join(root, 'bin', 'hardalias'));
  for (const script of [binary, `${root}/bin/alias`, 'cd bin && ./forbidden', `${root}/bin/hardalias`]) {
    const result = sh(script);
    assert.notEqual(result.status, 0, script);
    assert.match(result.stderr, /Permission denied|Operation not permitted/, script);
  }
  assert.equal(sh('/usr/bin/true').status, 0, 'an unrelated binary runs');
  copyFileSync('/usr/bin/false', join(root, 'bin', 'renamed-copy'));
  const copy = sh(`${root}/bin/renamed-copy`);
  assert.match(copy.stderr, /Permission denied|Operation not permitted/, 'the digest names the copy');
  // A clean executable is asked about once, then ignored until it is modified: overwritten in place, it is checked again.
  const mutable = join(root, 'bin', 'mutable');
  copyFileSync('/usr/bin/true', mutable);
  const inode = statSync(mutable).ino;
  assert.ok(!execIgnored().has(inode));
  assert.equal(sh(mutable).status, 0);
  assert.ok(execIgnored().has(inode), 'after its first exec, a clean executable carries an exec ignore mark: later execs do not wait');
  copyFileSync('/usr/bin/false', mutable);
  assert.ok(!execIgnored().has(inode), 'modified, it loses the ignore mark (the kernel drops it)');
  assert.match(sh(mutable).stderr, /Permission denied|Operation not permitted/, 'modified into the forbidden program, it is checked again');
});

test('counters show every answer', () => {
  const counters = guard.counters();
  assert.ok(counters.denied > 0 && counters.killed > 0 && counters.allowed > 0, JSON.stringify(counters));
  assert.ok(counters.marks >= 4, JSON.stringify(counters));
});
