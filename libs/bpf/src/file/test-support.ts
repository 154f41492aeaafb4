/**
 * Shared by the file sensor's kernel tests (not exported): a child process runner that reports how it ended,
 * a small C program that opens a file many times, one that does known I/O through a file's descriptors and one that
 * opens (or executes) a file by a given kind of name and says how it ended (the record collector is core/test-support.ts
 * `collect`).
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunResult } from '../core/test-support.ts';
import { probeFeatures } from '../core/features.ts';
import { chooseSensorMode } from '../core/sensor-modes.ts';
import type { FileSensorMode } from './sensor.ts';

/**
 * The mode the agent would load the file sensor in on this kernel (chooseSensorMode from probeFeatures): the file
 * sensor's kernel tests run in it, so the same tests prove the same rules hold in lsm mode (a kernel with BPF LSM)
 * and in tracepoint mode (elsewhere).
 */
export function kernelFileSensorMode(): FileSensorMode {
  return chooseSensorMode('file', probeFeatures()).mode === 'lsm' ? 'lsm' : 'tracepoint';
}

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

/** Compiles a C helper's source into dir/name and returns its path. */
function compileHelper(dir: string, name: string, source: string): string {
  writeFileSync(join(dir, `${name}.c`), source);
  execFileSync('cc', ['-O2', '-Wall', '-Werror', '-o', join(dir, name), join(dir, `${name}.c`)]);
  return join(dir, name);
}

/** Compiles the open-loop helper into dir and returns its path. */
export function buildOpenLoop(dir: string): string {
  return compileHelper(dir, 'open-loop', OPEN_LOOP_C);
}

const FD_IO_C = `
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <unistd.h>
/*
 * fd-io <path> close|exit: opens path read-write, reads 3 x 100 bytes, preads 50, dup()s the descriptor and writes
 * 10 bytes through the copy, sendfile()s 200 bytes from the first to /dev/null, mmaps 4096 bytes of it; then closes
 * both descriptors (close) or exits with them open (exit). Prints the numbers of the two descriptors. Exits 1 on
 * the first call that does not do exactly that.
 */
#define CHECK(cond) do { if (!(cond)) { perror(#cond); return 1; } } while (0)
int main(int argc, char **argv) {
  if (argc != 3) return 2;
  char buf[100];
  int fd = open(argv[1], O_RDWR);
  CHECK(fd >= 0);
  for (int i = 0; i < 3; i++) CHECK(read(fd, buf, sizeof buf) == 100);
  CHECK(pread(fd, buf, 50, 0) == 50);
  int copy = dup(fd);
  CHECK(copy >= 0);
  CHECK(write(copy, "0123456789", 10) == 10);
  int null = open("/dev/null", O_WRONLY);
  CHECK(null >= 0);
  off_t offset = 0;
  CHECK(sendfile(null, fd, &offset, 200) == 200);
  void *map = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
  CHECK(map != MAP_FAILED);
  munmap(map, 4096);
  close(null);
  printf("%d %d\\n", fd, copy);
  fflush(stdout);
  if (strcmp(argv[2], "exit") == 0) _exit(0);
  CHECK(close(fd) == 0);
  CHECK(close(copy) == 0);
  return 0;
}
`;

/** Compiles the fd-io helper (see FD_IO_C) into dir and returns its path. */
export function buildFdIo(dir: string): string {
  return compileHelper(dir, 'fd-io', FD_IO_C);
}

const OPEN_TRY_C = `
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
/*
 * open-try path <p> | at <dir> <name> | cwd <dir> <name>: opens p, or name relative to a descriptor of dir (openat),
 * or name after chdir(dir), read-only; prints "ok <what it read>" or the open's errno as a name (EPERM, ENOENT, ...).
 * Exits 0 whatever the open did; 2 for wrong arguments, 3 when dir cannot be opened or entered.
 * open-try exec <p>: execv(p) with no arguments; if it returns, prints its errno as a name and exits 0.
 */
static const char *errno_name(int e) {
  switch (e) {
  case EPERM: return "EPERM";
  case EACCES: return "EACCES";
  case ENOENT: return "ENOENT";
  default: return "other";
  }
}
int main(int argc, char **argv) {
  int fd;
  if (argc == 3 && strcmp(argv[1], "path") == 0) {
    fd = open(argv[2], O_RDONLY);
  } else if (argc == 4 && strcmp(argv[1], "at") == 0) {
    int dir = open(argv[2], O_RDONLY | O_DIRECTORY);
    if (dir < 0) return 3;
    fd = openat(dir, argv[3], O_RDONLY);
  } else if (argc == 3 && strcmp(argv[1], "exec") == 0) {
    char *args[] = { argv[2], NULL };
    execv(argv[2], args);
    printf("%s\\n", errno_name(errno));
    return 0;
  } else if (argc == 4 && strcmp(argv[1], "cwd") == 0) {
    if (chdir(argv[2]) != 0) return 3;
    fd = open(argv[3], O_RDONLY);
  } else {
    return 2;
  }
  if (fd < 0) {
    printf("%s\\n", errno_name(errno));
    return 0;
  }
  char buf[64];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  buf[n > 0 ? n : 0] = 0;
  printf("ok %s", buf);
  return 0;
}
`;

/** Compiles the open-try helper (see OPEN_TRY_C) into dir and returns its path. */
export function buildOpenTry(dir: string): string {
  return compileHelper(dir, 'open-try', OPEN_TRY_C);
}
