/**
 * Enforcement by file identity through the real agent (issue: path tricks must not evade a deny rule): policies
 * applied with the real CLI reach the agent, whose file guard marks the files' inodes with fanotify; then every
 * spelling of a denied file — absolute, `//`, `/./`, `..`, relative after `cd`, openat with a directory fd,
 * symlink, hard link, bind mount, O_PATH then /proc/self/fd — fails with EPERM before a byte is read, on the host
 * and in a simulated pod with its own mount namespace and overlay root; the same reads of an allowed twin succeed;
 * exec of a forbidden binary fails by symlink, relative path and hard link. Each refusal is published with the
 * path the rule names, the path as given and how it was reached. Last, the agent is SIGKILLed with its marks in
 * place and the denied file opens again at once.
 *
 * Every path is a temp path of this test (the pod's files are in its own overlay), so nothing of the machine is
 * ever denied.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { copyFileSync, linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RawEvent } from '@stinger/events';
import { bootstrapTopics, topicName, type KafkaClient } from '@stinger/kafka';
import { buildBpf, freePort, startAgent, type RunningAgent } from '../helpers/agent.ts';
import { eventsMatching, policyStatusOf } from '../helpers/agent-events.ts';
import { runStinger } from '../helpers/cli.ts';
import { collectTopic, testBrokers, testClient, uniqueName, type Collector } from '../helpers/kafka.ts';
import { podCgroups } from '../helpers/pod-cgroup.ts';

const tag = randomBytes(4).toString('hex');
const prefix = `${uniqueName('identity')}.`;
const nodeName = `identity-node-${tag}`;
const dir = mkdtempSync(join(tmpdir(), 'stinger-identity-'));
const secret = join(dir, 'etc', 'shadow');
const twin = join(dir, 'etc', 'passwd');
const forbidden = join(dir, 'bin', 'forbidden');
const podSecretPath = `/etc/pod-secret-${tag}`;
const podToolPath = `/opt/tool-${tag}`;
const pod = { lower: join(dir, 'pod', 'lower'), upper: join(dir, 'pod', 'upper'), work: join(dir, 'pod', 'work'), merged: join(dir, 'pod', 'merged') };
const cliEnv = () => ({ KAFKA_BROKERS: testBrokers(), STINGER_TOPIC_PREFIX: prefix });
const policyName = `it-identity-${tag}`;
const podPolicyName = `it-identity-pod-${tag}`;

let client: KafkaClient;
let agent: RunningAgent | undefined;
let metricsAddress = '';
let raw: Collector | undefined;
let statuses: Collector | undefined;
let podInit: ChildProcess | undefined;
const pods = podCgroups();
const mounts: string[] = [];

function sh(script: string, cwd = dir): { status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string } {
  const result = spawnSync('sh', ['-c', script], { cwd, encoding: 'utf8', timeout: 15_000 });
  return { status: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
}

function apply(name: string, yaml: string): void {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, yaml);
  const result = runStinger(['policy', 'apply', file], cliEnv());
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /\d file identity rules\)/, 'the CLI says the rules are enforced by file identity');
}

async function guardMarks(): Promise<number> {
  const text = await (await fetch(`http://${metricsAddress}/metrics`)).text();
  return Number(/^stinger_file_guard_marks (\d+)/m.exec(text)?.[1] ?? 0);
}

async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function refusals(predicate: (event: RawEvent) => boolean, count: number, what: string): Promise<RawEvent[]> {
  return eventsMatching(raw!, (e) => e.action !== null && predicate(e), { count, what });
}

before(async () => {
  buildBpf();
  mkdirSync(join(dir, 'etc'));
  mkdirSync(join(dir, 'bin'));
  writeFileSync(secret, 'root:host-secret-hash\n');
  writeFileSync(twin, 'root:x:0:0\n');
  copyFileSync('/usr/bin/true', forbidden);
  client = testClient('identity-test');
  await bootstrapTopics({ client, prefix });
  raw = await collectTopic(client, topicName('eventsRaw', prefix));
  statuses = await collectTopic(client, topicName('policyStatus', prefix));
  metricsAddress = `127.0.0.1:${await freePort()}`;
  agent = await startAgent({ brokers: testBrokers(), topicPrefix: prefix, nodeName, extraEnv: { STINGER_AGENT_METRICS_ADDRESS: metricsAddress } });
});

after(async () => {
  runStinger(['policy', 'delete', policyName, podPolicyName], cliEnv());
  podInit?.kill('SIGKILL');
  for (const mount of mounts.reverse()) spawnSync('umount', ['-l', mount]);
  await agent?.stop();
  await raw?.stop();
  await statuses?.stop();
  pods.remove();
  rmSync(dir, { recursive: true, force: true });
});

test('the agent reports the deny rules enforced by file identity', { timeout: 60_000 }, async () => {
  apply(
    policyName,
    [
      'apiVersion: stinger.io/v1alpha1',
      'kind: TracingPolicy',
      `metadata: { name: ${policyName} }`,
      'spec:',
      '  rules:',
      '    - name: no-shadow',
      '      event: file',
      `      match: { path: { equal: ["${secret}"] } }`,
      '      action: deny',
      '    - name: no-forbidden-binary',
      '      event: exec',
      `      match: { binary: { equal: ["${forbidden}"] } }`,
      '      action: deny',
      '',
    ].join('\n'),
  );
  const status = await policyStatusOf(statuses!, { node: nodeName, key: policyName }, { accept: (s) => s !== null });
  assert.equal(status?.state, 'applied', status?.messages.join('; '));
  assert.ok(status?.messages.some((m) => m.startsWith('no-shadow: enforced by file identity')), status?.messages.join('; '));
  await until('both files marked', async () => (await guardMarks()) >= 2);
});

test('host: every spelling of the denied file fails with EPERM before a byte is read; the twin is read', { timeout: 60_000 }, async () => {
  symlinkSync(secret, join(dir, 'link'));
  linkSync(secret, join(dir, 'hardlink'));
  const bound = join(dir, 'bound');
  writeFileSync(bound, '');
  assert.equal(sh(`mount --bind ${secret} ${bound}`).status, 0);
  mounts.push(bound);
  const spellings: Record<string, string> = {
    absolute: `cat ${secret}`,
    'double slash': `cat ${dir}//etc//shadow`,
    'dot segment': `cat ${dir}/./etc/./shadow`,
    'dot-dot': `cat ${dir}/etc/../etc/shadow`,
    'relative after cd': 'cd etc && cat shadow',
    'openat with a directory fd': `python3 -c "import os; d=os.open('${dir}/etc', os.O_RDONLY); print(os.read(os.open('shadow', os.O_RDONLY, dir_fd=d), 99))"`,
    symlink: `cat ${dir}/link`,
    'hard link': `cat ${dir}/hardlink`,
    'bind mount': `cat ${bound}`,
    'O_PATH then /proc/self/fd': `python3 -c "import os; p=os.open('${secret}', os.O_PATH); print(os.read(os.open('/proc/self/fd/%d' % p, os.O_RDONLY), 99))"`,
  };
  for (const [name, script] of Object.entries(spellings)) {
    const result = sh(script);
    assert.notEqual(result.status, 0, `${name}: must fail`);
    assert.doesNotMatch(result.stdout, /host-secret-hash/, `${name}: nothing of the file may be read`);
    assert.match(result.stderr, /Operation not permitted|PermissionError/, `${name}: EPERM expected, got: ${result.stderr}`);
    assert.equal(result.signal, null, `${name}: deny leaves the process alive`);
  }
  assert.equal(sh(`cat ${twin}`).stdout, 'root:x:0:0\n', 'the allowed twin is read');
  assert.equal(sh(`cat ${dir}//etc/../etc/passwd`).stdout, 'root:x:0:0\n', 'and by a roundabout name too');

  const events = await refusals((e) => e.kind === 'file' && e.action?.rule === 'no-shadow', Object.keys(spellings).length, 'the refused opens');
  const byGiven = new Map(events.map((e) => [e.payload.group === 'file' ? e.payload.path_as_given : '', e]));
  for (const event of events) {
    assert.ok(event.payload.group === 'file');
    assert.equal(event.payload.path, secret, 'the path is the file the rule names');
    assert.deepEqual({ ...event.action }, { kind: 'deny', policy: policyName, rule: 'no-shadow' });
    assert.equal(event.node, nodeName);
  }
  const reached = (given: string) => {
    const event = byGiven.get(given);
    return event?.payload.group === 'file' ? event.payload.reached_by : `no event for ${given}`;
  };
  assert.equal(reached(secret), 'path');
  assert.equal(reached(`${dir}//etc//shadow`), 'non_canonical');
  assert.equal(reached(`${dir}/link`), 'symlink');
  assert.equal(reached(`${dir}/hardlink`), 'hard_link');
  assert.equal(reached(bound), 'bind_mount');
  const kinds = new Set(events.map((e) => (e.payload.group === 'file' ? e.payload.reached_by : null)));
  for (const kind of ['relative', 'dirfd', 'fd_link']) assert.ok(kinds.has(kind), `a refusal reached by ${kind}: ${[...kinds].join(', ')}`);
});

test('host: exec of the forbidden binary fails by symlink, relative path and hard link; the original true runs', { timeout: 60_000 }, async () => {
  symlinkSync(forbidden, join(dir, 'bin', 'alias'));
  linkSync(forbidden, join(dir, 'bin', 'hardalias'));
  const attempts = [forbidden, `${dir}/bin/alias`, 'cd bin && ./forbidden', `${dir}/bin/hardalias`];
  for (const script of attempts) {
    const result = sh(script);
    assert.notEqual(result.status, 0, script);
    assert.match(result.stderr, /Permission denied|Operation not permitted/, script);
  }
  assert.equal(sh('/usr/bin/true').status, 0, 'the same program from its own file runs');
  const events = await refusals((e) => e.kind === 'exec' && e.action?.rule === 'no-forbidden-binary', attempts.length, 'the refused execs');
  for (const event of events) {
    assert.ok(event.payload.group === 'exec');
    assert.equal(event.payload.filename, forbidden);
    assert.equal(event.action?.kind, 'deny');
  }
});

test('pod: a pods-only rule holds on the container\'s own file (overlay root, own mount namespace) by every name; the host is untouched', { timeout: 90_000 }, async () => {
  // The pod's root: an overlay whose lower layer has the secret and a twin, with the host's /usr bound in for programs.
  for (const path of Object.values(pod)) mkdirSync(path, { recursive: true });
  mkdirSync(join(pod.lower, 'etc'));
  for (const path of ['usr', 'proc', 'tmp']) mkdirSync(join(pod.lower, path));
  for (const link of ['bin', 'lib', 'lib64', 'sbin']) symlinkSync(`usr/${link}`, join(pod.lower, link));
  writeFileSync(join(pod.lower, podSecretPath), 'pod-secret-hash\n');
  writeFileSync(join(pod.lower, 'etc', 'pod-twin'), 'pod-twin\n');
  mkdirSync(join(pod.lower, 'opt'));
  copyFileSync('/usr/bin/true', join(pod.lower, podToolPath));
  copyFileSync('/usr/bin/true', join(pod.lower, 'opt', 'allowed-tool'));
  apply(
    podPolicyName,
    [
      'apiVersion: stinger.io/v1alpha1',
      'kind: TracingPolicy',
      `metadata: { name: ${podPolicyName} }`,
      'spec:',
      '  selector: { host: false }',
      '  rules:',
      '    - name: no-pod-secret',
      '      event: file',
      `      match: { path: { equal: ["${podSecretPath}"] } }`,
      '      action: deny',
      '    - name: no-pod-tool',
      '      event: exec',
      `      match: { binary: { equal: ["${podToolPath}"] } }`,
      '      action: deny',
      '',
    ].join('\n'),
  );
  await policyStatusOf(statuses!, { node: nodeName, key: podPolicyName }, { accept: (s) => s?.state === 'applied' });
  const marksBefore = await guardMarks();

  const cgroup = pods.container(randomUUID(), randomBytes(32).toString('hex'));
  const procs = pods.procsOf(cgroup);
  const inside = [
    `mount -t overlay overlay -o lowerdir=${pod.lower},upperdir=${pod.upper},workdir=${pod.work} ${pod.merged}`,
    `mount --bind /usr ${pod.merged}/usr`,
    `mount -t proc proc ${pod.merged}/proc`,
    `exec chroot ${pod.merged} /usr/bin/sleep 600`,
  ].join(' && ');
  // The container's first process: into the pod's cgroup, then its own mount namespace (private), overlay and root.
  podInit = spawn('sh', ['-c', `echo $$ > ${procs} && exec unshare --mount --propagation private sh -c '${inside}'`], { stdio: 'ignore' });
  // Both of its files: a plan made while the container's first process was still chrooting would mark only some.
  await until('the container runs and its two files are marked', async () => (await guardMarks()) >= marksBefore + 2, 20_000);

  const initPid = Number(sh(`pgrep -f -n 'sleep 600' -P ${podInit.pid}`).stdout.trim()) || podInit.pid!;
  /** Runs `script` inside the pod: its cgroup, mount namespace and root. */
  const inPod = (script: string) => sh(`echo $$ > ${procs} && exec nsenter --target ${initPid} --mount --root --wd=/ /bin/sh -c '${script}'`);
  assert.equal(inPod('cat /etc/pod-twin').stdout, 'pod-twin\n', 'the pod reads its other files');
  const spellings = [
    `cat ${podSecretPath}`,
    `cat /etc//pod-secret-${tag}`,
    `cat /tmp/../etc/pod-secret-${tag}`,
    `cd /etc && cat pod-secret-${tag}`,
    `ln -s ${podSecretPath} /tmp/alias && cat /tmp/alias`,
    `python3 -c "import os; d=os.open(\\"/etc\\", os.O_RDONLY); print(os.read(os.open(\\"pod-secret-${tag}\\", os.O_RDONLY, dir_fd=d), 99))"`,
  ];
  for (const script of spellings) {
    const result = inPod(script);
    assert.notEqual(result.status, 0, `pod: ${script} must fail`);
    assert.doesNotMatch(result.stdout, /pod-secret-hash/, `pod: ${script}`);
    assert.match(result.stderr, /Operation not permitted/, `pod: ${script}: ${result.stderr}`);
  }
  for (const script of [podToolPath, `ln -s ${podToolPath} /tmp/tool-alias && /tmp/tool-alias`, `cd /opt && ./tool-${tag}`]) {
    const result = inPod(script);
    assert.notEqual(result.status, 0, `pod exec: ${script} must fail`);
    assert.match(result.stderr, /Permission denied|Operation not permitted/, `pod exec: ${script}: ${result.stderr}`);
  }
  assert.equal(inPod('/opt/allowed-tool').status, 0, 'the pod runs its other programs');
  await refusals((e) => e.kind === 'exec' && e.action?.rule === 'no-pod-tool' && e.payload.group === 'exec' && e.payload.filename === podToolPath, 3, 'the pod exec refusals');
  const events = await refusals((e) => e.action?.rule === 'no-pod-secret', spellings.length, 'the pod refusals');
  for (const event of events) {
    assert.ok(event.payload.group === 'file');
    assert.equal(event.payload.path, podSecretPath, 'the path in the container');
    assert.notEqual(event.process.container_id, null, 'a container process');
  }
  assert.ok(events.some((e) => e.payload.group === 'file' && e.payload.reached_by === 'symlink'), 'the symlink inside the container is told');
  // The host's file of the same name is not the pod's: the pods-only rule leaves the host alone.
  assert.equal(sh(`cat ${join(pod.lower, podSecretPath)}`).stdout, 'pod-secret-hash\n', 'the host reads the image layer (another inode)');
});

test('an agent SIGKILLed with its marks in place leaves no file unopenable', { timeout: 60_000 }, async () => {
  assert.notEqual(sh(`cat ${secret}`).status, 0, 'denied while the agent runs');
  const exited = new Promise((resolve) => agent!.child.once('exit', resolve));
  const killed = agent!;
  agent = undefined; // nothing left to stop
  killed.child.kill('SIGKILL');
  await exited;
  rmSync(killed.home, { recursive: true, force: true });
  const after = sh(`cat ${secret}`);
  assert.equal(after.stdout, 'root:host-secret-hash\n', `opens work again at once: ${after.stderr}`);
  assert.equal(sh(forbidden).status, 0, 'and the binary runs');
});
