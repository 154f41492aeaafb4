/**
 * What enforcement by file identity (libs/file-guard, the agent's fanotify guard) costs, on the real kernel (root):
 *
 * - an open+close of an UNMARKED file, without the guard (the reference) and with the guard holding marks on other
 *   files: unmarked files should pay nothing;
 * - an open+close of a MARKED file whose every open the guard answers "allow" after checking the opener's
 *   executable (a deny rule that spares this program: the usual "only sshd may read it" shape);
 * - a fork+exec of /usr/bin/true without the guard and with a sha256 exec rule (every exec on the machine's file
 *   systems is marked; the guard hashes each executable at its first exec, then puts an ignore mark on its inode,
 *   which the kernel drops when the file is modified), and with an exec rule by inode on another binary (no wait
 *   expected).
 *
 * The guard runs in this process's worker thread, exactly as in the agent; the loops are separate C programs (the
 * guard lets its own process through without asking). Stages alternate within each run; medians over runs.
 *   npx node benchmarks/file-guard.ts [--runs K] [--opens N] [--marked-opens M] [--forks F]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startFileGuard, type FileGuard, type GuardRule } from '@stinger/file-guard';
import { createLogger } from '@stinger/log';
import { fmt, load, median, spread } from './report.ts';
import { buildPrograms, timeProgram } from './workload-programs.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, opens: { type: 'string', default: '200000' }, 'marked-opens': { type: 'string', default: '20000' }, forks: { type: 'string', default: '2000' } } });
const runs = Number(values.runs);
const opens = Number(values.opens);
const markedOpens = Number(values['marked-opens']);
const forks = Number(values.forks);

const dir = mkdtempSync(join(tmpdir(), 'stinger-bench-guard-'));
const unmarked = join(dir, 'unmarked');
const marked = join(dir, 'marked');
const otherBinary = join(dir, 'never-run');
writeFileSync(unmarked, 'x');
writeFileSync(marked, 'x');
writeFileSync(otherBinary, '#!/bin/sh\n', { mode: 0o755 });

const rule = (overrides: Partial<GuardRule> & Pick<GuardRule, 'ruleId' | 'rule'>): GuardRule => ({ policy: 'bench', scope: 'all', event: 'file', action: 'deny', targets: [], sha256: [], exclude: {}, ...overrides });

async function withGuard<T>(rules: readonly GuardRule[], body: (guard: FileGuard) => Promise<T>): Promise<T> {
  const guard = await startFileGuard({ logger: createLogger({ name: 'bench', level: 'silent' }), onDecision: () => {} });
  if (guard.unavailableReason() !== null) throw new Error(`fanotify unavailable: ${guard.unavailableReason()}`);
  try {
    guard.setRules(rules);
    await new Promise((resolve) => setTimeout(resolve, 300)); // the worker marks within its next loop turn
    return await body(guard);
  } finally {
    await guard.close();
  }
}

try {
  const programs = await buildPrograms(dir);
  const spared = { equal: [programs.openLoop], prefix: [], suffix: [] };
  const otherMarks = [rule({ ruleId: 1, rule: 'marks-elsewhere', targets: [{ kind: 'equal', path: marked }] })];
  const allowMarked = [rule({ ruleId: 2, rule: 'only-the-loop', targets: [{ kind: 'equal', path: marked }], exclude: { binary: spared } })];
  const digestRule = [rule({ ruleId: 3, rule: 'digest', event: 'exec', sha256: ['0'.repeat(64)] })];
  const inodeRule = [rule({ ruleId: 4, rule: 'inode', event: 'exec', targets: [{ kind: 'equal', path: otherBinary }] })];
  const perOpenNs = (seconds: number, count: number) => (seconds * 1e9) / count;

  const samples = { bare: [] as number[], elsewhere: [] as number[], markedBare: [] as number[], markedAllowed: [] as number[], execBare: [] as number[], execDigest: [] as number[], execInode: [] as number[] };
  let answerMicros: number[] = [];
  for (let run = 0; run < runs; run++) {
    samples.bare.push(perOpenNs(await timeProgram(programs.openLoop, [unmarked, String(opens)]), opens));
    samples.markedBare.push(perOpenNs(await timeProgram(programs.openLoop, [marked, String(markedOpens)]), markedOpens));
    samples.execBare.push(perOpenNs(await timeProgram(programs.forkExec, [String(forks), '/usr/bin/true']), forks));
    await withGuard(otherMarks, async () => samples.elsewhere.push(perOpenNs(await timeProgram(programs.openLoop, [unmarked, String(opens)]), opens)));
    await withGuard(allowMarked, async (guard) => {
      samples.markedAllowed.push(perOpenNs(await timeProgram(programs.openLoop, [marked, String(markedOpens)]), markedOpens));
      const counters = guard.counters();
      if (counters.denied > 0) throw new Error('the guard denied the spared loop: the benchmark measures nothing');
      answerMicros.push(counters.answer_micros / Math.max(1, counters.allowed));
    });
    await withGuard(digestRule, async () => samples.execDigest.push(perOpenNs(await timeProgram(programs.forkExec, [String(forks), '/usr/bin/true']), forks)));
    await withGuard(inodeRule, async () => samples.execInode.push(perOpenNs(await timeProgram(programs.forkExec, [String(forks), '/usr/bin/true']), forks)));
  }
  answerMicros = answerMicros.map((x) => Math.round(x * 10) / 10);
  const ratio = (a: number[], b: number[]) => fmt(median(a) / median(b), 2);
  const us = (xs: number[]) => spread(xs.map((x) => x / 1000), 1);
  const lines = [
    `machine: ${availableParallelism()} cores, ${cpus()[0]?.model ?? '?'}, kernel ${release()}, Node ${process.version}, load ${load()}; ${runs} runs, medians (min–max)`,
    '',
    '| workload | without the guard | with the guard | ratio |',
    '|---|---|---|---|',
    `| open+close of an unmarked file (guard marks another file), µs | ${us(samples.bare)} | ${us(samples.elsewhere)} | ${ratio(samples.elsewhere, samples.bare)} |`,
    `| open+close of a marked file, answered allow after the executable check, µs | ${us(samples.markedBare)} | ${us(samples.markedAllowed)} | ${ratio(samples.markedAllowed, samples.markedBare)} |`,
    `| fork+exec of /usr/bin/true, an exec rule by inode on another binary, µs | ${us(samples.execBare)} | ${us(samples.execInode)} | ${ratio(samples.execInode, samples.execBare)} |`,
    `| fork+exec of /usr/bin/true, a sha256 exec rule (each executable hashed once, then ignored by the kernel until modified), µs | ${us(samples.execBare)} | ${us(samples.execDigest)} | ${ratio(samples.execDigest, samples.execBare)} |`,
    '',
    `the guard's own time per answer (worker: read the event, decide, answer), µs: ${spread(answerMicros, 1)}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
