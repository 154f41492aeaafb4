/**
 * Rego rules on the real kernel and broker: a program run by a shell in a (simulated) pod → the agent's exec event →
 * the enricher → the detector evaluates the policy's Rego module (compiled by `stinger policy apply`) with the
 * ancestry it learnt → the module's alert → the enforcer finds its rule (policy, selector, action cap) → signed kill
 * → the agent kills exactly that program → enforcement record `killed`. A module that does not compile is refused by
 * `stinger policy apply` with its line, and nothing is published. The default pack's process-outside-container-entry
 * flags a process that joined a (simulated) pod's container from outside, as `kubectl exec` and `nsenter` do, and not
 * the container's entry process nor its child. A native rule under a pid selector with followChildren kills the named
 * shell's grandchild and spares the same program run by a process outside that tree: through the pipeline (`kill`),
 * and in the kernel (`kill-in-kernel`: the agent's pid scope, the kill at execve, the event's sigkill action).
 *
 * Policies name only this test's marker binary; commands target only processes this test started.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeAlert, decodeCompiledPolicy, decodeControlCommand, decodeEnforcement, decodeEvent } from '@stinger/events';
import { bootstrapTopics, topicName, type KafkaClient } from '@stinger/kafka';
import { buildBpf, startAgent, type RunningAgent } from '../helpers/agent.ts';
import { policyStatusOf } from '../helpers/agent-events.ts';
import { runStinger } from '../helpers/cli.ts';
import { collectTopic, firstDecoded, testBrokers, testClient, uniqueName, type Collector } from '../helpers/kafka.ts';
import { podCgroups, spawnInPod } from '../helpers/pod-cgroup.ts';
import { startPipeline, type Pipeline } from '../helpers/pipeline.ts';

const tag = randomBytes(4).toString('hex');
const prefix = `${uniqueName('rego-loop')}.`;
const nodeName = `rego-node-${tag}`;
const dir = mkdtempSync(join(tmpdir(), 'stinger-rego-loop-'));
const cliEnv = () => ({ KAFKA_BROKERS: testBrokers(), STINGER_TOPIC_PREFIX: prefix });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let client: KafkaClient;
let agent: RunningAgent | undefined;
let pipeline: Pipeline | undefined;
const collectors: Record<string, Collector> = {};
const applied = new Set<string>();
const children: ChildProcess[] = [];
const pods = podCgroups();
const procs = pods.procsOf(pods.container(randomUUID(), randomBytes(32).toString('hex')));
/** A copy of sleep under a name only this test uses: the module names it. */
const marker = join(dir, `marker-${tag}`);

before(async () => {
  buildBpf();
  copyFileSync('/bin/sleep', marker);
  client = testClient('rego-loop-test');
  await bootstrapTopics({ client, prefix });
  for (const id of ['events', 'alerts', 'control', 'enforcements', 'policies', 'policyStatus'] as const) {
    collectors[id] = await collectTopic(client, topicName(id, prefix));
  }
  agent = await startAgent({ brokers: testBrokers(), topicPrefix: prefix, nodeName });
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

function waitFor<T>(id: string, decode: (b: Buffer) => T, match: { predicate: (value: T) => boolean; what: string }): Promise<T> {
  const context = () => Object.entries(pipeline?.services ?? {}).map(([name, s]) => `--- ${name}\n${s.log.slice(-10).join('\n')}`).join('\n');
  return firstDecoded(collectors[id]!, decode, { ...match, context });
}

/** A shell in the pod's cgroup that runs `script`; resolves when it exits. */
function inPod(script: string): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const started = spawnInPod(procs, script);
  children.push(started.child);
  return started.exited;
}

const policyName = `rego-${tag}`;
const regoPolicy = `apiVersion: stinger.io/v1alpha1
kind: TracingPolicy
metadata: { name: ${policyName} }
spec:
  mode: enforce
  selector: { host: false }
  rego:
    events: [exec]
    action: kill
    entrypoint: stinger/alerts
    module: |
      package stinger

      alerts contains {"rule": "marker-from-shell", "severity": "high", "tags": ["T1059.004"], "action": "kill",
          "message": sprintf("%s run by %s (pid %d)", [input.event.process.binary, input.ancestors[0].binary, input.ancestors[0].pid])} if {
        input.event.process.binary == "${marker}"
        count(input.ancestors) > 0
      }
`;

test('a Rego rule fires on the agent\'s exec event and its kill goes through the enforcer to the agent', { timeout: 120_000 }, async () => {
  const file = join(dir, 'rego.yaml');
  writeFileSync(file, regoPolicy);
  const result = runStinger(['policy', 'apply', file], cliEnv());
  assert.equal(result.status, 0, result.stderr);
  applied.add(policyName);
  const status = await policyStatusOf(collectors.policyStatus!, { node: nodeName, key: policyName }, { accept: (s) => s !== null && s.generation === 1n });
  assert.equal(status?.state, 'applied', status?.messages.join('; '));
  const published = collectors.policies!.records.map((r) => decodeCompiledPolicy(r.value!)).find((p) => p.name === policyName);
  assert.ok((published?.rego?.wasm.length ?? 0) > 0, 'the CLI published the module with its WebAssembly');

  // The shell forks the marker (a second command follows it, so it cannot exec it in place); a killed marker makes
  // the shell exit 128 + 9; left alone it would sleep 60 s.
  const exit = await Promise.race([inPod(`${marker} 60; exit $?`), sleep(40_000).then(() => null)]);
  assert.deepEqual(exit, { code: 137, signal: null }, 'the marker was killed');

  const alert = await waitFor('alerts', decodeAlert, { predicate: (a) => a.policy === policyName, what: 'the Rego alert' });
  const event = await waitFor('events', decodeEvent, { predicate: (e) => e.id === alert.event.id, what: 'the enriched exec event' });
  assert.deepEqual([alert.rule, alert.action, alert.mode, alert.severity, alert.tags], ['marker-from-shell', 'kill', 'enforce', 'high', ['T1059.004']]);
  assert.equal(event.process.binary, marker);
  assert.match(event.process.container_id ?? '', /^[0-9a-f]{64}$/, 'the exec event came from the pod');
  assert.ok(event.parent !== null);
  assert.equal(alert.message, `${policyName}/marker-from-shell: ${marker} run by ${event.parent.binary} (pid ${event.parent.pid})`, 'the module saw the ancestry');
  const command = await waitFor('control', decodeControlCommand, { predicate: (c) => c.alert_id === alert.id, what: 'the kill command' });
  assert.deepEqual([command.node, command.target.pid, command.target.exec_id], [nodeName, event.process.pid, event.process.exec_id]);
  const enforcement = await waitFor('enforcements', decodeEnforcement, { predicate: (e) => e.alert_id === alert.id, what: 'the enforcement' });
  assert.equal(enforcement.outcome, 'killed', enforcement.detail ?? '');
});

test('stinger policy apply refuses a Rego module that does not compile, naming its line, and publishes nothing', { timeout: 60_000 }, async () => {
  const name = `rego-bad-${tag}`;
  const file = join(dir, 'bad.yaml');
  // Line 4 of the module uses a variable nothing defines: a compile error opa reports at its line.
  writeFileSync(
    file,
    `apiVersion: stinger.io/v1alpha1
kind: TracingPolicy
metadata: { name: ${name} }
spec:
  rego:
    events: [exec]
    entrypoint: stinger/alerts
    module: |
      package stinger

      alerts contains {"rule": "r", "message": "m"} if {
        input.event.process.binary == undefined_thing
      }
`,
  );
  const before = collectors.policies!.records.length;
  const result = runStinger(['policy', 'apply', file], cliEnv());
  assert.notEqual(result.status, 0, 'refused');
  assert.match(result.stderr, new RegExp(`bad\\.yaml: ${name}: spec\\.rego\\.module line 4: .*undefined_thing`), result.stderr);
  assert.match(result.stderr, /nothing was applied/);
  await sleep(1000);
  assert.equal(collectors.policies!.records.slice(before).filter((r) => decodeCompiledPolicy(r.value!).name === name).length, 0, 'nothing published');
});

test('the default pack\'s Rego rule flags a process that joined a pod\'s container from outside, not its entry process or the entry\'s child', { timeout: 90_000 }, async () => {
  const pack = fileURLToPath(new URL('../../k8s/policies/process-tree.yaml', import.meta.url));
  const result = runStinger(['policy', 'apply', pack], cliEnv());
  assert.equal(result.status, 0, result.stderr);
  applied.add('default-process-tree');
  await policyStatusOf(collectors.policyStatus!, { node: nodeName, key: 'default-process-tree' }, { accept: (s) => s !== null && s.generation === 1n });

  // A container of its own: the first test's processes were in the other one (its oldest process, the entry).
  const container = randomBytes(32).toString('hex');
  const ownProcs = pods.procsOf(pods.container(randomUUID(), container));
  const start = (script: string) => {
    const started = spawnInPod(ownProcs, script);
    children.push(started.child);
    return started;
  };
  // The entry shell forks sleep (a command follows it); the joiner starts after it, from the test process (the
  // host), as runc exec or nsenter start a process from outside the container.
  const entry = start('sleep 8; true');
  await sleep(1500);
  const joiner = start('sleep 1; true');
  await joiner.exited;
  const flagged = (a: ReturnType<typeof decodeAlert>) => a.rule === 'process-outside-container-entry' && a.event.process.container_id === container;
  const alert = await waitFor('alerts', decodeAlert, { predicate: (a) => flagged(a) && a.event.process.pid === joiner.child.pid, what: 'the joiner flagged' });
  assert.deepEqual([alert.policy, alert.mode, alert.action, alert.tags], ['default-process-tree', 'monitor', 'audit', ['T1609', 'T1611']]);
  assert.match(alert.message, new RegExp(`does not descend from the container's entry process .* \\(pid ${entry.child.pid}\\)$`));
  const entryEvents = collectors.events!.records.map((r) => decodeEvent(r.value!)).filter((e) => e.process.container_id === container && (e.process.pid === entry.child.pid || e.parent?.pid === entry.child.pid));
  assert.ok(entryEvents.some((e) => e.parent?.pid === entry.child.pid), 'the entry\'s child was seen');
  const wrongly = collectors.alerts!.records.map((r) => decodeAlert(r.value!)).filter((a) => flagged(a) && (a.event.process.pid === entry.child.pid || a.event.parent?.pid === entry.child.pid));
  assert.deepEqual(wrongly.map((a) => a.event.process.pid), [], 'neither the entry nor its child is flagged');
});

/**
 * Two shells that wait for a file, then run a shell that runs the marker (which cannot exec it in place: a command
 * follows), and exit with its status: 137 when the marker was killed, 0 when it ran its course (`seconds`). `go()`
 * lets them run.
 */
function shells(seconds: { readonly named: number; readonly sibling: number }) {
  const go = join(dir, `go-${randomBytes(4).toString('hex')}`);
  const script = (s: number) => `while [ ! -e ${go} ]; do sleep 0.1; done; /bin/sh -c "${marker} ${s}; exit \\$?"; exit $?`;
  const shell = (s: number) => {
    const child = spawn('/bin/sh', ['-c', script(s)], { stdio: 'ignore' });
    children.push(child);
    return { child, exited: new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code))) };
  };
  const named = shell(seconds.named);
  const sibling = shell(seconds.sibling);
  return { named, sibling, go: () => writeFileSync(go, ''), exits: () => Promise.race([Promise.all([named.exited, sibling.exited]), sleep(40_000).then(() => null)]) };
}

/** Applies a policy whose one rule acts on the marker's exec in `pid`'s tree (followChildren); its status on this node. */
async function applyPidPolicy(name: string, pid: number, action: 'kill' | 'kill-in-kernel') {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    `apiVersion: stinger.io/v1alpha1
kind: TracingPolicy
metadata: { name: ${name} }
spec:
  mode: enforce
  selector: { pids: { values: [${pid}], followChildren: true } }
  rules:
    - { name: marker-in-tree, event: exec, match: { binary: { equal: ["${marker}"] } }, action: ${action}, severity: high, tags: [T1059] }
`,
  );
  const result = runStinger(['policy', 'apply', file], cliEnv());
  assert.equal(result.status, 0, result.stderr);
  applied.add(name);
  const status = await policyStatusOf(collectors.policyStatus!, { node: nodeName, key: name }, { accept: (s) => s !== null && s.generation === 1n });
  return { output: result.stdout + result.stderr, status: status! };
}

test('a kill-in-kernel rule under a pid selector with followChildren is enforced in the kernel: the grandchild is killed at execve, a sibling spared', { timeout: 90_000 }, async () => {
  const { named, go, exits } = shells({ named: 60, sibling: 1 });
  const name = `pids-kernel-${tag}`;
  const { output, status } = await applyPidPolicy(name, named.child.pid!, 'kill-in-kernel');
  assert.doesNotMatch(output, /cannot be enforced in the kernel/, 'no report that the pipeline enforces it');
  assert.deepEqual([status.state, status.kernel_rules, status.pipeline_rules], ['applied', 1, 0], status.messages.join('; '));
  go();

  assert.deepEqual(await exits(), [137, 0], 'the grandchild was killed, the sibling\'s marker ran its 1 s');
  const killed = await waitFor('events', decodeEvent, { predicate: (e) => e.action?.policy === name, what: 'the kernel kill\'s event' });
  assert.deepEqual({ ...killed.action }, { kind: 'sigkill', policy: name, rule: 'marker-in-tree' });
  assert.ok(killed.kind === 'exec' && killed.payload.group === 'exec' && killed.payload.filename === marker, 'the kill at the marker\'s execve');
  assert.notEqual(killed.process.pid, named.child.pid);
  assert.notEqual(killed.parent?.pid, named.child.pid, 'a grandchild, not a child, of the named pid');
  const commands = collectors.control!.records.map((r) => decodeControlCommand(r.value!)).filter((c) => c.policy === name);
  assert.deepEqual(commands, [], 'no kill command: the kernel did it');
});

test('a pid selector with followChildren kills the named shell\'s grandchild and spares a sibling running the same program', { timeout: 90_000 }, async () => {
  const { named, go, exits } = shells({ named: 60, sibling: 5 });
  const name = `pids-${tag}`;
  await applyPidPolicy(name, named.child.pid!, 'kill');
  go();

  assert.deepEqual(await exits(), [137, 0], 'the grandchild was killed, the sibling\'s marker ran its 5 s');
  const alerts = collectors.alerts!.records.map((r) => decodeAlert(r.value!)).filter((a) => a.policy === name);
  assert.equal(alerts.length, 1, 'one alert: the grandchild\'s exec');
  const alert = alerts[0]!;
  assert.equal(alert.event.process.binary, marker);
  assert.notEqual(alert.event.parent?.pid, named.child.pid, 'a grandchild, not a child, of the named pid');
  const enforcement = await waitFor('enforcements', decodeEnforcement, { predicate: (e) => e.alert_id === alert.id, what: 'the enforcement' });
  assert.equal(enforcement.outcome, 'killed', enforcement.detail ?? '');
});
