/**
 * The closed loop on the real kernel and broker: a process in a (simulated) pod reads a watched file → the agent's
 * raw event → the enricher's event (container identity) → the detector's alert → the enforcer's signed kill command
 * → the agent verifies it and kills exactly that process → ack → enforcement record; each hop asserted. Then the
 * same policy switched to monitor alerts without killing, and deleting it stops the reports. Forged, unsigned,
 * expired, replayed and wrong-node commands and policies are refused and counted; a command naming a pid that was
 * reused since is refused while a command naming the new process by its start time acts.
 *
 * Policies name only this test's temp paths; commands target only processes this test started.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  decodeAlert,
  decodeControlAck,
  decodeControlCommand,
  decodeEnforcement,
  decodeEvent,
  decodeRawEvent,
  encodeCompiledPolicy,
  encodeControlCommand,
  type ControlCommand,
} from '@stinger/events';
import { bootstrapTopics, createProducer, topicName, type KafkaClient } from '@stinger/kafka';
import { compilePolicy, parsePolicies } from '@stinger/policy';
import { generateSigningKey, signControlCommand, signPolicyRecord } from '@stinger/trust';
import { buildBpf, freePort, startAgent, type RunningAgent } from '../helpers/agent.ts';
import { policyStatusOf } from '../helpers/agent-events.ts';
import { runStinger } from '../helpers/cli.ts';
import { collectTopic, firstDecoded, testBrokers, testClient, uniqueName, type Collector } from '../helpers/kafka.ts';
import { testSigningKey } from '../helpers/keys.ts';
import { podCgroups, spawnInPod, type PodProcess } from '../helpers/pod-cgroup.ts';
import { startPipeline, type Pipeline } from '../helpers/pipeline.ts';

const tag = randomBytes(4).toString('hex');
const prefix = `${uniqueName('loop')}.`;
const nodeName = `loop-node-${tag}`;
const dir = mkdtempSync(join(tmpdir(), 'stinger-loop-'));
const cliEnv = () => ({ KAFKA_BROKERS: testBrokers(), STINGER_TOPIC_PREFIX: prefix });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let client: KafkaClient;
let agent: RunningAgent | undefined;
let pipeline: Pipeline | undefined;
let metricsPort = 0;
const collectors: Record<string, Collector> = {};
const applied = new Set<string>();
const children: ChildProcess[] = [];
const pods = podCgroups();
const procs = pods.procsOf(pods.container(randomUUID(), randomBytes(32).toString('hex')));

before(async () => {
  buildBpf();
  client = testClient('loop-test');
  await bootstrapTopics({ client, prefix });
  for (const id of ['eventsRaw', 'events', 'alerts', 'control', 'controlAcks', 'enforcements', 'policyStatus'] as const) {
    collectors[id] = await collectTopic(client, topicName(id, prefix));
  }
  metricsPort = await freePort();
  agent = await startAgent({ brokers: testBrokers(), topicPrefix: prefix, nodeName, extraEnv: { STINGER_AGENT_METRICS_ADDRESS: `127.0.0.1:${metricsPort}` } });
  pipeline = await startPipeline({ brokers: testBrokers(), topicPrefix: prefix });
});

after(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  if (applied.size > 0) runStinger(['policy', 'delete', ...applied], cliEnv());
  await pipeline?.stop();
  const code = await agent?.stop();
  for (const collector of Object.values(collectors)) await collector.stop();
  pods.remove();
  rmSync(dir, { recursive: true, force: true });
  assert.equal(code, 0, 'the agent shuts down cleanly');
});

/** The first value of a collected topic, decoded, that matches; waits for one. */
function waitFor<T>(id: string, decode: (b: Buffer) => T, match: { predicate: (value: T) => boolean; what: string; timeoutMs?: number }): Promise<T> {
  return firstDecoded(collectors[id]!, decode, match);
}

function all<T>(id: string, decode: (b: Buffer) => T): T[] {
  return (collectors[id]?.records ?? []).map((r) => decode(r.value ?? Buffer.alloc(0)));
}

async function applyPolicy(name: string, yaml: string, generation: bigint): Promise<void> {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, yaml);
  const result = runStinger(['policy', 'apply', file], cliEnv());
  assert.equal(result.status, 0, result.stderr);
  applied.add(name);
  const status = await policyStatusOf(collectors.policyStatus!, { node: nodeName, key: name }, { accept: (s) => s !== null && s.generation === generation });
  assert.equal(status?.state, 'applied', status?.messages.join('; '));
}

/** A shell in the pod's cgroup that runs `script` (helpers/pod-cgroup.ts), stopped by after() if still running. */
function inPod(script: string): PodProcess {
  const started = spawnInPod(procs, script);
  children.push(started.child);
  return started;
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([promise, sleep(ms).then(() => Promise.reject(new Error(`${what} within ${ms} ms`)))]);
}

const policyName = `loop-${tag}`;
const secret = join(dir, 'secret');
const other = join(dir, 'other');
const policyYaml = (mode: 'enforce' | 'monitor') => `apiVersion: stinger.io/v1alpha1
kind: TracingPolicy
metadata: { name: ${policyName} }
spec:
  mode: ${mode}
  selector: { host: false }
  rules:
    - name: secret-read
      event: file
      match: { path: { equal: ["${secret}"] }, access: [read] }
      action: kill
      severity: high
      tags: [T1005]
`;

test('a pod process reads a watched file: event → enriched event → alert → signed command → SIGKILL → ack → enforcement', { timeout: 120_000 }, async () => {
  writeFileSync(secret, 'secret\n');
  writeFileSync(other, 'other\n');
  await applyPolicy(policyName, policyYaml('enforce'), 1n);

  const reader = inPod(`read line < ${secret}; exec sleep 60`);
  const pid = reader.child.pid as number;
  const exit = await within(reader.exited, 30_000, 'the reader killed').catch((error: unknown) => {
    const files = all('events', decodeEvent).filter((e) => e.kind === 'file').map((e) => JSON.stringify({ pid: e.process.pid, c: e.process.container_id, p: e.payload, a: e.action }, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)));
    const hops = [`file events ${files.join(' | ')}`, 'eventsRaw', 'events', 'alerts', 'control', 'controlAcks', 'enforcements'].map((id) => `${id}: ${collectors[id]?.records.length ?? 0}`);
    const logs = Object.entries(pipeline?.services ?? {}).map(([name, s]) => `--- ${name}\n${s.log.slice(-15).join('\n')}`);
    throw new Error(`${(error as Error).message}; records ${hops.join(', ')}\n${logs.join('\n')}\n--- agent\n${agent?.log.slice(-15).join('\n')}`);
  });
  assert.equal(exit.signal, 'SIGKILL');

  const raw = await waitFor('eventsRaw', decodeRawEvent, { predicate: (e) => e.kind === 'file' && e.process.pid === pid, what: 'raw file event' });
  assert.ok(raw.payload.group === 'file' && raw.payload.path === secret);
  assert.equal(raw.action, null, 'not killed in the kernel: the rule needs the pipeline (access)');
  assert.match(raw.process.cgroup_path ?? '', /cri-containerd-[0-9a-f]{64}\.scope$/);
  const enriched = await waitFor('events', decodeEvent, { predicate: (e) => e.id === raw.id, what: 'enriched event' });
  assert.match(enriched.process.container_id ?? '', /^[0-9a-f]{64}$/);
  const alert = await waitFor('alerts', decodeAlert, { predicate: (a) => a.event.id === raw.id, what: 'alert' });
  assert.deepEqual([alert.policy, alert.rule, alert.action, alert.mode, alert.severity, alert.tags], [policyName, 'secret-read', 'kill', 'enforce', 'high', ['T1005']]);
  const command = await waitFor('control', decodeControlCommand, { predicate: (c) => c.alert_id === alert.id, what: 'control command' });
  assert.deepEqual({ ...command.target }, { pid, start_time: raw.process.start_time, exec_id: raw.process.exec_id });
  assert.equal(command.node, nodeName);
  assert.equal(command.signature.length, 64);
  assert.equal(collectors.control?.records.find((r) => decodeControlCommand(r.value!).command_id === command.command_id)?.key?.toString(), nodeName, 'keyed by node');
  const ack = await waitFor('controlAcks', decodeControlAck, { predicate: (a) => a.command_id === command.command_id, what: 'ack' });
  assert.equal(ack.status, 'killed');
  const enforcement = await waitFor('enforcements', decodeEnforcement, { predicate: (e) => e.alert_id === alert.id, what: 'enforcement' });
  assert.equal(enforcement.outcome, 'killed');
  assert.equal(enforcement.command_id, command.command_id);

  // What a user sees: the alert with its outcome, and each consuming service's lag.
  const shown = runStinger(['alerts', '--since', '10m', '--limit', '1', '-o', 'json'], cliEnv());
  assert.equal(shown.status, 0, shown.stderr);
  const line = JSON.parse(shown.stdout) as { id: string; policy: string; enforcement: { outcome: string } | null; event: { file: { path: string } } };
  assert.deepEqual([line.id, line.policy, line.enforcement?.outcome, line.event.file.path], [alert.id, policyName, 'killed', secret]);
  const status = runStinger(['status'], cliEnv());
  assert.equal(status.status, 0, status.stderr);
  for (const service of ['enricher', 'detector', 'enforcer']) assert.match(status.stdout, new RegExp(`^${service}: \\d+ records behind on ${prefix.replaceAll('.', '\\.')}`, 'm'));

  const sibling = inPod(`read line < ${other}; sleep 3`);
  assert.deepEqual(await within(sibling.exited, 20_000, 'the sibling reader exits'), { code: 0, signal: null }, 'reading another file is not an offence');
});

test('monitor mode alerts without killing; deleting the policy stops the reports', { timeout: 120_000 }, async () => {
  await applyPolicy(policyName, policyYaml('monitor'), 2n);
  const reader = inPod(`read line < ${secret}; sleep 4`);
  const pid = reader.child.pid as number;
  assert.deepEqual(await within(reader.exited, 20_000, 'the monitored reader exits'), { code: 0, signal: null });
  const alert = await waitFor('alerts', decodeAlert, { predicate: (a) => a.event.process.pid === pid, what: 'monitor alert' });
  assert.equal(alert.mode, 'monitor');
  const enforcement = await waitFor('enforcements', decodeEnforcement, { predicate: (e) => e.alert_id === alert.id, what: 'enforcement' });
  assert.equal(enforcement.outcome, 'monitor_only');
  assert.equal(all('control', decodeControlCommand).filter((c) => c.alert_id === alert.id).length, 0, 'no command');

  const result = runStinger(['policy', 'delete', policyName], cliEnv());
  assert.equal(result.status, 0, result.stderr);
  applied.delete(policyName);
  await policyStatusOf(collectors.policyStatus!, { node: nodeName, key: policyName }, { accept: (s) => s === null });
  const after = inPod(`read line < ${secret}`);
  const afterPid = after.child.pid as number;
  await after.exited;
  await sleep(3000);
  assert.equal(all('eventsRaw', decodeRawEvent).filter((e) => e.kind === 'file' && e.process.pid === afterPid).length, 0, 'the watch went with the policy');
});

/** /proc/<pid>/stat start time in ns since boot, as the agent compares it (ticks of 10 ms). */
function startTimeNs(pid: number): bigint {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const ticks = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  return BigInt(ticks ?? '0') * 10_000_000n;
}

function command(target: { pid: number; start_time: bigint }, overrides: Partial<ControlCommand> = {}): Omit<ControlCommand, 'key_id' | 'signature'> {
  const now = BigInt(Date.now()) * 1_000_000n;
  return {
    command_id: randomUUID(),
    node: nodeName,
    action: 'kill',
    target: { ...target, exec_id: `${nodeName}:${target.start_time}:${target.pid}` },
    reason: 'test',
    alert_id: null,
    policy: null,
    issued_at_ns: now,
    expires_at_ns: now + 10_000_000_000n,
    dry_run: false,
    ...overrides,
  };
}

async function sendCommands(commands: readonly ControlCommand[]): Promise<void> {
  const producer = createProducer({ client });
  await producer.connect();
  await producer.send(topicName('control', prefix), commands.map((c) => ({ key: nodeName, value: encodeControlCommand(c) })));
  await producer.disconnect();
}

async function refusedCounts(): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const counts = new Map<string, number>();
  for (const match of text.matchAll(/^stinger_agent_refused_total\{input="(\w+)",reason="(\w+)"\} (\d+)$/gm)) counts.set(`${match[1]}/${match[2]}`, Number(match[3]));
  return counts;
}

test('forged, unsigned, expired, replayed and wrong-node commands and policies: none accepted, each counted', { timeout: 90_000 }, async () => {
  const victim = inPod('exec sleep 60');
  const pid = victim.child.pid as number;
  await sleep(200);
  const target = { pid, start_time: startTimeNs(pid) };
  const key = testSigningKey();
  const stranger = generateSigningKey();
  const valid = signControlCommand(command(target), key);
  const dryRun = signControlCommand(command(target, { dry_run: true }), key);
  const cases: [ControlCommand, string][] = [
    [{ ...valid, signature: Buffer.alloc(0) }, 'bad_signature'],
    [{ ...signControlCommand(command(target), key), target: { ...valid.target, pid: 1 } }, 'bad_signature'],
    [signControlCommand(command(target), stranger), 'unknown_key'],
    [signControlCommand(command(target, { expires_at_ns: BigInt(Date.now() - 1000) * 1_000_000n }), key), 'expired'],
    [signControlCommand(command(target, { node: 'some-other-node' }), key), 'wrong_node'],
    [dryRun, 'dry_run'],
  ];
  await sendCommands([...cases.map(([c]) => c), dryRun]);
  for (const [sent, status] of cases) {
    const ack = await waitFor('controlAcks', decodeControlAck, { predicate: (a) => a.command_id === sent.command_id, what: `ack of ${status}` });
    assert.equal(ack.status, status);
  }
  await sleep(2000);
  assert.equal(all('controlAcks', decodeControlAck).filter((a) => a.command_id === dryRun.command_id).length, 1, 'the replay is not acknowledged again');
  assert.equal(victim.child.exitCode, null, 'the target is alive');
  assert.equal(victim.child.signalCode, null);

  // Policies: an unsigned record and one signed by an unknown key, each a kill rule on a file: never applied.
  const forgedPolicy = (name: string) => {
    const parsed = parsePolicies(
      `apiVersion: stinger.io/v1alpha1\nkind: TracingPolicy\nmetadata: { name: ${name} }\nspec:\n  rules:\n    - { name: r, event: file, match: { path: { equal: ["${other}"] } }, action: kill-in-kernel }\n`,
      { source: name },
    );
    return encodeCompiledPolicy(compilePolicy(parsed.policies[0]!).compiled);
  };
  const now = BigInt(Date.now()) * 1_000_000n;
  const unsignedValue = forgedPolicy(`unsigned-${tag}`);
  const strangerValue = forgedPolicy(`stranger-${tag}`);
  const producer = createProducer({ client });
  await producer.connect();
  await producer.send(topicName('policies', prefix), [
    { key: `unsigned-${tag}`, value: unsignedValue },
    { key: `stranger-${tag}`, value: strangerValue, headers: signPolicyRecord({ key: `stranger-${tag}`, value: strangerValue }, stranger, now) },
  ]);
  await producer.disconnect();
  await sleep(3000);
  const reader = inPod(`read line < ${other}`);
  assert.deepEqual(await within(reader.exited, 10_000, 'reader exits'), { code: 0, signal: null }, 'the forged kill rules are not in the kernel');
  const statusKeys = (collectors.policyStatus?.records ?? []).map((r) => r.key?.toString() ?? '');
  assert.deepEqual(statusKeys.filter((k) => k.endsWith(`unsigned-${tag}`) || k.endsWith(`stranger-${tag}`)), [], 'the agent took neither as a policy');

  const counts = await refusedCounts();
  assert.deepEqual(
    ['command/bad_signature', 'command/unknown_key', 'command/expired', 'command/wrong_node', 'command/replayed', 'policy/unsigned', 'policy/unknown_key'].map((k) => [k, counts.get(k) ?? 0]),
    [['command/bad_signature', 2], ['command/unknown_key', 1], ['command/expired', 1], ['command/wrong_node', 1], ['command/replayed', 1], ['policy/unsigned', 1], ['policy/unknown_key', 1]],
  );
});

/** Spawns `sleep` until one gets `pid` (the kernel hands out the pid after ns_last_pid); null after a few tries. */
async function sleeperWithPid(pid: number): Promise<ChildProcess | null> {
  for (let attempt = 0; attempt < 20; attempt++) {
    writeFileSync('/proc/sys/kernel/ns_last_pid', String(pid - 1));
    const child = spawn('sleep', ['60'], { stdio: 'ignore' });
    children.push(child);
    if (child.pid === pid) return child;
    child.kill('SIGKILL');
    await sleep(20);
  }
  return null;
}

test('a command naming a pid reused by another process since is refused; the new process named by its own start time is killed', { timeout: 60_000 }, async () => {
  const first = spawn('sleep', ['60'], { stdio: 'ignore' });
  children.push(first);
  const pid = first.pid as number;
  await sleep(1500); // a start time 10 ms ticks apart from the next process's, at least
  const firstStart = startTimeNs(pid);
  first.kill('SIGKILL');
  await new Promise((resolve) => first.once('exit', resolve));
  const second = await sleeperWithPid(pid);
  assert.ok(second, `pid ${pid} could be given to a new process`);
  const secondStart = startTimeNs(pid);
  assert.notEqual(secondStart, firstStart);

  const stale = signControlCommand(command({ pid, start_time: firstStart }), testSigningKey());
  await sendCommands([stale]);
  const refused = await waitFor('controlAcks', decodeControlAck, { predicate: (a) => a.command_id === stale.command_id, what: 'ack of the stale command' });
  assert.equal(refused.status, 'target_mismatch');
  assert.equal(second.exitCode, null);
  assert.equal(second.signalCode, null, 'the process now holding the pid lives');

  const exited = new Promise<NodeJS.Signals | null>((resolve) => second.once('exit', (_code, signal) => resolve(signal)));
  const current = signControlCommand(command({ pid, start_time: secondStart }), testSigningKey());
  await sendCommands([current]);
  const killed = await waitFor('controlAcks', decodeControlAck, { predicate: (a) => a.command_id === current.command_id, what: 'ack of the current command' });
  assert.equal(killed.status, 'killed');
  assert.equal(await within(exited, 5000, 'the named process exits'), 'SIGKILL');
});
