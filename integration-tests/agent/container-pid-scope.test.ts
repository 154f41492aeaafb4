/**
 * Pids as a container sees them, decided in the kernel (real agent, broker and kernel, as root): a simulated pod's
 * container (its cgroup as kubelet and containerd make it) runs a shell in a pid namespace of its own (`unshare
 * --pid --fork`: the shell is the namespace's pid 1). A policy applied with `stinger policy apply` names
 * `pids: { values: [1], namespace: container, followChildren: true }` and kills the test's marker binary at exec in
 * the kernel. The agent translates container pid 1 to the shell's host pid (NSpid, the cgroup telling the
 * container), so the shell's child running the marker is killed at execve; the same marker run by a shell in the same
 * pod cgroup but in the node's pid namespace, and by a host shell, runs its course.
 *
 * The policy names only this test's marker binary; processes killed are only this test's.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeRawEvent } from '@stinger/events';
import { bootstrapTopics, topicName, type KafkaClient } from '@stinger/kafka';
import { buildBpf, startAgent, type RunningAgent } from '../helpers/agent.ts';
import { policyStatusOf } from '../helpers/agent-events.ts';
import { runStinger } from '../helpers/cli.ts';
import { collectTopic, testBrokers, testClient, uniqueName, type Collector } from '../helpers/kafka.ts';
import { podCgroups } from '../helpers/pod-cgroup.ts';

const tag = randomBytes(4).toString('hex');
const prefix = `${uniqueName('container-pids')}.`;
const nodeName = `container-pids-node-${tag}`;
const dir = mkdtempSync(join(tmpdir(), 'stinger-container-pids-'));
const cliEnv = () => ({ KAFKA_BROKERS: testBrokers(), STINGER_TOPIC_PREFIX: prefix });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** A copy of sleep under a name only this test uses: the rule names it. */
const marker = join(dir, `marker-${tag}`);
const go = join(dir, 'go');
const policyName = `container-pid-${tag}`;

let client: KafkaClient;
let agent: RunningAgent | undefined;
const collectors: Record<string, Collector> = {};
const children: ChildProcess[] = [];
let applied = false;
const pods = podCgroups();
const containerId = randomBytes(32).toString('hex');
const procs = pods.procsOf(pods.container(randomUUID(), containerId));

before(async () => {
  buildBpf();
  copyFileSync('/bin/sleep', marker);
  client = testClient('container-pids-test');
  await bootstrapTopics({ client, prefix });
  for (const id of ['eventsRaw', 'policyStatus'] as const) collectors[id] = await collectTopic(client, topicName(id, prefix));
  agent = await startAgent({ brokers: testBrokers(), topicPrefix: prefix, nodeName });
});

after(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  if (applied) runStinger(['policy', 'delete', policyName], cliEnv());
  const code = await agent?.stop();
  for (const collector of Object.values(collectors)) await collector.stop();
  pods.remove();
  rmSync(dir, { recursive: true, force: true });
  assert.equal(code, 0, 'the agent shuts down cleanly');
});

/**
 * A shell that waits for `go`, then runs a shell that runs the marker for 1 s (a command follows, so the marker is
 * forked: a grandchild of the first shell), and writes the marker's status to `result` (137: killed). `wrap` starts
 * the first shell: in the pod cgroup, in a new pid namespace, or as is.
 */
function markerShell(name: string, wrap: (script: string) => string[]) {
  const result = join(dir, `${name}.status`);
  const script = `while [ ! -e ${go} ]; do sleep 0.1; done; /bin/sh -c "${marker} 1; exit \\$?"; echo $? > ${result}`;
  const [command, ...args] = wrap(script);
  const child = spawn(command!, args, { stdio: 'ignore' });
  children.push(child);
  return {
    child,
    /** The marker's status, or null when the shell did not write it within 30 s. */
    async status(): Promise<number | null> {
      for (let waited = 0; waited < 30_000; waited += 100) {
        if (existsSync(result) && readFileSync(result, 'utf8').trim() !== '') return Number(readFileSync(result, 'utf8'));
        await sleep(100);
      }
      return null;
    },
  };
}

/** The host pid of the process that is pid 1 in `outer`'s new pid namespace (unshare --fork's child). */
async function namespacePidOne(outer: number): Promise<number> {
  for (let waited = 0; waited < 10_000; waited += 50) {
    const children = readFileSync(`/proc/${outer}/task/${outer}/children`, 'utf8').trim();
    const first = Number(children.split(' ')[0]);
    if (children !== '' && /^NSpid:\s+\d+\s+1$/m.test(readFileSync(`/proc/${first}/status`, 'utf8'))) return first;
    await sleep(50);
  }
  throw new Error(`no pid 1 of a new pid namespace under ${outer} within 10 s`);
}

test('pids: [1] in the container pid namespace with followChildren: the container init\'s child is killed at execve in the kernel; the same program outside it runs', { timeout: 120_000 }, async () => {
  // Moves itself into the pod's container cgroup, then execs unshare, whose forked child is the namespace's pid 1.
  const inContainer = markerShell('container', (script) => ['/bin/sh', '-c', `echo $$ > ${procs}; exec unshare --pid --fork /bin/sh -c '${script}'`]);
  const samePodHostNamespace = markerShell('pod-host-ns', (script) => ['/bin/sh', '-c', `echo $$ > ${procs}; exec /bin/sh -c '${script}'`]);
  const onHost = markerShell('host', (script) => ['/bin/sh', '-c', script]);
  const init = await namespacePidOne(inContainer.child.pid!);
  assert.match(readFileSync(`/proc/${init}/cgroup`, 'utf8'), new RegExp(`cri-containerd-${containerId}\\.scope`), 'the namespace\'s pid 1 is in the container\'s cgroup');

  const file = join(dir, 'policy.yaml');
  writeFileSync(
    file,
    `apiVersion: stinger.io/v1alpha1
kind: TracingPolicy
metadata: { name: ${policyName} }
spec:
  mode: enforce
  selector: { pids: { values: [1], namespace: container, followChildren: true } }
  rules:
    - { name: marker-in-container, event: exec, match: { binary: { equal: ["${marker}"] } }, action: kill-in-kernel, severity: high }
`,
  );
  const applyResult = runStinger(['policy', 'apply', file], cliEnv());
  assert.equal(applyResult.status, 0, applyResult.stderr);
  applied = true;
  assert.doesNotMatch(applyResult.stdout + applyResult.stderr, /cannot be enforced in the kernel/);
  const status = await policyStatusOf(collectors.policyStatus!, { node: nodeName, key: policyName }, { accept: (s) => s !== null && s.generation === 1n });
  assert.ok(status);
  assert.deepEqual([status.state, status.kernel_rules, status.pipeline_rules], ['applied', 1, 0], status.messages.join('; '));
  writeFileSync(go, '');

  assert.deepEqual(
    await Promise.all([inContainer.status(), samePodHostNamespace.status(), onHost.status()]),
    [137, 0, 0],
    'killed in the container\'s pid namespace; spared in the same pod cgroup in the node\'s pid namespace, and on the host',
  );
  let killed: ReturnType<typeof decodeRawEvent> | undefined;
  for (let waited = 0; waited < 30_000 && killed === undefined; waited += 200) {
    killed = collectors.eventsRaw!.records.map((r) => decodeRawEvent(r.value!)).find((e) => e.action?.policy === policyName);
    if (killed === undefined) await sleep(200);
  }
  assert.ok(killed, 'the kernel kill\'s event on stinger.events.raw');
  assert.deepEqual({ ...killed.action }, { kind: 'sigkill', policy: policyName, rule: 'marker-in-container' });
  assert.equal(killed.process.container_id, containerId);
  assert.notEqual(killed.process.pid, init, 'a descendant of the container\'s pid 1, not pid 1 itself');
  const kills = collectors.eventsRaw!.records.map((r) => decodeRawEvent(r.value!)).filter((e) => e.action?.policy === policyName);
  assert.equal(kills.length, 1, 'one kill: the processes outside the namespace were not');
});
