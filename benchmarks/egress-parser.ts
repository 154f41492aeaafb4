/**
 * What the egress parser (bpf/network/bpf_egress.c) costs a loopback TCP transfer, on the real kernel (root). A C
 * program in a cgroup of its own forks a receiver and sends it `--mb` MiB over one TCP connection to 127.0.0.1, and
 * reports the CPU time it and the receiver used (getrusage: the machine's other load does not count, its wall time
 * would) and the segments sent (TCP_INFO). Two workloads, each timed in two stages that alternate within
 * every run:
 *
 * - bulk: 64 KiB writes (what the goal is about: only the first payload is parsed, every later packet pays
 *   one socket-storage lookup and the socket's byte and packet counters, both ways, and leaves);
 * - small: 1 KiB writes with TCP_NODELAY (more packets per byte);
 * - UDP: 1-byte datagrams on a connected socket (one packet per send: the per-packet price, the socket's first
 *   datagram parsed and every later one leaving after the storage lookup);
 *
 * and the stages: without the parser (the reference) and with it attached to the program's cgroup (connect hooks,
 * sendmsg hooks, cgroup_skb/egress and ingress, sock_release: the parser and the per-socket flow counters). The first payload is an HTTP request line, so the parser reads and reports
 * it once per connection as it would in production. Medians over runs; ratios are per run, same run.
 *   npm run -s -w @stinger/bpf build:bpf
 *   npx node benchmarks/egress-parser.ts [--runs K] [--mb N] [--datagrams D]
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { attachEgressParser, cgroup2MountPoint, loadNetworkSensor, type EgressParser, type NetworkSensor } from '@stinger/bpf';
import { fmt, load, median, spread } from './report.ts';

const TRANSFER_C = String.raw`#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
/*
 * transfer <mib> <chunk> <nodelay>: prints "<CPU ns> <segments sent>" for mib MiB sent over loopback TCP in chunk-byte
 * writes (CPU of sender and receiver: on loopback the receive path runs there too).
 * transfer udp <count>: prints "<CPU ns> <count>" for count 1-byte datagrams sent on a connected UDP socket to a loopback
 * socket that never reads (the receiver drops what overflows its buffer; every datagram still leaves through egress).
 */
/* CPU time (user + system) of this process and its waited-for children, in ns: what the work cost, whatever else
 * the machine runs meanwhile (wall time on a loaded machine is mostly waiting for a CPU). */
static long long cpu_ns(void) {
	struct rusage self, children;
	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_CHILDREN, &children);
	long long us = 0;
	struct timeval t[4] = { self.ru_utime, self.ru_stime, children.ru_utime, children.ru_stime };
	for (int i = 0; i < 4; i++) us += t[i].tv_sec * 1000000LL + t[i].tv_usec;
	return us * 1000;
}

static int udp(long count) {
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int receiver = socket(AF_INET, SOCK_DGRAM, 0), fd = socket(AF_INET, SOCK_DGRAM, 0);
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if (bind(receiver, (struct sockaddr *)&sa, sizeof(sa)) || getsockname(receiver, (struct sockaddr *)&sa, &len)) { perror("bind"); return 1; }
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) { perror("connect"); return 1; }
	long long start = cpu_ns();
	for (long i = 0; i < count; i++)
		if (send(fd, "x", 1, 0) != 1) { perror("send"); return 1; }
	printf("%lld %ld\n", cpu_ns() - start, count);
	return 0;
}

int main(int argc, char **argv) {
	if (argc == 3 && !strcmp(argv[1], "udp")) return udp(atol(argv[2]));
	if (argc != 4) return 2;
	long total = atol(argv[1]) << 20, chunk = atol(argv[2]);
	int nodelay = atoi(argv[3]), one = 1, listener = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if (bind(listener, (struct sockaddr *)&sa, sizeof(sa)) || listen(listener, 1) || getsockname(listener, (struct sockaddr *)&sa, &len)) { perror("listen"); return 1; }
	pid_t child = fork();
	if (child == 0) {
		static char sink[1 << 16];
		int c = accept(listener, NULL, NULL);
		while (read(c, sink, sizeof(sink)) > 0) {}
		_exit(0);
	}
	char *buffer = malloc(chunk);
	memset(buffer, 'x', chunk);
	const char *request = "GET /bulk HTTP/1.1\r\nHost: bench.egress.stinger.test\r\n\r\n";
	memcpy(buffer, request, strlen(request) < (size_t)chunk ? strlen(request) : (size_t)chunk);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (nodelay) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	long long start = cpu_ns();
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) { perror("connect"); return 1; }
	for (long sent = 0; sent < total;) {
		ssize_t n = write(fd, buffer, chunk);
		if (n <= 0) { perror("write"); return 1; }
		sent += n;
		if (sent == n) memset(buffer, 'x', chunk); /* later writes carry no request line */
	}
	struct tcp_info info;
	socklen_t info_len = sizeof(info);
	getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &info_len);
	shutdown(fd, SHUT_WR);
	waitpid(child, NULL, 0);
	printf("%lld %u\n", cpu_ns() - start, info.tcpi_segs_out);
	return 0;
}
`;

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '9' }, mb: { type: 'string', default: '2048' }, datagrams: { type: 'string', default: '500000' } },
});
const runs = Number(values.runs);
const mib = Number(values.mb);
const datagrams = Number(values.datagrams);
const dir = mkdtempSync(join(tmpdir(), 'stinger-bench-egress-'));
const cgroup = join(cgroup2MountPoint(), `stinger-bench-egress-${process.pid}`);
let sensor: NetworkSensor | undefined;
let parser: EgressParser | undefined;
/** kernel.bpf_stats_enabled as found: put back at the end (it times every BPF program of the machine while on). */
let statsBefore: string | undefined;

interface Sample {
  readonly ns: number;
  readonly segments: number;
}

/** The kernel's own accounting of a program (kernel.bpf_stats_enabled): runs and the ns spent in them. */
interface ProgramStats {
  readonly runs: number;
  readonly ns: number;
}

const BPF_STATS = '/proc/sys/kernel/bpf_stats_enabled';

/**
 * The per-packet programs attached to `cgroupPath` (bpftool cgroup show: cgroup_skb/egress, the parser and the sent
 * counters, and cgroup_skb/ingress, the received counters), their run statistics summed: every packet each runs for.
 */
function packetProgramStats(cgroupPath: string): ProgramStats {
  const attached = JSON.parse(execFileSync('bpftool', ['cgroup', 'show', cgroupPath, '-j'], { encoding: 'utf8' }) || '[]') as { id: number; attach_type: string }[];
  const programs = attached.filter((p) => p.attach_type === 'cgroup_inet_egress' || p.attach_type === 'cgroup_inet_ingress');
  if (programs.length !== 2) throw new Error(`expected the egress and ingress programs on ${cgroupPath}, found ${programs.map((p) => p.attach_type).join(', ')}`);
  let runs = 0;
  let ns = 0;
  for (const program of programs) {
    const info = JSON.parse(execFileSync('bpftool', ['prog', 'show', 'id', String(program.id), '-j'], { encoding: 'utf8' })) as { run_cnt?: number; run_time_ns?: number };
    runs += info.run_cnt ?? 0;
    ns += info.run_time_ns ?? 0;
  }
  return { runs, ns };
}

interface Workload {
  readonly name: string;
  /** Bytes per write(2); 0: the UDP datagram loop. */
  readonly chunk: number;
  readonly nodelay: boolean;
  /** MiB for TCP; datagrams for UDP. */
  readonly mib: number;
}

/** Runs the transfer inside the benchmark's cgroup (the shell moves itself in, then execs). */
async function transfer(program: string, workload: Workload): Promise<Sample> {
  const { chunk, nodelay, mib: megabytes } = workload;
  const args = chunk === 0 ? ['udp', String(megabytes)] : [String(megabytes), String(chunk), nodelay ? '1' : '0'];
  const child = spawn('/bin/sh', ['-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', cgroup, program, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (data: Buffer) => (out += data.toString()));
  const [code] = (await once(child, 'close')) as [number | null];
  if (code !== 0) throw new Error(`transfer ended with ${code}`);
  const [ns, segments] = out.trim().split(' ').map(Number);
  return { ns: ns ?? Number.NaN, segments: segments ?? Number.NaN };
}

try {
  writeFileSync(join(dir, 'transfer.c'), TRANSFER_C);
  await promisify(execFile)('cc', ['-O2', '-Wall', '-Werror', '-o', join(dir, 'transfer'), join(dir, 'transfer.c')]);
  const program = join(dir, 'transfer');
  mkdirSync(cgroup);
  statsBefore = readFileSync(BPF_STATS, 'utf8').trim();
  writeFileSync(BPF_STATS, '1');
  sensor = loadNetworkSensor();
  const workloads: Workload[] = [
    { name: 'bulk: 64 KiB writes', chunk: 65536, nodelay: false, mib },
    { name: 'small: 1 KiB writes, TCP_NODELAY', chunk: 1024, nodelay: true, mib: Math.max(1, Math.round(mib / 16)) },
    { name: 'UDP: 1-byte datagrams, connected socket (segments: datagrams)', chunk: 0, nodelay: false, mib: datagrams },
  ];
  const samples = workloads.map(() => ({ without: [] as Sample[], with: [] as Sample[], program: [] as ProgramStats[] }));
  let records = 0n;
  let flows = 0n;
  for (let run = 0; run < runs; run++) {
    for (const [index, workload] of workloads.entries()) {
      const stage = samples[index]!;
      // Alternate the order between runs, so a drift of the machine's load does not favour one stage.
      const order = run % 2 === 0 ? (['without', 'with'] as const) : (['with', 'without'] as const);
      for (const which of order) {
        if (which === 'with') parser = attachEgressParser({ sensor, cgroupPath: cgroup, rateLimit: { perSecond: 0, burst: 1 } });
        const before = parser === undefined ? null : packetProgramStats(cgroup);
        stage[which].push(await transfer(program, workload));
        if (before !== null) {
          const after = packetProgramStats(cgroup);
          stage.program.push({ runs: after.runs - before.runs, ns: after.ns - before.ns });
        }
        if (parser !== undefined) {
          records += parser.counters().emitted;
          flows += parser.counters().flows;
          parser.close();
          parser = undefined;
        }
      }
    }
  }
  const lines = [
    `machine: ${availableParallelism()} cores, ${cpus()[0]?.model ?? '?'}, kernel ${release()}, Node ${process.version}, load ${load()}; ${runs} runs, medians (min–max)`,
    '',
    '| loopback transfer | MiB | segments sent (without / with) | CPU without the parser (ms) — reference | CPU with the parser (ms) | ratio, same run | CPU per segment, reference (ns) | egress + ingress programs per packet (ns, kernel accounting) | programs\' time / transfer CPU |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const [index, workload] of workloads.entries()) {
    const stage = samples[index]!;
    const ratios = stage.with.map((s, i) => s.ns / (stage.without[i]?.ns ?? Number.NaN));
    const perSegment = stage.without.map((s) => s.ns / s.segments);
    const nsPerRun = stage.program.map((p) => p.ns / Math.max(1, p.runs));
    // The parser's own time (every packet of the transfer, data and ACKs) as a share of the transfer's CPU, same run.
    const share = stage.program.map((p, i) => p.ns / (stage.with[i]?.ns ?? Number.NaN));
    lines.push(
      `| ${workload.name} | ${workload.chunk === 0 ? '—' : fmt(workload.mib)} | ${fmt(median(stage.without.map((s) => s.segments)))} / ${fmt(median(stage.with.map((s) => s.segments)))} | ${spread(stage.without.map((s) => s.ns / 1e6), 1)} | ${spread(stage.with.map((s) => s.ns / 1e6), 1)} | ${spread(ratios, 3)} | ${spread(perSegment, 0)} | ${spread(nsPerRun, 1)} (${fmt(median(stage.program.map((p) => p.runs)))} runs) | ${spread(share.map((x) => x * 100), 2)} % |`,
    );
  }
  lines.push(
    '',
    `egress records written while attached: ${records} (one per TCP connection: the HTTP request line; ${runs * 2} connections; the UDP loop's datagrams are not to port 53 and make none)`,
    `flow records written while attached: ${flows} (one per connected socket at its release: ${runs * 3} sockets; interim ones after 60 s, none here)`,
  );
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  if (statsBefore !== undefined) writeFileSync(BPF_STATS, statsBefore);
  parser?.close();
  sensor?.close();
  try {
    rmdirSync(cgroup);
  } catch {
    // not made, or a process is still leaving it
  }
  rmSync(dir, { recursive: true, force: true });
}
