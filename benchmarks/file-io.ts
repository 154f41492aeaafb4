/**
 * What following watched opens' descriptors (bpf/file/bpf_file_io.c) adds to every OTHER read on the node, on the
 * real kernel (root): a C loop of 1-byte read()s from /dev/zero (an untracked descriptor, like almost every read),
 * timed in three stages that alternate within each run:
 *
 * - no sensor: the bare syscall;
 * - the file sensor loaded, no path watched: bpf_file_io is not attached (the reference: what the sensor cost before
 *   descriptor tracking, for a read);
 * - the file sensor with one watched path elsewhere: bpf_file_io attached, so the read pays the entry lookup
 *   (file_io_fds, a miss) and the exit lookup (file_io_pending, a miss).
 *
 * Medians over runs; the added cost per read is "attached" minus "not attached", same run.
 *   npm run -s -w @stinger/bpf build:bpf
 *   npx node benchmarks/file-io.ts [--runs K] [--reads N]
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { loadFileSensor, type FileSensor } from '@stinger/bpf';
import { fmt, load, median, spread } from './report.ts';
import { timeProgram } from './workload-programs.ts';

const READ_LOOP_C = `#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
/* read-loop <path> <count>: count 1-byte reads from path. */
int main(int argc, char **argv) {
  if (argc != 3) return 2;
  long count = atol(argv[2]);
  int fd = open(argv[1], O_RDONLY);
  if (fd < 0) { perror("open"); return 1; }
  char byte;
  for (long i = 0; i < count; i++) if (read(fd, &byte, 1) != 1) { perror("read"); return 1; }
  return 0;
}
`;

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, reads: { type: 'string', default: '2000000' } } });
const runs = Number(values.runs);
const reads = Number(values.reads);
const dir = mkdtempSync(join(tmpdir(), 'stinger-bench-file-io-'));
let sensor: FileSensor | undefined;

try {
  writeFileSync(join(dir, 'read-loop.c'), READ_LOOP_C);
  await promisify(execFile)('cc', ['-O2', '-Wall', '-Werror', '-o', join(dir, 'read-loop'), join(dir, 'read-loop.c')]);
  const readLoop = join(dir, 'read-loop');
  const nsPerRead = async (): Promise<number> => ((await timeProgram(readLoop, ['/dev/zero', String(reads)])) * 1e9) / reads;
  const watched = join(dir, 'watched');
  writeFileSync(watched, 'x');

  const samples = { bare: [] as number[], detached: [] as number[], attached: [] as number[] };
  for (let run = 0; run < runs; run++) {
    samples.bare.push(await nsPerRead());
    sensor = loadFileSensor();
    if (sensor.io.attached) throw new Error('descriptor tracking attached with no path watched');
    samples.detached.push(await nsPerRead());
    sensor.filePolicy.addExact(watched, { ruleId: 1, action: 'audit', ops: ['open'] });
    if (!sensor.io.attached) throw new Error('descriptor tracking not attached with a path watched');
    samples.attached.push(await nsPerRead());
    sensor.filePolicy.clear();
    sensor.close();
    sensor = undefined;
  }
  const added = samples.attached.map((a, i) => a - (samples.detached[i] ?? Number.NaN));
  const lines = [
    `machine: ${availableParallelism()} cores, ${cpus()[0]?.model ?? '?'}, kernel ${release()}, Node ${process.version}, load ${load()}; ${runs} runs of ${fmt(reads)} reads, medians (min–max)`,
    '',
    '| 1-byte read() of an untracked descriptor | ns per read |',
    '|---|---|',
    `| no sensor | ${spread(samples.bare, 1)} |`,
    `| file sensor, no path watched (descriptor tracking detached) — reference | ${spread(samples.detached, 1)} |`,
    `| file sensor, one path watched (descriptor tracking attached) | ${spread(samples.attached, 1)} |`,
    '',
    `added by descriptor tracking per untracked read, same run: ${spread(added, 1)} ns (ratio ${fmt(median(samples.attached) / median(samples.detached), 2)})`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  sensor?.close();
  rmSync(dir, { recursive: true, force: true });
}
