/**
 * Shared by the file sensor's kernel tests (not exported): a child process runner that reports how it ended
 * and a small C program that opens a file many times (the record collector is test-support.ts `collect`).
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunResult } from './test-support.ts';

/** Runs file with args (optionally in cwd) and reports its exit and its stdout. */
export async function runChild(file: string, args: readonly string[], cwd?: string): Promise<RunResult> {
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'ignore'], cwd });
  let stdout = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => (stdout += chunk));
  const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
  if (child.pid === undefined) throw new Error(`${file} did not start`);
  return { pid: child.pid, code, signal, stdout };
}

const OPEN_LOOP_C = `
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
/* open-loop <path> <count>: opens and closes path count times; exits 1 on the first failure. */
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

/** Compiles the open-loop helper into dir and returns its path. */
export function buildOpenLoop(dir: string): string {
  writeFileSync(join(dir, 'open-loop.c'), OPEN_LOOP_C);
  execFileSync('cc', ['-O2', '-Wall', '-Werror', '-o', join(dir, 'open-loop'), join(dir, 'open-loop.c')]);
  return join(dir, 'open-loop');
}
