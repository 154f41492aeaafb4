/**
 * Shared by the network/privilege kernel tests (not exported): a small C helper built in before(), throwaway
 * cgroup v2 directories for scoping, a record collector over any decoder, and the C-layout printer of the
 * layout tests. Kernel tests run as root, one file at a time.
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { cgroup2MountPoint } from './kernel-environment.ts';
import { createRingBufferReader, forEachRecord, type RingBufferReader } from './ring-buffer-reader.ts';
import type { RecordSlice } from './records.ts';
import type { Sensor } from './sensor.ts';

const BPF_LIB = fileURLToPath(new URL('../../../bpf/lib/', import.meta.url));

const HELPER_SOURCE = String.raw`
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static struct sockaddr_in addr_of(const char *ip, int port) {
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(port);
	inet_pton(AF_INET, ip, &sa.sin_addr);
	return sa;
}

int main(int argc, char **argv) {
	if (argc < 2) return 2;
	if (!strcmp(argv[1], "tcp-connect") && argc == 4) {
		/* blocking TCP connect; prints "ok" or "errno N" */
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in sa = addr_of(argv[2], atoi(argv[3]));
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			printf("ok %d\n", fd);
			write(fd, "hello", 5);
		} else {
			printf("errno %d\n", errno);
		}
		close(fd);
		return 0;
	}
	if (!strcmp(argv[1], "accept-once") && argc == 4) {
		/* bind + listen on ip:port, print "listening <fd>", accept one peer, print its port */
		int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		struct sockaddr_in sa = addr_of(argv[2], atoi(argv[3])), peer;
		socklen_t len = sizeof(peer);
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 7)) { printf("errno %d\n", errno); return 1; }
		printf("listening %d\n", fd);
		fflush(stdout);
		int c = accept(fd, (struct sockaddr *)&peer, &len);
		if (c < 0) { printf("errno %d\n", errno); return 1; }
		printf("accepted %d %d\n", c, ntohs(peer.sin_port));
		return 0;
	}
	if (!strcmp(argv[1], "udp-connect-loop") && argc == 5) {
		/* n connect(2) calls of one UDP socket to ip:port (no packet is sent); prints the elapsed ns */
		long n = atol(argv[2]);
		int fd = socket(AF_INET, SOCK_DGRAM, 0);
		struct sockaddr_in sa = addr_of(argv[3], atoi(argv[4]));
		struct timespec a, b;
		clock_gettime(CLOCK_MONOTONIC, &a);
		for (long i = 0; i < n; i++)
			if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) { printf("errno %d\n", errno); return 1; }
		clock_gettime(CLOCK_MONOTONIC, &b);
		printf("%lld\n", (long long)(b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec));
		return 0;
	}
	if (!strcmp(argv[1], "setuid") && argc == 3) {
		int r = setuid(atoi(argv[2]));
		printf("%d\n", r == 0 ? 0 : -errno);
		return 0;
	}
	return 2;
}
`;

export interface TestHelper {
  readonly path: string;
  remove(): void;
}

/** Compiles the helper into a temporary directory. */
export function buildTestHelper(): TestHelper {
  const dir = mkdtempSync(join(tmpdir(), 'stinger-net-helper-'));
  writeFileSync(join(dir, 'helper.c'), HELPER_SOURCE);
  const path = join(dir, 'stinger-helper');
  execFileSync('cc', ['-O2', '-Wall', '-o', path, join(dir, 'helper.c')]);
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface TestCgroup {
  readonly path: string;
  /** Moves any process left out to the parent and removes the directory. Idempotent. */
  remove(): void;
}

/** A fresh cgroup v2 directory under the mount's root, named stinger-test-<random>. */
export function createTestCgroup(): TestCgroup {
  const root = cgroup2MountPoint();
  const path = join(root, `stinger-test-${randomBytes(6).toString('hex')}`);
  mkdirSync(path);
  return {
    path,
    remove() {
      if (!existsSync(path)) return;
      for (let attempt = 0; attempt < 50; attempt++) {
        for (const pid of readFileSync(join(path, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) {
          try {
            writeFileSync(join(root, 'cgroup.procs'), pid);
          } catch {
            // gone already
          }
        }
        try {
          rmdirSync(path);
          return;
        } catch {
          execFileSync('sleep', ['0.05']);
        }
      }
      rmdirSync(path);
    },
  };
}

export interface RunResult {
  readonly pid: number;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
}

/** Runs file args inside cgroupPath (the shell moves itself in, then execs), or normally when cgroupPath is undefined. */
export async function runIn(cgroupPath: string | undefined, file: string, args: readonly string[]): Promise<RunResult> {
  const child =
    cgroupPath === undefined
      ? spawn(file, args, { stdio: ['ignore', 'pipe', 'inherit'] })
      : spawn('/bin/sh', ['-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', cgroupPath, file, ...args], {
          stdio: ['ignore', 'pipe', 'inherit'],
        });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  if (child.pid === undefined) throw new Error(`${file} did not start`);
  return { pid: child.pid, code, signal, stdout };
}

export interface Collector<T> {
  readonly records: T[];
  waitFor<U extends T>(predicate: (r: T) => r is U, timeoutMs?: number): Promise<U>;
  /** Drains what is in the ring now and returns how many records (of any kind) the ring held. */
  drain(): number;
  readonly reader: RingBufferReader;
  stop(): Promise<void>;
}

/** Decodes every record of sensor's ring buffer with decode (undefined results are counted but not kept). */
export function collect<T>(sensor: Sensor, decode: (slice: RecordSlice) => T | undefined, start = true): Collector<T> {
  const records: T[] = [];
  const reader = createRingBufferReader({
    map: sensor.events,
    onBatch: (batch) =>
      forEachRecord(batch, (offset, length) => {
        const record = decode({ buffer: batch.buffer, view: batch.view, offset, length });
        if (record !== undefined) records.push(record);
      }),
  });
  if (start) reader.start();
  return {
    records,
    reader,
    drain: () => reader.drainNow(),
    stop: () => reader.stop(),
    async waitFor(predicate, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = records.find(predicate);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no matching record within ${timeoutMs} ms (${records.length} records seen)`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
  };
}

export interface Layout {
  readonly size: number;
  readonly offsets: Readonly<Record<string, number>>;
}

export interface CLayout {
  readonly structs: Record<string, { size: number; offsets: Record<string, number> }>;
  readonly constants: Record<string, number>;
}

/** Compiles and runs a host C program printing sizeof/offsetof of `structs` and the values of `constants` from `header`. */
export function cLayout(header: string, structs: Readonly<Record<string, Layout>>, constants: readonly string[]): CLayout {
  const lines: string[] = ['#include <stdio.h>', '#include <stddef.h>', `#include "${header}"`, 'int main(void) {', 'printf("{\\"structs\\":{");'];
  Object.entries(structs).forEach(([name, layout], i) => {
    lines.push(`printf("%s\\"${name}\\":{\\"size\\":%zu,\\"offsets\\":{", ${i === 0 ? '""' : '","'}, sizeof(struct ${name}));`);
    Object.keys(layout.offsets).forEach((field, j) => {
      lines.push(`printf("%s\\"${field}\\":%zu", ${j === 0 ? '""' : '","'}, offsetof(struct ${name}, ${field}));`);
    });
    lines.push('printf("}}");');
  });
  lines.push('printf("},\\"constants\\":{");');
  constants.forEach((name, i) => {
    lines.push(`printf("%s\\"${name}\\":%lld", ${i === 0 ? '""' : '","'}, (long long)(${name}));`);
  });
  lines.push('printf("}}\\n");', 'return 0;', '}');
  const dir = mkdtempSync(join(tmpdir(), 'stinger-layout-'));
  try {
    writeFileSync(join(dir, 'layout.c'), lines.join('\n'));
    execFileSync('cc', ['-Wall', '-Werror', '-I', BPF_LIB, '-o', join(dir, 'layout'), join(dir, 'layout.c')]);
    return JSON.parse(execFileSync(join(dir, 'layout'), { encoding: 'utf8' })) as CLayout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
