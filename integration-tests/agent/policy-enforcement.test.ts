/**
 * In-kernel enforcement through the real pipeline: policies applied with the real CLI reach a running
 * agent over the compacted policies topic, the agent reports them applied on the status topic, and
 * then the kernel kills a denied open and a denied exec at syscall entry and refuses a denied connect
 * with EPERM, while the same action on a sibling path, another copy or another port goes through;
 * every act is published on the raw topic with the policy and rule behind it. Deleting the policy
 * takes the kernel rule away.
 *
 * The kernel rules are node-wide: every policy names only temp paths and free ports of this test.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootstrapTopics, topicName, type KafkaClient } from '@stinger/kafka';
import { buildBpf, freePort, startAgent, type RunningAgent } from '../helpers/agent.ts';
import { closeServer, connectFromChild, eventsMatching, policyStatusOf, runChild, tcpListener } from '../helpers/agent-events.ts';
import { runStinger } from '../helpers/cli.ts';
import { podCgroups } from '../helpers/pod-cgroup.ts';
import { collectTopic, testBrokers, testClient, uniqueName, type Collector } from '../helpers/kafka.ts';

const tag = randomBytes(4).toString('hex');
const prefix = `${uniqueName('enforce')}.`;
const nodeName = `enforce-node-${tag}`;
const dir = mkdtempSync(join(tmpdir(), 'stinger-enforce-'));
const cliEnv = () => ({ KAFKA_BROKERS: testBrokers(), STINGER_TOPIC_PREFIX: prefix });

let client: KafkaClient;
let agent: RunningAgent | undefined;
let raw: Collector | undefined;
let statuses: Collector | undefined;
/** Policies on the topic that the after hook must delete. */
const applied = new Set<string>();
const servers: Server[] = [];
const pods = podCgroups();

before(async () => {
  buildBpf();
  client = testClient('enforce-test');
  await bootstrapTopics({ client, prefix });
  raw = await collectTopic(client, topicName('eventsRaw', prefix));
  statuses = await collectTopic(client, topicName('policyStatus', prefix));
  agent = await startAgent({ brokers: testBrokers(), topicPrefix: prefix, nodeName });
});

after(async () => {
  if (applied.size > 0) runStinger(['policy', 'delete', ...applied], cliEnv());
  const code = await agent?.stop();
  await raw?.stop();
  await statuses?.stop();
  for (const server of servers) await closeServer(server);
  rmSync(dir, { recursive: true, force: true });
  pods.remove();
  assert.equal(code, 0, 'the agent shuts down cleanly on SIGTERM');
});

/** One rule of a TracingPolicy, as YAML lines under `rules:`. */
function policyYaml(name: string, ruleLines: readonly string[]): string {
  return ['apiVersion: stinger.io/v1alpha1', 'kind: TracingPolicy', `metadata: { name: ${name} }`, 'spec:', '  rules:', ...ruleLines.map((l) => `    ${l}`), ''].join('\n');
}

/** `stinger policy apply` of the policy, then waits until this test's agent reports it applied. */
async function applyPolicy(name: string, yaml: string): Promise<void> {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, yaml);
  const result = runStinger(['policy', 'apply', file], cliEnv());
  assert.equal(result.status, 0, result.stderr);
  applied.add(name);
  assert.match(result.stdout, new RegExp(`${name}: created \\(generation 1, 1 kernel rules`));
  const status = await policyStatusOf(statuses!, { node: nodeName, key: name }, { accept: (s) => s !== null && s.generation === 1n });
  assert.equal(status?.state, 'applied', `the agent applied ${name}: ${status?.messages.join('; ')}`);
  assert.equal(status?.kernel_rules, 1);
}

async function deletePolicy(name: string): Promise<void> {
  const result = runStinger(['policy', 'delete', name], cliEnv());
  assert.equal(result.status, 0, result.stderr);
  applied.delete(name);
  await policyStatusOf(statuses!, { node: nodeName, key: name }, { accept: (s) => s === null });
}

/** A shell script that creates `marker` when it runs. */
function markerScript(path: string, marker: string): void {
  writeFileSync(path, `#!/bin/sh\n: > '${marker}'\n`, { mode: 0o755 });
}

test('file kill: opening the denied file dies by SIGKILL before reading; a sibling is read; the kill is published', { timeout: 60_000 }, async () => {
  const secret = join(dir, 'secret');
  const sibling = join(dir, 'sibling');
  writeFileSync(secret, 'top-secret\n');
  writeFileSync(sibling, 'sibling-content\n');
  const name = `it-file-kill-${tag}`;
  await applyPolicy(name, policyYaml(name, ['- name: no-secret-open', '  event: file', `  match: { path: { equal: ["${secret}"] }, op: [open] }`, '  action: kill-in-kernel']));

  const killed = await runChild('cat', [secret]);
  assert.equal(killed.signal, 'SIGKILL');
  assert.equal(killed.stdout, '', 'nothing of the file was printed');
  // A relative spelling: the kernel joins it to the cwd it learnt at the shell's chdir (and copied to cat at fork).
  // cat runs in the background so the shell can print its pid ($!); the shell's wait gives 137 for a SIGKILL.
  const relative = await runChild('/bin/sh', ['-c', 'cd "$1" || exit 2; cat secret & echo "$!"; wait "$!"', 'sh', dir]);
  const [relativePid = '', ...relativeOutput] = relative.stdout.split('\n');
  assert.deepEqual([relative.code, relativeOutput.join('\n')], [137, ''], 'cat of the relative path dies by SIGKILL before it prints');
  const read = await runChild('cat', [sibling]);
  assert.equal(read.code, 0);
  assert.equal(read.stdout, 'sibling-content\n');

  const [event] = await eventsMatching(raw!, (e) => e.kind === 'file' && e.process.pid === killed.pid && e.payload.group === 'file' && e.payload.path === secret, {
    what: 'file event of the killed cat',
  });
  assert.ok(event && event.payload.group === 'file');
  assert.equal(event.payload.op, 'open');
  assert.match(event.process.binary, /\/cat$/);
  assert.deepEqual({ ...event.action }, { kind: 'sigkill', policy: name, rule: 'no-secret-open' });
  assert.equal(event.node, nodeName);
  const [relativeEvent] = await eventsMatching(raw!, (e) => e.kind === 'file' && e.process.pid === Number(relativePid) && e.action !== null, {
    what: 'file event of the cat killed through a relative path',
  });
  assert.ok(relativeEvent && relativeEvent.payload.group === 'file');
  assert.equal(relativeEvent.payload.op, 'open');
  assert.match(relativeEvent.process.binary, /\/cat$/);
  assert.deepEqual({ ...relativeEvent.action }, { kind: 'sigkill', policy: name, rule: 'no-secret-open' });
});

test('exec kill: the denied binary dies by SIGKILL at execve and never runs; another copy runs; the kill is published', { timeout: 60_000 }, async () => {
  const denied = join(dir, `denied-${tag}`);
  const allowed = join(dir, `allowed-${tag}`);
  const deniedMarker = join(dir, 'denied.marker');
  const allowedMarker = join(dir, 'allowed.marker');
  markerScript(denied, deniedMarker);
  markerScript(allowed, allowedMarker);
  const name = `it-exec-kill-${tag}`;
  await applyPolicy(name, policyYaml(name, ['- name: no-denied-exec', '  event: exec', `  match: { binary: { equal: ["${denied}"] } }`, '  action: kill-in-kernel']));

  const killed = await runChild(denied, []);
  assert.equal(killed.signal, 'SIGKILL');
  assert.equal(existsSync(deniedMarker), false, 'the denied binary never ran');
  const ran = await runChild(allowed, []);
  assert.equal(ran.code, 0);
  assert.equal(existsSync(allowedMarker), true, 'the other copy ran');

  const [event] = await eventsMatching(raw!, (e) => e.kind === 'exec' && e.process.pid === killed.pid && e.action !== null, { what: 'exec event of the killed binary' });
  assert.ok(event && event.payload.group === 'exec');
  assert.equal(event.payload.filename, denied);
  assert.deepEqual({ ...event.action }, { kind: 'sigkill', policy: name, rule: 'no-denied-exec' });
  const allowedActs = (await eventsMatching(raw!, (e) => e.process.pid === ran.pid && e.kind === 'exec', { what: 'exec of the allowed copy' })).filter((e) => e.action !== null);
  assert.deepEqual(allowedActs, [], 'nothing was done to the allowed copy');
});

test('connect deny: a connect to the denied port fails with EPERM, another port connects; the deny is published', { timeout: 60_000 }, async () => {
  const portA = await freePort();
  const portB = await freePort();
  servers.push(await tcpListener(portA), await tcpListener(portB));
  const name = `it-connect-deny-${tag}`;
  await applyPolicy(name, policyYaml(name, ['- name: no-port-a', '  event: connect', `  match: { daddr: [127.0.0.1/32], dport: [${portA}] }`, '  action: deny-connect']));

  const denied = await connectFromChild(portA);
  assert.equal(denied.outcome, 'EPERM');
  const allowed = await connectFromChild(portB);
  assert.equal(allowed.outcome, 'connected');

  const [event] = await eventsMatching(raw!, (e) => e.kind === 'connect' && e.process.pid === denied.pid && e.action !== null, { what: 'connect event of the denied client' });
  assert.ok(event && event.payload.group === 'network');
  assert.equal(event.payload.daddr, '127.0.0.1');
  assert.equal(event.payload.dport, portA);
  assert.deepEqual({ ...event.action }, { kind: 'deny', policy: name, rule: 'no-port-a' });
});

test('host only (selector.host: true) and pods only (false): each kills in its scope and leaves the other alone', { timeout: 60_000 }, async () => {
  const secret = join(dir, 'host-secret');
  writeFileSync(secret, 'node-secret\n');
  const cgroupPath = pods.container(randomUUID(), randomBytes(32).toString('hex'));
  // The agent looks for pod cgroup roots every 5 s; kubelet makes kubepods.slice long before any pod runs.
  const deadline = Date.now() + 15_000;
  while (!agent!.log.some((line) => line.includes('"pod cgroup roots"') && line.includes('/kubepods.slice'))) {
    if (Date.now() > deadline) assert.fail('the agent never saw /kubepods.slice');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const name = `it-host-only-${tag}`;
  const yaml = policyYaml(name, ['- name: no-host-secret', '  event: file', `  match: { path: { equal: ["${secret}"] }, op: [open] }`, '  action: kill-in-kernel']);
  await applyPolicy(name, yaml.replace('spec:\n', 'spec:\n  selector: { host: true }\n'));

  const onHost = await runChild('cat', [secret]);
  assert.equal(onHost.signal, 'SIGKILL');
  assert.equal(onHost.stdout, '');
  // The shell joins the container's cgroup, then becomes cat: the open is the pod's.
  const inPod = await runChild('/bin/sh', ['-c', `echo $$ > ${pods.procsOf(cgroupPath)} && exec cat ${secret}`]);
  assert.equal(inPod.code, 0, inPod.stderr);
  assert.equal(inPod.stdout, 'node-secret\n', 'a pod process is not selected by a host-only policy');
  const [event] = await eventsMatching(raw!, (e) => e.process.pid === onHost.pid && e.action !== null, { what: 'the kill of the host cat' });
  assert.deepEqual({ ...event?.action }, { kind: 'sigkill', policy: name, rule: 'no-host-secret' });
  await deletePolicy(name);

  // The mirror image, selector.host: false (every pod): the pod's cat dies, the host's reads.
  const podsName = `it-pods-only-${tag}`;
  const podsYaml = policyYaml(podsName, ['- name: no-pod-secret', '  event: file', `  match: { path: { equal: ["${secret}"] }, op: [open] }`, '  action: kill-in-kernel']);
  await applyPolicy(podsName, podsYaml.replace('spec:\n', 'spec:\n  selector: { host: false }\n'));
  const podKilled = await runChild('/bin/sh', ['-c', `echo $$ > ${pods.procsOf(cgroupPath)} && exec cat ${secret}`]);
  assert.deepEqual([podKilled.signal, podKilled.stdout], ['SIGKILL', '']);
  const hostReads = await runChild('cat', [secret]);
  assert.deepEqual([hostReads.code, hostReads.stdout], [0, 'node-secret\n']);
  await deletePolicy(podsName);
});

test('delete: after `stinger policy delete` the kernel rule is gone and the file can be read again', { timeout: 60_000 }, async () => {
  const guarded = join(dir, 'guarded');
  writeFileSync(guarded, 'guarded-content\n');
  const name = `it-delete-${tag}`;
  await applyPolicy(name, policyYaml(name, ['- name: no-guarded-open', '  event: file', `  match: { path: { equal: ["${guarded}"] }, op: [open] }`, '  action: kill-in-kernel']));
  assert.equal((await runChild('cat', [guarded])).signal, 'SIGKILL', 'the rule is in force before the delete');

  await deletePolicy(name);
  const deadline = Date.now() + 5000;
  let last = await runChild('cat', [guarded]);
  while (last.code !== 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    last = await runChild('cat', [guarded]);
  }
  assert.equal(last.signal, null);
  assert.equal(last.code, 0);
  assert.equal(last.stdout, 'guarded-content\n');
});

test('update: re-applying the policy with another path moves the kernel rule (generation 2)', { timeout: 60_000 }, async () => {
  const first = join(dir, 'first');
  const second = join(dir, 'second');
  writeFileSync(first, 'first-content\n');
  writeFileSync(second, 'second-content\n');
  const name = `it-update-${tag}`;
  const rule = (path: string) => ['- name: no-open', '  event: file', `  match: { path: { equal: ["${path}"] }, op: [open] }`, '  action: kill-in-kernel'];
  await applyPolicy(name, policyYaml(name, rule(first)));
  assert.equal((await runChild('cat', [first])).signal, 'SIGKILL');

  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, policyYaml(name, rule(second)));
  const result = runStinger(['policy', 'apply', file], cliEnv());
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, new RegExp(`${name}: updated \\(generation 2`));
  const status = await policyStatusOf(statuses!, { node: nodeName, key: name }, { accept: (s) => s !== null && s.generation === 2n });
  assert.equal(status?.state, 'applied', status?.messages.join('; '));

  const killed = await runChild('cat', [second]);
  assert.equal(killed.signal, 'SIGKILL');
  assert.equal(killed.stdout, '');
  const read = await runChild('cat', [first]);
  assert.equal(read.code, 0, 'the old path is no longer denied');
  assert.equal(read.stdout, 'first-content\n');
  const [event] = await eventsMatching(raw!, (e) => e.kind === 'file' && e.process.pid === killed.pid && e.action !== null, { what: 'file event of the second kill' });
  assert.deepEqual({ ...event?.action }, { kind: 'sigkill', policy: name, rule: 'no-open' });
});
