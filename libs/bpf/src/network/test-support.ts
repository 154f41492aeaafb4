/**
 * Shared by the network/privilege kernel tests (not exported): a small C helper built in before() and throwaway
 * cgroup v2 directories for scoping (the record collector is core/test-support.ts `collect`). Kernel tests run as
 * root, one file at a time.
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import assert from 'node:assert/strict';
import { cgroup2MountPoint } from '../core/kernel-environment.ts';
import { NetRuleError } from './rules.ts';
import type { RunResult } from '../core/test-support.ts';

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
  // 'close', not 'exit': 'exit' may come before the last of stdout has been read.
  const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
  if (child.pid === undefined) throw new Error(`${file} did not start`);
  return { pid: child.pid, code, signal, stdout };
}

/** The field a NetRuleError names for what `fn` was given; fails the test when `fn` throws nothing else or nothing. */
export function ruleErrorField(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof NetRuleError, `not a NetRuleError: ${String(error)}`);
    return error.field;
  }
  assert.fail('no error');
}
