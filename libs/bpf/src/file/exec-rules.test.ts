// Kernel test (root): exec rules kill a denied binary at execve entry (it never runs: its side effect never
// happens) while an identical copy elsewhere runs; audit and prefix rules; relative exec paths are audit-only.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadFileSensor, type FileSensor } from './sensor.ts';
import { FILE_FLAG, decodeFileRecord, type ExecRuleRecord, type FileSensorRecord } from './records.ts';
import { buildBpf, collect, type Collector } from '../core/test-support.ts';
import { kernelFileSensorMode, runChild } from './test-support.ts';

const isExecRule =
  (predicate: (r: ExecRuleRecord) => boolean) =>
  (r: FileSensorRecord): r is ExecRuleRecord =>
    r.kind === 'exec-rule' && predicate(r);

describe('exec policy (kernel)', () => {
  let sensor: FileSensor | undefined;
  let collector: Collector<FileSensorRecord> | undefined;
  let dir = '';
  const tag = randomBytes(4).toString('hex');

  /** A shell script that creates `marker` when it runs. */
  const markerScript = (path: string, marker: string): void => {
    writeFileSync(path, `#!/bin/sh\n: > '${marker}'\n`, { mode: 0o755 });
  };

  before(() => {
    buildBpf();
    dir = mkdtempSync(join(tmpdir(), 'stinger-exec-'));
    sensor = loadFileSensor({ mode: kernelFileSensorMode() });
    collector = collect(sensor, decodeFileRecord);
  });

  after(async () => {
    sensor?.execPolicy.clear();
    sensor?.filePolicy.clear();
    await collector?.reader.stop();
    sensor?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('a denied script is killed at execve and never writes its marker; an identical copy runs', async () => {
    const denied = join(dir, `denied-${tag}.sh`);
    const allowed = join(dir, `allowed-${tag}.sh`);
    const deniedMarker = join(dir, 'denied.marker');
    const allowedMarker = join(dir, 'allowed.marker');
    markerScript(denied, deniedMarker);
    markerScript(allowed, allowedMarker);
    sensor!.execPolicy.addExact(denied, { ruleId: 201, action: 'kill' });

    const killed = await runChild(denied, []);
    assert.equal(killed.signal, 'SIGKILL');
    assert.equal(existsSync(deniedMarker), false, 'the denied script never ran');
    const record = await collector!.waitFor(isExecRule((r) => r.pid === killed.pid));
    assert.equal(record.action, 'killed');
    assert.equal(record.ruleId, 201);
    assert.equal(record.path, denied);
    assert.equal(record.match, 'exact');

    const ran = await runChild(allowed, []);
    assert.equal(ran.code, 0);
    assert.equal(existsSync(allowedMarker), true, 'the allowed copy ran');
  });

  test('a denied copy of /bin/true dies by SIGKILL while another copy exits 0', async () => {
    const denied = join(dir, `true-denied-${tag}`);
    const allowed = join(dir, `true-allowed-${tag}`);
    copyFileSync('/bin/true', denied);
    copyFileSync('/bin/true', allowed);
    chmodSync(denied, 0o755);
    chmodSync(allowed, 0o755);
    sensor!.execPolicy.addExact(denied, { ruleId: 202, action: 'kill' });
    const killed = await runChild(denied, []);
    assert.equal(killed.signal, 'SIGKILL');
    const ok = await runChild(allowed, []);
    assert.equal(ok.code, 0);
    assert.deepEqual(
      collector!.settle().filter((r) => r.pid === ok.pid),
      [],
      'an exec no rule names gives no exec-rule record',
    );
  });

  test('an audit rule reports the exec with its rule id and lets it run', async () => {
    const audited = join(dir, `audited-${tag}.sh`);
    const marker = join(dir, 'audited.marker');
    markerScript(audited, marker);
    sensor!.execPolicy.addExact(audited, { ruleId: 203, action: 'audit' });
    const run = await runChild(audited, []);
    assert.equal(run.code, 0);
    assert.equal(existsSync(marker), true);
    const record = await collector!.waitFor(isExecRule((r) => r.pid === run.pid));
    assert.equal(record.action, 'audit');
    assert.equal(record.ruleId, 203);
  });

  test('a kill prefix rule denies every binary under the directory', async () => {
    const binDir = join(dir, `bin-${tag}`);
    mkdirSync(binDir);
    const script = join(binDir, 'tool.sh');
    const marker = join(dir, 'prefix.marker');
    markerScript(script, marker);
    sensor!.execPolicy.addPrefix(`${binDir}/`, { ruleId: 204, action: 'kill' });
    const killed = await runChild(script, []);
    assert.equal(killed.signal, 'SIGKILL');
    assert.equal(existsSync(marker), false);
    const record = await collector!.waitFor(isExecRule((r) => r.pid === killed.pid));
    assert.equal(record.match, 'prefix');
    assert.equal(record.ruleId, 204);
  });

  test('a relative exec of a denied binary dies when the kernel knows the cwd; a spelling it cannot join is flagged, audit-only at the tracepoint and killed at the LSM hook (lsm mode)', async () => {
    const base = `relative-${tag}.sh`;
    const marker = join(dir, 'relative.marker');
    markerScript(join(dir, base), marker);
    sensor!.execPolicy.addExact(join(dir, base), { ruleId: 205, action: 'kill' });
    // spawn() changes directory in the child before exec: the kernel joins `./<base>` to that cwd.
    const killed = await runChild(`./${base}`, [], dir);
    assert.equal(killed.signal, 'SIGKILL');
    assert.equal(existsSync(marker), false, 'the denied script never ran');
    const joined = await collector!.waitFor(isExecRule((r) => r.pid === killed.pid));
    assert.deepEqual([joined.path, joined.action, (joined.flags & FILE_FLAG.matchCwd) !== 0], [`./${base}`, 'killed', true]);

    const run = await runChild(`.//${base}`, [], dir); // not plain: left to the name map, audit-only by default
    const record = await collector!.waitFor(isExecRule((r) => r.pid === run.pid && !r.resolved));
    assert.equal(record.path, `.//${base}`);
    assert.equal(record.relative, true);
    assert.equal(record.needsResolution, true);
    assert.equal(record.action, 'audit');
    if (sensor!.mode === 'lsm') {
      // The bprm_check_security hook sees the binary the kernel resolved: killed before the script runs.
      assert.deepEqual([run.signal, existsSync(marker)], ['SIGKILL', false]);
      const resolved = await collector!.waitFor(isExecRule((r) => r.pid === run.pid && r.resolved));
      assert.deepEqual([resolved.path, resolved.action, resolved.ruleId], [join(dir, base), 'killed', 205]);
    } else {
      assert.deepEqual([run.code, existsSync(marker)], [0, true]);
    }
  });
});
