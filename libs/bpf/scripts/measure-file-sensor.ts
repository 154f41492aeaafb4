/**
 * Cost of the file sensor on a syscall-heavy workload: wall time of 1,000,000 open+close of an unwatched file
 * (the open-loop helper) with the file sensor loaded (with a few rules, so every map is non-empty) and without,
 * alternating, `runs` times each; prints the medians and their ratio. `relative`: the helper opens the file by its
 * name from inside its directory (the kernel then joins the name to the cwd it learnt, file_match.h), instead of
 * by its absolute path. `programs`: also the kernel's own statistics of each of the sensor's programs during the
 * loops with it (kernel.bpf_stats_enabled switched on for the run and restored): runs and ns per run, so the cost
 * splits into the programs' time and the rest (the tracepoint path every syscall then takes). Root; run from the
 * repository root:
 *   npx node libs/bpf/scripts/measure-file-sensor.ts [runs=5] [opens=1000000] [absolute|relative] [programs]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { loadFileSensor } from '../src/index.ts';
import { buildOpenLoop } from '../src/file/test-support.ts';

const runs = Number(process.argv[2] ?? 5);
const opens = process.argv[3] ?? '1000000';
const relative = process.argv[4] === 'relative';
const programStats = process.argv[5] === 'programs';
const STATS_SWITCH = '/proc/sys/kernel/bpf_stats_enabled';

interface ProgramStats {
  readonly name: string;
  readonly runCount: number;
  readonly runTimeNs: number;
}

/** Every loaded BPF program's run count and time (bpftool; zero unless kernel.bpf_stats_enabled). */
function readProgramStats(): Map<number, ProgramStats> {
  const programs = JSON.parse(execFileSync('bpftool', ['prog', 'show', '--json'], { encoding: 'utf8' })) as { id: number; name?: string; run_cnt?: number; run_time_ns?: number }[];
  return new Map(programs.map((p) => [p.id, { name: p.name ?? String(p.id), runCount: p.run_cnt ?? 0, runTimeNs: p.run_time_ns ?? 0 }]));
}

/** Runs and time per program between two readings, summed over every loop with the sensor. */
const programTotals = new Map<string, { runs: number; ns: number }>();
function addProgramDelta(before: Map<number, ProgramStats>, after: Map<number, ProgramStats>): void {
  for (const [id, now] of after) {
    const then = before.get(id);
    const runs = now.runCount - (then?.runCount ?? 0);
    if (runs <= 0) continue;
    const total = programTotals.get(now.name) ?? { runs: 0, ns: 0 };
    programTotals.set(now.name, { runs: total.runs + runs, ns: total.ns + now.runTimeNs - (then?.runTimeNs ?? 0) });
  }
}
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

const statsWere = programStats ? readFileSync(STATS_SWITCH, 'utf8').trim() : '';
try {
  if (programStats) writeFileSync(STATS_SWITCH, '1');
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
      const before = programStats ? readProgramStats() : null;
      on.push(timeLoop(openLoop, path));
      if (before !== null) addProgramDelta(before, readProgramStats());
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
    ...(programStats
      ? {
          programsPerOpen: Object.fromEntries(
            [...programTotals].map(([name, t]) => [name, { runsPerOpen: Number((t.runs / (runs * Number(opens))).toFixed(2)), nsPerRun: Math.round(t.ns / t.runs), nsPerOpen: Math.round(t.ns / (runs * Number(opens))) }]),
          ),
          programsNsPerOpen: Math.round([...programTotals.values()].reduce((sum, t) => sum + t.ns, 0) / (runs * Number(opens))),
        }
      : {}),
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
} finally {
  if (programStats) writeFileSync(STATS_SWITCH, statsWere);
  rmSync(dir, { recursive: true, force: true });
}
