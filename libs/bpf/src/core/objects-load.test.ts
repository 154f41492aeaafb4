// Kernel test (root), natively and in the stock-kernel VM (`stinger vm-test`): every sensor object of bpf/build loads
// whole on the running kernel. CO-RE relocations resolve against its BTF and the verifier accepts every program, or
// the test names the object and the verifier's last words. Loading attaches nothing; each object is closed at once.
// Objects of BPF LSM programs (bpf_file_lsm, bpf_file_path_lsm, bpf_exec_lsm) load only where probeFeatures says the kernel runs them: elsewhere the
// test checks that the kernel refuses them, which is why the sensor leaves them out there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { openBpfObject } from './bpf-object.ts';
import { BpfError } from './errors.ts';
import { probeFeatures } from './features.ts';
import { DEFAULT_OBJECT_DIR } from './kernel-environment.ts';
import { buildBpf } from './test-support.ts';

/** probe_features.bpf.o holds kprobe, fentry and lsm probes a locked-down kernel refuses by design: features.test.ts covers it. */
const PROBES = 'probe_features.bpf.o';

/** Objects made only of BPF LSM programs: loaded by the file sensor's lsm mode, where the kernel allows it. */
const LSM_OBJECTS = new Set(['bpf_file_lsm.bpf.o', 'bpf_file_path_lsm.bpf.o', 'bpf_exec_lsm.bpf.o']);

function refusal(name: string, error: unknown): string {
  if (!(error instanceof BpfError)) return `${name}: ${String(error)}`;
  const log = (error.libbpfLog ?? '').trim().split('\n').slice(-6).join('\n    ');
  return `${name}: ${error.message}${log === '' ? '' : `\n    ${log}`}`;
}

test(`every sensor object loads on this kernel (${release()})`, () => {
  buildBpf();
  const objects = readdirSync(DEFAULT_OBJECT_DIR).filter((name) => name.endsWith('.bpf.o') && name !== PROBES).sort();
  assert.ok(objects.length > 0, `no objects in ${DEFAULT_OBJECT_DIR}`);
  const lsm = probeFeatures().lsm;
  const refused: string[] = [];
  const loadedWithoutLsm: string[] = [];
  for (const name of objects) {
    const object = openBpfObject({ path: join(DEFAULT_OBJECT_DIR, name) });
    const needsLsm = LSM_OBJECTS.has(name);
    try {
      object.load();
      assert.ok(object.programs.length > 0, `${name} has programs`);
      if (needsLsm && !lsm.available) loadedWithoutLsm.push(name);
    } catch (error) {
      if (needsLsm && !lsm.available) console.log(`${name}: refused as expected (BPF LSM: ${lsm.reason ?? 'unavailable'})`);
      else refused.push(refusal(name, error));
    } finally {
      object.close();
    }
  }
  assert.deepEqual(refused, [], `objects the kernel refused:\n${refused.join('\n')}`);
  assert.deepEqual(loadedWithoutLsm, [], 'LSM objects loaded where probeFeatures says BPF LSM is unavailable: the probe is wrong');
});
