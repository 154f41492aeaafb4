/**
 * The synthetic enriched events and the default rule pack the detector and replay benchmarks measure with
 * (docs/BENCHMARKS.md describes the mix): deterministic, so every run and every benchmark sees the same events.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '@stinger/config';
import { DetectionRules, PartitionDetector } from '@stinger/detection';
import { NO_FLOW, type CompiledPolicy, type Event } from '@stinger/events';
import type { Logger } from '@stinger/log';
import { compilePolicy, defaultPolicies, parsePolicies, policyKey } from '@stinger/policy';
import { buildOpa, compileRego } from '@stinger/rego';
import { sampleEvent } from '@stinger/testing';

const PACK_DIR = fileURLToPath(new URL('../k8s/policies/', import.meta.url));
export const NODES = 12;
const PODS_PER_NODE = 4;
const T0 = 1_800_000_000_000_000_000n;
const EVENT_SPACING_NS = 100_000n;


/**
 * The default rule pack's native rules, compiled, by policy key. Its Rego module is left out (compiling it needs opa,
 * evaluating it a worker): benchmarks/detector.ts measures it in a stage of its own.
 */
export function loadPack(): Map<string, CompiledPolicy> {
  const sources = readdirSync(PACK_DIR)
    .filter((name) => name.endsWith('.yaml'))
    .sort()
    .map((name) => ({ source: join(PACK_DIR, name), text: readFileSync(join(PACK_DIR, name), 'utf8') }));
  return new Map(defaultPolicies(sources).map((policy) => [policyKey(policy), compilePolicy({ ...policy, spec: { ...policy.spec, rego: null } }).compiled]));
}

export function rulesOf(pack: ReadonlyMap<string, CompiledPolicy>): DetectionRules {
  const rules = new DetectionRules();
  for (const [key, compiled] of pack) rules.set(key, compiled);
  return rules;
}

/** mulberry32: a small deterministic generator, so every run sees the same events. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const O_RDONLY = 0;
const O_WRITE = 0o1 | 0o100 | 0o1000; // O_WRONLY | O_CREAT | O_TRUNC

type Pod = NonNullable<Event['pod']>;

function podOf(node: number, index: number): Pod {
  const uid = `pod-${node}-${index}`;
  return {
    namespace: `team-${index % 3}`,
    name: `web-${node}-${index}`,
    uid,
    labels: { app: `web-${index}`, 'pod-template-hash': '7d9f8c' },
    annotations: {},
    workload: `web-${index}`,
    workload_kind: 'Deployment',
    container: { id: uid.padEnd(64, 'c').slice(0, 64), name: 'app', image: `registry.example/web:${index}` },
  };
}

const PODS: readonly (readonly Pod[])[] = Array.from({ length: NODES }, (_, node) => Array.from({ length: PODS_PER_NODE }, (_, index) => podOf(node, index)));

/** What the generator makes: the share of each kind of event, and whether the pack raises on it. */
const MIX: readonly { readonly share: number; readonly what: string; readonly matches: boolean }[] = [
  { share: 0.005, what: 'exec: a shell in a pod started by the runtime (terminal-shell-in-container)', matches: true },
  { share: 0.002, what: 'exec: apt-get in a pod (package-manager-in-container)', matches: true },
  { share: 0.005, what: 'file: /etc/shadow read by cat (shadow-read; first step of credential-read-then-connect in a pod)', matches: true },
  { share: 0.003, what: 'file: /etc/hosts written by sed (etc-write)', matches: true },
  { share: 0.005, what: 'connect: 10.0.x.x:5432 from a pod (private-network-connect)', matches: true },
  { share: 0.001, what: 'connect: 169.254.169.254:80 from a pod (metadata-service-connect)', matches: true },
  { share: 0.003, what: 'privilege: setresuid(0) by uid 1000 pkexec (setuid-to-root)', matches: true },
  { share: 0.008, what: 'file: /tmp/payload written in a pod (first step of dropped-binary-run)', matches: true },
  { share: 0.002, what: 'exec: /tmp/payload in a pod (completes dropped-binary-run; first step of scratch-binary-connects-out)', matches: true },
  { share: 0.33, what: 'exec: python3, ls, node, grep, sh started by bash (near misses)', matches: false },
  { share: 0.38, what: 'file: reads of /etc/passwd, /etc/ld.so.cache, libc, app config; writes below /var/log (near misses)', matches: false },
  { share: 0.139, what: 'connect: pod CIDR 10.244.0.0/16, service CIDR 10.96.0.0/12, a public address:443 (near misses unless a sequence is open)', matches: false },
  { share: 0.117, what: 'privilege: setuid/setgid by root (near misses)', matches: false },
];

const BINARIES = ['/usr/bin/python3.11', '/usr/bin/ls', '/usr/local/bin/node', '/usr/bin/grep', '/usr/bin/dash'];
const READS = ['/etc/passwd', '/etc/ld.so.cache', '/usr/lib/x86_64-linux-gnu/libc.so.6', '/app/config.json', '/etc/nsswitch.conf'];
const NEAR_DESTINATIONS = ['10.244.3.7', '10.96.0.10', '93.184.216.34'];

/** Which line of MIX a draw in [0, 1) falls on. */
function categoryOf(draw: number): number {
  let rest = draw;
  for (const [index, part] of MIX.entries()) {
    if (rest < part.share) return index;
    rest -= part.share;
  }
  return MIX.length - 1;
}

/** Categories that only happen in a pod. */
const POD_ONLY = new Set([0, 1, 4, 5, 7, 8]);

/** The `index`-th synthetic event (deterministic). */
function syntheticEvent(index: number, rng: () => number): Event {
  const nodeIndex = index % NODES;
  const node = `bench-node-${nodeIndex}`;
  const choice = categoryOf(rng());
  const inPod = POD_ONLY.has(choice) || rng() < 0.6;
  const pod = inPod ? (PODS[nodeIndex]?.[Math.floor(rng() * PODS_PER_NODE)] ?? null) : null;
  const pid = 2000 + Math.floor(rng() * 400);
  const parentPid = 100 + (pid % 40);
  const proc = { pid, tid: pid, start_time: BigInt(pid) * 1_000_000n, container_id: pod?.container?.id ?? null, uid: 0n };
  const parent = { pid: parentPid, tid: parentPid, start_time: BigInt(parentPid) * 1_000_000n, binary: '/usr/bin/bash', container_id: proc.container_id };
  const base = { node, seq: BigInt(index), time: T0 + BigInt(index) * EVENT_SPACING_NS, pod, parent };
  const exec = (binary: string, parentBinary = '/usr/bin/bash'): Event =>
    sampleEvent({
      ...base,
      kind: 'exec',
      process: { ...proc, binary, args: ['-c', 'true'] },
      parent: { ...parent, binary: parentBinary },
      payload: { group: 'exec', filename: binary, euid: 0n, egid: 0n, secure_exec: false, args_truncated: false, sha256: null, reached_by: null },
    });
  const file = (path: string, binary: string, flags: number): Event =>
    sampleEvent({
      ...base,
      kind: 'file',
      process: { ...proc, binary },
      payload: { group: 'file', op: 'open', path, path_as_given: path, new_path: null, flags, mode: null, result: 3, reached_by: null, io: null },
    });
  const connect = (daddr: string, dport: number, binary = '/usr/bin/curl'): Event =>
    sampleEvent({
      ...base,
      kind: 'connect',
      process: { ...proc, binary },
      payload: { group: 'network', family: 'inet', protocol: 'tcp', saddr: null, sport: null, daddr, dport, result: 0, bytes: null, ...NO_FLOW },
    });
  const privilege = (uid: bigint, binary: string): Event =>
    sampleEvent({
      ...base,
      kind: 'privilege',
      process: { ...proc, uid, binary },
      payload: { group: 'privilege', syscall: 'setresuid', ruid: 0n, euid: 0n, suid: 0n, rgid: null, egid: null, sgid: null, result: 0 },
    });
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rng() * list.length)] as T;
  switch (choice) {
    case 0:
      return exec('/usr/bin/bash', '/usr/bin/containerd-shim-runc-v2');
    case 1:
      return exec('/usr/bin/apt-get');
    case 2:
      return file('/etc/shadow', '/usr/bin/cat', O_RDONLY);
    case 3:
      return file('/etc/hosts', '/usr/bin/sed', O_WRITE);
    case 4:
      return connect(`10.0.${Math.floor(rng() * 255)}.${Math.floor(rng() * 255)}`, 5432);
    case 5:
      return connect('169.254.169.254', 80);
    case 6:
      return privilege(1000n, '/usr/bin/pkexec');
    case 7:
      return file('/tmp/payload', '/usr/bin/curl', O_WRITE);
    case 8:
      return exec('/tmp/payload');
    case 9:
      return exec(pick(BINARIES));
    case 10:
      return rng() < 0.85 ? file(pick(READS), pick(BINARIES), O_RDONLY) : file('/var/log/app.log', '/usr/local/bin/node', O_WRITE);
    case 11:
      return connect(pick(NEAR_DESTINATIONS), 443, '/usr/local/bin/node');
    default:
      return privilege(0n, '/usr/sbin/cron');
  }
}

export function syntheticEvents(count: number): Event[] {
  return [...syntheticEventStream(count)];
}

/** The same events as syntheticEvents, one at a time (a million events need not be in memory at once). */
export function* syntheticEventStream(count: number): Generator<Event> {
  const rng = random(20261202);
  for (let index = 0; index < count; index++) yield syntheticEvent(index, rng);
}

/** Share of events some rule of the pack matches (a single-event rule, or the first step of a sequence), and the alerts raised. */
export function matchStats(events: readonly Event[], rules: DetectionRules): { matchingShare: number; alerts: number } {
  let matching = 0;
  const detectors = new Map<string, PartitionDetector>();
  let alerts = 0;
  for (const event of events) {
    const single = rules.single(event.kind).some((rule) => rule.selector(event) && rule.matches(event));
    const step = rules.sequences().some((rule) => rule.selector(event) && rule.steps[0]?.event === event.kind && rule.steps[0].matches(event));
    if (single || step) matching += 1;
    let detector = detectors.get(event.node);
    if (detector === undefined) {
      detector = new PartitionDetector({ rules });
      detectors.set(event.node, detector);
    }
    alerts += detector.observe(event, { emit: true }).length;
  }
  for (const detector of detectors.values()) alerts += detector.flush({ emit: true }).length;
  return { matchingShare: matching / events.length, alerts };
}

const REGO_POLICY = new URL('../k8s/policies/process-tree.yaml', import.meta.url);

/** The pack's Rego policy, compiled to WebAssembly by opa as `stinger policy apply` does. */
export async function compiledRegoPolicy(logger: Logger): Promise<[string, CompiledPolicy]> {
  const [policy] = parsePolicies(readFileSync(REGO_POLICY, 'utf8')).policies;
  if (policy?.spec.rego == null) throw new Error(`${REGO_POLICY.pathname} has no Rego module`);
  const opa = await buildOpa({ cacheDir: loadConfig().cacheDir, logger });
  const compiled = await compileRego(policy.spec.rego, { opaPath: opa.path });
  if (compiled.wasm === undefined) throw new Error(`the pack's module does not compile: ${JSON.stringify(compiled.problems)}`);
  return [policyKey(policy), compilePolicy(policy, { regoWasm: compiled.wasm }).compiled];
}

/**
 * The synthetic stream gives every pod of a node the same parent processes (pids 100-139 with fixed start times), so
 * one parent would be in many containers at once and most pod processes would look like they came from outside their
 * container. Here each container's parents are its own (pid and start time offset per container), as on a real node.
 */
export function withPodParents(events: readonly Event[]): Event[] {
  const containers = new Map<string, number>();
  return events.map((event) => {
    const container = event.process.container_id;
    if (container === null || event.parent === null) return event;
    const offset = containers.get(container) ?? containers.size + 1;
    containers.set(container, offset);
    const pid = event.parent.pid + offset * 1000;
    return { ...event, parent: { ...event.parent, pid, tid: pid, start_time: event.parent.start_time + BigInt(offset) * 1_000_000_000n } };
  });
}
