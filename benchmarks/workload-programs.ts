/**
 * The C workload programs of the kernel-side benchmarks (agent-pipeline.ts, file-guard.ts): an open+close loop and
 * a fork+exec loop, built with the machine's `cc` into a directory the caller owns and removes, and a timer that runs
 * one to its end without blocking the event loop.
 */
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const OPEN_LOOP_C = `#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
/* open-loop <path> <count>: opens and closes path count times. */
int main(int argc, char **argv) {
  if (argc != 3) return 2;
  long count = atol(argv[2]);
  for (long i = 0; i < count; i++) {
    int fd = open(argv[1], O_RDONLY);
    if (fd < 0) { perror("open"); return 1; }
    close(fd);
  }
  return 0;
}
`;

export const FORK_EXEC_C = `#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/wait.h>
/* fork-exec <count> <binary>: count times fork, exec binary in the child, wait for it. */
int main(int argc, char **argv) {
  if (argc != 3) return 2;
  long count = atol(argv[1]);
  for (long i = 0; i < count; i++) {
    pid_t pid = fork();
    if (pid < 0) { perror("fork"); return 1; }
    if (pid == 0) { execl(argv[2], argv[2], (char *)0); _exit(127); }
    int status;
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return 1;
  }
  return 0;
}
`;

export interface Programs {
  readonly openLoop: string;
  readonly forkExec: string;
}

export async function buildPrograms(dir: string): Promise<Programs> {
  const build = async (name: string, source: string): Promise<string> => {
    writeFileSync(join(dir, `${name}.c`), source);
    await run('cc', ['-O2', '-Wall', '-Werror', '-o', join(dir, name), join(dir, `${name}.c`)]);
    return join(dir, name);
  };
  return { openLoop: await build('open-loop', OPEN_LOOP_C), forkExec: await build('fork-exec', FORK_EXEC_C) };
}

/** Runs a program to completion without blocking the event loop (the ring is drained meanwhile); returns seconds. */
export async function timeProgram(file: string, args: readonly string[], options: { readonly cwd?: string } = {}): Promise<number> {
  const start = process.hrtime.bigint();
  const child = spawn(file, args, { stdio: 'ignore', ...options });
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (code !== 0) throw new Error(`${file} ${args.join(' ')} ended with ${code ?? signal}`);
  return seconds;
}

/**
 * Two workloads of real work beside the micro-loops, each a command to time with timeProgram:
 * - `compile`: this repository's eBPF C sources (bpf/, every object, clang with -j2) built from scratch into a
 *   directory of the caller's: CPU-bound, a few dozen execs and thousands of header opens;
 * - `npmCi`: `npm ci` of this repository (its committed package.json files and lock, from `git archive HEAD`) from
 *   the local npm cache, offline, without install scripts: tens of thousands of file creations and opens.
 * `prepare` extracts the tree once; each run of `npmCi` replaces its node_modules.
 */
export interface RealisticWorkloads {
  readonly compile: { readonly file: string; readonly args: readonly string[] };
  readonly npmCi: { readonly file: string; readonly args: readonly string[]; readonly cwd: string };
}

export async function prepareRealisticWorkloads(repoRoot: string, dir: string): Promise<RealisticWorkloads> {
  const tree = join(dir, 'repo-at-head');
  await run('mkdir', ['-p', tree]);
  await run('sh', ['-c', 'git -C "$1" archive HEAD | tar -x -C "$2"', 'sh', repoRoot, tree]);
  return {
    compile: { file: 'make', args: ['-s', '-B', '-j2', '-C', join(repoRoot, 'bpf'), `BUILD=${join(dir, 'bpf-build')}`] },
    npmCi: { file: 'npm', args: ['ci', '--offline', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], cwd: tree },
  };
}
