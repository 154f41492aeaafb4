/**
 * Cost of the file sensor on a syscall-heavy workload: wall time of 1,000,000 open+close of an unwatched file
 * (the open-loop helper) with the file sensor loaded (with a few rules, so every map is non-empty) and without,
 * alternating, `runs` times each; prints the medians and their ratio. `relative`: the helper opens the file by its
 * name from inside its directory (the kernel then joins the name to the cwd it learnt, file_match.h), instead of
 * by its absolute path. Root; run from the repository root:
 *   npx node libs/bpf/scripts/measure-file-sensor.ts [runs=5] [opens=1000000] [absolute|relative]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { loadFileSensor } from '../src/index.ts';
import { buildOpenLoop } from '../src/file/test-support.ts';

const runs = Number(process.argv[2] ?? 5);
const opens = process.argv[3] ?? '1000000';
const relative = process.argv[4] === 'relative';
const dir = mkdtempSync(join(tmpdir(), 'stinger-measure-file-'));

function timeLoop(openLoop: string, path: string): number {
  const start = process.hrtime.bigint();
  if (relative) execFileSync(openLoop, [basename(path), opens], { cwd: dirname(path) });
  else execFileSync(openLoop, [path, opens]);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

const median = (xs: number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

try {
  const openLoop = buildOpenLoop(dir);
  const path = join(dir, 'unwatched');
  writeFileSync(path, 'x');
  const off: number[] = [];
  const on: number[] = [];
  for (let i = 0; i < runs; i++) {
    off.push(timeLoop(openLoop, path));
    const sensor = loadFileSensor();
    try {
      sensor.filePolicy.addExact('/etc/shadow', { ruleId: 1, action: 'audit', ops: ['open'] });
      sensor.filePolicy.addPrefix('/etc/ssh/', { ruleId: 2, action: 'audit', ops: ['open'] });
      sensor.execPolicy.addExact('/usr/bin/nc', { ruleId: 3, action: 'kill' });
      on.push(timeLoop(openLoop, path));
    } finally {
      sensor.close();
    }
  }
  const result = {
    opens: Number(opens),
    paths: relative ? 'relative (joined to the cwd in the kernel)' : 'absolute',
    runsEach: runs,
    withoutSensorMs: off.map((x) => Math.round(x)),
    withSensorMs: on.map((x) => Math.round(x)),
    medianWithoutMs: Math.round(median(off)),
    medianWithMs: Math.round(median(on)),
    ratio: Number((median(on) / median(off)).toFixed(3)),
    addedNsPerOpen: Math.round(((median(on) - median(off)) * 1e6) / Number(opens)),
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
