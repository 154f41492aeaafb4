// Kernel test (root) of the file sensor's lsm mode (bpf/file/bpf_file_lsm.c, the file_open LSM hook;
// bpf/file/bpf_file_path_lsm.c, the path_unlink/rmdir/rename/chmod/chown hooks; bpf/file/bpf_exec_lsm.c,
// bprm_check_security), for a kernel that runs BPF LSM programs: the stock-kernel VM
// (`stinger vm-test libs/bpf/src/file/lsm-hook.test.ts`). A deny rule on a directory prefix makes every open, unlink,
// rename, chmod, chown (or execve) of a file under it fail with EPERM in the kernel, whatever name the caller used;
// the record names the path the kernel resolved. Where BPF LSM is unavailable (a locked-down kernel, `bpf` not
// among the active LSMs) every test is skipped and says why: nothing here can pass without the hook.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { loadFileSensor, type FileSensor } from './sensor.ts';
import { decodeFileRecord, type ExecRuleRecord, type FileRecord, type FileSensorRecord } from './records.ts';
import { buildBpf, collect, type Collector, type RunResult } from '../core/test-support.ts';
import { probeFeatures } from '../core/features.ts';
import { buildOpenTry, runChild } from './test-support.ts';

buildBpf();
const lsm = probeFeatures().lsm;
const skip = lsm.available ? false : `this kernel (${release()}) does not run BPF LSM programs (${lsm.reason ?? 'unavailable'}): the lsm mode cannot load here`;

const EPERM = 1;

/** The LSM hook's exec-rule record for pid (the tracepoint may report a name match of the same execve too). */
const execRuleOf =
  (pid: number) =>
  (r: FileSensorRecord): r is ExecRuleRecord =>
    r.kind === 'exec-rule' && r.pid === pid && r.resolved;

const openBy =
  (pid: number) =>
  (r: FileSensorRecord): r is FileRecord =>
    r.kind === 'file' && r.op === 'open' && r.pid === pid;

const fileOpBy =
  (op: FileRecord['op'], pid: number) =>
  (r: FileSensorRecord): r is FileRecord =>
    r.kind === 'file' && r.op === op && r.pid === pid;

/** The record fields the path hooks decide, in one array for deepEqual. */
const decided = (r: FileRecord): unknown[] => [r.path, r.resolvedPath, r.resolvedPath2, r.action, r.ruleId, r.result];

describe('file sensor in lsm mode: the file_open hook (kernel with BPF LSM)', () => {
  let sensor: FileSensor | undefined;
  let collector: Collector<FileSensorRecord> | undefined;
  let dir = '';
  let bind = '';
  let openTry = '';
  const tag = randomBytes(4).toString('hex');
  const secretName = `secret-${tag}`;
  let secret = '';

  before(() => {
    if (skip) return;
    dir = realpathSync(mkdtempSync(join(tmpdir(), 'stinger-lsm-')));
    secret = join(dir, secretName);
    mkdirSync(secret);
    writeFileSync(join(secret, 'data'), 'secret data\n');
    writeFileSync(join(secret, 'run'), `#!/bin/sh\n: > '${join(dir, 'run.ran')}'\n`, { mode: 0o755 }); // before the rule: no open of it after
    writeFileSync(join(dir, 'public'), 'public data\n');
    symlinkSync(join(secret, 'data'), join(dir, 'link'));
    openTry = buildOpenTry(dir);
    sensor = loadFileSensor({ ignoredProcesses: [], mode: 'lsm' }); // the helpers are children of this process
    collector = collect(sensor, decodeFileRecord);
    sensor.filePolicy.addPrefix(`${secret}/`, { ruleId: 301, action: 'deny', ops: ['open'] });
  });

  after(() => {
    sensor?.filePolicy.clear();
    sensor?.execPolicy.clear();
    void collector?.reader.stop();
    sensor?.close();
    if (bind) execFileSync('umount', [bind]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the sensor runs in lsm mode and refuses nothing it should not: a file outside the prefix opens', { skip }, async () => {
    assert.equal(sensor!.mode, 'lsm');
    const run = await runChild(openTry, ['path', join(dir, 'public')]);
    assert.deepEqual([run.code, run.stdout], [0, 'ok public data\n']);
  });

  /** Runs open-try with args: the open must fail with EPERM and be reported with givenPath and resolvedPath. */
  const denied = async (name: string, args: readonly string[], paths: { given: string; resolved?: string }): Promise<void> => {
    const { given: givenPath, resolved: resolvedPath = join(secret, 'data') } = paths;
    const run = await runChild(openTry, args);
    assert.deepEqual([run.code, run.stdout], [0, 'EPERM\n'], `${name}: the open fails with EPERM (${args.join(' ')})`);
    const record = await collector!.waitFor(openBy(run.pid));
    assert.equal(record.resolvedPath, resolvedPath, `${name}: the record names the resolved path`);
    assert.equal(record.path, givenPath, `${name}: the path as given, where the tracepoint matched it too`);
    assert.equal(record.action, 'denied', name);
    assert.equal(record.ruleId, 301, name);
    assert.equal(record.match, 'prefix', name);
    assert.equal(record.result, -EPERM, name);
  };

  test('a deny prefix: the plain path fails with EPERM; the record has the path as given and the resolved one', { skip }, async () => {
    await denied('plain path', ['path', join(secret, 'data')], { given: join(secret, 'data') });
  });

  test('a deny prefix: a symlink to the file, `//`, `..` and a path relative to the cwd fail with EPERM in the kernel', { skip }, async () => {
    await denied('symlink', ['path', join(dir, 'link')], { given: '' });
    await denied('double slash', ['path', `${dir}//${secretName}//data`], { given: '' });
    // The string starts with the prefix, so the tracepoint matched it as given as well.
    await denied('dot-dot', ['path', `${secret}/../${secretName}/./data`], { given: `${secret}/../${secretName}/./data` });
    // After chdir the tracepoint joins the relative path to the cwd it learnt and matches it too: both paths.
    await denied('relative to the cwd', ['cwd', dir, `${secretName}/data`], { given: `${secretName}/data` });
  });

  test('a deny prefix: openat with a directory fd fails with EPERM in the kernel', { skip }, async () => {
    await denied('openat(dirfd)', ['at', secret, 'data'], { given: '' });
  });

  test('a deny prefix: the file through a bind mount of its directory fails with EPERM in the kernel', { skip }, async () => {
    bind = join(dir, 'bind');
    mkdirSync(bind);
    execFileSync('mount', ['--bind', secret, bind]);
    // d_path names the file under the mount the caller went through; the rule matched the directory by identity.
    await denied('bind mount', ['path', join(bind, 'data')], { given: '', resolved: join(bind, 'data') });
  });

  /** A file `<action>-<tag>` holding "<action>\n" under an exact rule, opened by open-try through a symlink to it. */
  const openThroughLink = async (action: 'kill' | 'audit', ruleId: number): Promise<{ target: string; run: RunResult; record: FileRecord }> => {
    const target = join(dir, `${action}-${tag}`);
    writeFileSync(target, `${action}\n`);
    symlinkSync(target, join(dir, `${action}-link`));
    sensor!.filePolicy.addExact(target, { ruleId, action, ops: ['open'] });
    const run = await runChild(openTry, ['path', join(dir, `${action}-link`)]);
    return { target, run, record: await collector!.waitFor(openBy(run.pid)) };
  };

  test('a deny prefix on open also refuses executing a binary under it: the kernel opens it through file_open', { skip }, async () => {
    const run = await runChild(openTry, ['exec', join(secret, 'run')]);
    assert.deepEqual([run.code, run.stdout, existsSync(join(dir, 'run.ran'))], [0, 'EPERM\n', false]);
    const record = await collector!.waitFor(openBy(run.pid));
    assert.deepEqual([record.resolvedPath, record.path, record.action, record.ruleId], [join(secret, 'run'), '', 'denied', 301]);
  });

  test('kill: the open fails with EPERM and the caller dies of SIGKILL, also through a symlink', { skip }, async () => {
    const { target, run, record } = await openThroughLink('kill', 302);
    assert.equal(run.signal, 'SIGKILL');
    assert.equal(run.stdout, '', 'it printed nothing: the open did not return a descriptor');
    assert.deepEqual([record.resolvedPath, record.action, record.ruleId, record.match], [target, 'killed', 302, 'exact']);
  });

  test('audit: the open succeeds and is reported with the resolved path', { skip }, async () => {
    const { target, run, record } = await openThroughLink('audit', 303);
    assert.deepEqual([run.code, run.stdout], [0, 'ok audit\n']);
    assert.deepEqual([record.resolvedPath, record.action, record.ruleId, record.result], [target, 'audit', 303, null]);
  });

  /** A script `<dir>/<name>` that creates `<path>.ran` when it runs, and a symlink to it directly in dir. */
  const script = (name: string): { path: string; marker: string; link: string } => {
    const path = join(dir, name);
    const marker = `${path}.ran`;
    const link = join(dir, `${name.replaceAll('/', '-')}-link`);
    writeFileSync(path, `#!/bin/sh\n: > '${marker}'\n`, { mode: 0o755 });
    symlinkSync(path, link);
    return { path, marker, link };
  };

  test('exec deny: execve through a symlink fails with EPERM, the script never runs; the record names the binary', { skip }, async () => {
    const bin = join(dir, `bin-${tag}`);
    mkdirSync(bin);
    const tool = script(`bin-${tag}/tool`);
    sensor!.execPolicy.addPrefix(`${bin}/`, { ruleId: 311, action: 'deny' });
    const run = await runChild(openTry, ['exec', tool.link]);
    assert.deepEqual([run.code, run.stdout], [0, 'EPERM\n'], 'execve returned EPERM to the caller, which lives');
    assert.equal(existsSync(tool.marker), false, 'the script never ran');
    const record = await collector!.waitFor(execRuleOf(run.pid));
    assert.deepEqual([record.path, record.resolved, record.action, record.ruleId, record.match], [tool.path, true, 'denied', 311, 'prefix']);
    // By its own path the name as given matches too: the tracepoint leaves a deny rule to the hook, one record.
    const direct = await runChild(openTry, ['exec', tool.path]);
    assert.deepEqual([direct.code, direct.stdout, existsSync(tool.marker)], [0, 'EPERM\n', false]);
    await collector!.waitFor(execRuleOf(direct.pid));
    const reports = collector!.settle().filter((r): r is ExecRuleRecord => r.kind === 'exec-rule' && r.pid === direct.pid);
    assert.deepEqual(reports.map((r) => [r.resolved, r.action]), [[true, 'denied']], 'reported once, by the hook');
  });

  test('exec kill: execve by a `//` path fails and the caller dies of SIGKILL; an unruled script runs', { skip }, async () => {
    const doomed = script(`doomed-${tag}`);
    const free = script(`free-${tag}`);
    sensor!.execPolicy.addExact(doomed.path, { ruleId: 312, action: 'kill' });
    const run = await runChild(openTry, ['exec', `${dir}//doomed-${tag}`]);
    assert.equal(run.signal, 'SIGKILL');
    assert.equal(existsSync(doomed.marker), false, 'the script never ran');
    const record = await collector!.waitFor(execRuleOf(run.pid));
    assert.deepEqual([record.path, record.resolved, record.action, record.ruleId], [doomed.path, true, 'killed', 312]);
    const ran = await runChild(openTry, ['exec', free.link]);
    assert.deepEqual([ran.code, existsSync(free.marker)], [0, true]);
  });
  /** A directory `<name>-<tag>` under dir with a file `f` in it, and a symlink `<name>-alias` to the directory. */
  const guardedDir = (name: string): { path: string; file: string; alias: string } => {
    const path = join(dir, `${name}-${tag}`);
    mkdirSync(path);
    writeFileSync(join(path, 'f'), `${name}\n`);
    const alias = join(dir, `${name}-alias`);
    symlinkSync(path, alias);
    return { path, file: join(path, 'f'), alias };
  };

  test('path hooks: a deny prefix refuses unlink, chmod, chown and rename in the kernel, also through a symlinked directory', { skip }, async () => {
    const guarded = guardedDir('guarded');
    const outside = join(dir, `outside-${tag}`);
    writeFileSync(outside, 'outside\n');
    sensor!.filePolicy.addPrefix(`${guarded.path}/`, { ruleId: 321, action: 'deny', ops: ['unlink', 'rename', 'chmod', 'chown'] });
    const aliased = join(guarded.alias, 'f');

    // The name as given (through the alias) matches no rule: only the hook, on the resolved path, refuses and reports.
    const rm = await runChild('rm', ['-f', aliased]);
    assert.notEqual(rm.code, 0, 'rm failed');
    assert.equal(existsSync(guarded.file), true, 'the file is still there');
    assert.deepEqual(decided(await collector!.waitFor(fileOpBy('unlink', rm.pid))), ['', guarded.file, null, 'denied', 321, -EPERM]);

    // `/./` matches the prefix as given: the tracepoint's record gets the resolved path and the hook's decision.
    const chmod = await runChild('chmod', ['600', `${guarded.path}/./f`]);
    assert.notEqual(chmod.code, 0, 'chmod failed');
    assert.deepEqual(decided(await collector!.waitFor(fileOpBy('chmod', chmod.pid))), [`${guarded.path}/./f`, guarded.file, null, 'denied', 321, -EPERM]);

    const chown = await runChild('chown', ['1:1', aliased]);
    assert.notEqual(chown.code, 0, 'chown failed');
    assert.deepEqual(decided(await collector!.waitFor(fileOpBy('chown', chown.pid))), ['', guarded.file, null, 'denied', 321, -EPERM]);

    // A rename out of the directory (the old path matches) and one into it (the new path matches) are both refused.
    const out = await runChild('mv', [aliased, join(dir, `moved-${tag}`)]);
    assert.notEqual(out.code, 0, 'mv out failed');
    assert.deepEqual(decided(await collector!.waitFor(fileOpBy('rename', out.pid))), ['', guarded.file, join(dir, `moved-${tag}`), 'denied', 321, -EPERM]);
    const into = await runChild('mv', [outside, join(guarded.alias, 'new')]);
    assert.notEqual(into.code, 0, 'mv in failed');
    const intoRecord = await collector!.waitFor(fileOpBy('rename', into.pid));
    assert.deepEqual(decided(intoRecord), ['', outside, join(guarded.path, 'new'), 'denied', 321, -EPERM]);
    assert.equal(intoRecord.matchedPath2, true, 'the new path matched');
    assert.deepEqual([existsSync(guarded.file), existsSync(outside), existsSync(join(guarded.path, 'new'))], [true, true, false]);
  });

  test('path hooks: an audit rule lets the operations happen and reports the resolved paths, `..` and renames included', { skip }, async () => {
    const watched = guardedDir('watched');
    sensor!.filePolicy.addPrefix(`${watched.path}/`, { ruleId: 322, action: 'audit', ops: ['unlink', 'rename'] });
    const renamed = join(watched.path, 'g');
    // The new name as given matches (the tracepoint parks the record); the old one only once the kernel resolved it.
    const mv = await runChild('mv', [join(watched.alias, 'f'), `${watched.path}//g`]);
    assert.equal(mv.code, 0, 'mv succeeded');
    const renameRecord = await collector!.waitFor(fileOpBy('rename', mv.pid));
    assert.deepEqual(decided(renameRecord), [join(watched.alias, 'f'), watched.file, renamed, 'audit', 322, 0]);
    assert.equal(renameRecord.matchedPath2, false, 'the old path, resolved, names the rule');
    assert.equal(renameRecord.path2, renamed, 'path2 holds the new path as the kernel resolved it');
    const given = `${watched.path}/../${basename(watched.path)}/g`;
    const rm = await runChild('rm', [given]);
    assert.equal(rm.code, 0, 'rm succeeded');
    assert.equal(existsSync(renamed), false);
    assert.deepEqual(decided(await collector!.waitFor(fileOpBy('unlink', rm.pid))), [given, renamed, null, 'audit', 322, 0]);
  });

  test('path hooks: a kill rule kills at syscall entry and the hook keeps the unlink from happening', { skip }, async () => {
    const doomed = guardedDir('unlink-kill');
    sensor!.filePolicy.addPrefix(`${doomed.path}/`, { ruleId: 323, action: 'kill', ops: ['unlink'] });
    const rm = await runChild('rm', ['-f', doomed.file]);
    assert.equal(rm.signal, 'SIGKILL');
    assert.equal(existsSync(doomed.file), true, 'a tracepoint alone cannot stop the unlink; the hook refuses it');
    const record = await collector!.waitFor(fileOpBy('unlink', rm.pid));
    assert.deepEqual([record.path, record.action, record.ruleId], [doomed.file, 'killed', 323]);
  });
});
