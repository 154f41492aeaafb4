// Kernel test (root) of the file sensor's lsm mode (bpf/file/bpf_file_lsm.c, the file_open LSM hook, and
// bpf/file/bpf_exec_lsm.c, bprm_check_security), for a kernel that runs BPF LSM programs: the stock-kernel VM
// (`stinger vm-test libs/bpf/src/file/lsm-hook.test.ts`). A deny rule on a directory prefix makes every open (or
// execve) of a file under it fail with EPERM in the kernel, whatever name the caller used; the record names the path
// the kernel resolved. Where BPF LSM is unavailable (a locked-down kernel, `bpf` not
// among the active LSMs) every test is skipped and says why: nothing here can pass without the hook.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
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
});
