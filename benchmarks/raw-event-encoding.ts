/**
 * CPU per RawEvent of the agent's Avro encoding: encodeRawEvent (avsc, every field of every event) against
 * RawEventEncoder (the same bytes, each Process object's bytes kept from its second event on), on the same events in the
 * same run. The events are file opens of 40 processes in Kubernetes pods (exec ids, binaries, a few arguments, cwd,
 * cgroup path, container id), each with its parent, as the agent's EventBuilder makes them: the same Process object
 * for a process whose fields did not change. A third row gives RawEventEncoder a fresh copy of each process per event
 * (nothing to reuse: what it costs when every event's process changed). Each cell: CPU time (process.cpuUsage, user +
 * system) of encoding all events, divided by their number; median of the runs; the bytes are checked identical first.
 *
 *   node benchmarks/raw-event-encoding.ts [--events N] [--runs K]
 */
import { availableParallelism, cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { encodeRawEvent, RawEventEncoder, type Process, type RawEvent } from '@stinger/events';

const { values } = parseArgs({ options: { events: { type: 'string', default: '200000' }, runs: { type: 'string', default: '7' } } });
const EVENTS = Number(values.events);
const RUNS = Number(values.runs);
const PROCESSES = 40;
if (!Number.isSafeInteger(EVENTS) || EVENTS < 1) throw new Error(`--events must be a positive integer, got ${values.events}`);
if (!Number.isSafeInteger(RUNS) || RUNS < 1) throw new Error(`--runs must be a positive integer, got ${values.runs}`);

const BINARIES = ['/usr/bin/python3.12', '/usr/local/bin/node', '/usr/sbin/nginx', '/bin/sh', '/usr/bin/java'];

function processOf(i: number): { process: Process; parent: Process } {
  const container = (i * 2654435761).toString(16).padStart(8, '0').repeat(8);
  const pod = `kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${(i * 7919).toString(16).padStart(8, '0')}_1234_5678_9abc_def012345678.slice`;
  const cgroupPath = `/${pod}/cri-containerd-${container}.scope`;
  const parentPid = 1000 + i;
  const parent: Process = {
    exec_id: `worker-node-7:${1_700_000_000_000n + BigInt(i)}:${parentPid}`,
    pid: parentPid,
    tid: parentPid,
    uid: 0n,
    gid: 0n,
    binary: '/usr/bin/containerd-shim-runc-v2',
    args: ['-namespace', 'k8s.io', '-id', container, '-address', '/run/containerd/containerd.sock'],
    cwd: `/run/containerd/io.containerd.runtime.v2.task/k8s.io/${container}`,
    start_time: 1_700_000_000_000n + BigInt(i),
    cgroup_id: 9000n + BigInt(i),
    cgroup_path: cgroupPath,
    container_id: container,
    parent_exec_id: 'worker-node-7:1000:1',
  };
  const pid = 20_000 + i;
  const process: Process = {
    exec_id: `worker-node-7:${1_800_000_000_000n + BigInt(i)}:${pid}`,
    pid,
    tid: pid,
    uid: 1000n,
    gid: 1000n,
    binary: BINARIES[i % BINARIES.length] as string,
    args: ['--config', `/etc/app/${i}/config.yaml`, '--log-level', 'info'],
    cwd: '/app',
    start_time: 1_800_000_000_000n + BigInt(i),
    cgroup_id: 9000n + BigInt(i),
    cgroup_path: cgroupPath,
    container_id: container,
    parent_exec_id: parent.exec_id,
  };
  return { process, parent };
}

const pool = Array.from({ length: PROCESSES }, (_, i) => processOf(i));
const events: RawEvent[] = Array.from({ length: EVENTS }, (_, n) => {
  const { process, parent } = pool[n % PROCESSES] as { process: Process; parent: Process };
  return {
    id: crypto.randomUUID(),
    time: 1_800_000_000_000_000_000n + BigInt(n) * 1000n,
    node: 'worker-node-7',
    agent_id: '6f1c2a34-9d7e-4b1a-8c3f-2e5d6a7b8c9d',
    boot_id: 'a1b2c3d4-e5f6-4789-8abc-def012345678',
    seq: BigInt(n),
    kind: 'file',
    process,
    parent,
    payload: { group: 'file', op: 'open', path: `/app/data/${n % 500}.json`, path_as_given: `data/${n % 500}.json`, new_path: null, flags: 0, mode: null, result: 3, reached_by: null, io: null },
    action: null,
  };
});
// Nothing to reuse: each event carries copies of its processes (what toProcess did for every event before).
const copied: RawEvent[] = events.map((event) => ({ ...event, process: { ...event.process, args: [...event.process.args] }, parent: event.parent && { ...event.parent, args: [...event.parent.args] } }));

const check = new RawEventEncoder();
for (const event of events.slice(0, 2 * PROCESSES)) {
  if (!check.encode(event).equals(encodeRawEvent(event))) throw new Error(`RawEventEncoder's bytes differ from encodeRawEvent's for event ${event.seq}`);
}

const median = (samples: readonly number[]): number => {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
};

/** CPU µs per event of encoding `input` with `encode`, one sample per run. */
function cpuPerEvent(input: readonly RawEvent[], encode: (event: RawEvent) => Buffer): number {
  const before = process.cpuUsage();
  for (const event of input) encode(event);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / input.length;
}

const methods: readonly (readonly [string, readonly RawEvent[], () => (event: RawEvent) => Buffer])[] = [
  ['encodeRawEvent (reference)', events, () => encodeRawEvent],
  ['RawEventEncoder, Process objects reused', events, () => { const encoder = new RawEventEncoder(); return (event) => encoder.encode(event); }],
  ['RawEventEncoder, a fresh copy of each process per event', copied, () => { const encoder = new RawEventEncoder(); return (event) => encoder.encode(event); }],
];
const samples = methods.map(() => [] as number[]);
// Interleaved runs, a fresh encoder each (its first encoding of each process is in the sample), after one warm-up.
for (let run = 0; run <= RUNS; run++) {
  methods.forEach(([, input, make], m) => {
    const sample = cpuPerEvent(input, make());
    if (run > 0) samples[m]?.push(sample);
  });
}
const reference = median(samples[0] as number[]);
console.log(`# RawEvent encoding: CPU µs per event, median of ${RUNS} runs of ${EVENTS} events (${PROCESSES} processes, each with its parent)`);
console.log('');
console.log(`machine: ${availableParallelism()} cores, ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
console.log('');
console.log('| method | µs per event | runs (min–max) | vs encodeRawEvent |');
console.log('|---|---:|---:|---:|');
methods.forEach(([name], m) => {
  const runs = samples[m] as number[];
  const value = median(runs);
  console.log(`| ${name} | ${value.toFixed(3)} | ${Math.min(...runs).toFixed(3)}–${Math.max(...runs).toFixed(3)} | ${(value / reference).toFixed(2)}× |`);
});
