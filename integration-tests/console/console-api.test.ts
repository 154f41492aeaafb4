/**
 * The console on the real kernel and broker: the agent (connect watched) → enricher, detector, enforcer → the console
 * service (services/console) with a bearer token. A real `cat /etc/passwd` run by a shell, under an audit policy on
 * /etc/passwd, shows in /api/v1/file-access with cat, the shell as its parent and the open's flags; its alert shows in
 * /api/v1/alerts with the enforcer's outcome; a real TCP connect from bash to a local listener shows in /api/v1/egress;
 * the node shows in /api/v1/agents with its agent's health report. /api needs the token (401 without); a garbage
 * record on stinger.events goes to the dead-letter topic under the console's group, and the console keeps serving and
 * storing; a console restarted with an empty store refills it from the topics.
 *
 * Host processes (outside a cluster the enricher names no pod); the policy is this test's own and deleted at the end.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Server } from 'node:net';
import type { AgentsResponse, AlertsResponse, EgressResponse, EventsResponse, FileAccessResponse } from '@stinger/console-api';
import { decodeDeadLetter } from '@stinger/events';
import { bootstrapTopics, createProducer, topicName, type KafkaClient } from '@stinger/kafka';
import { buildBpf, freePort, startAgent, type RunningAgent } from '../helpers/agent.ts';
import { closeServer, policyStatusOf, runChild, tcpListener } from '../helpers/agent-events.ts';
import { runStinger } from '../helpers/cli.ts';
import { startConsole, type RunningConsole } from '../helpers/console.ts';
import { collectTopic, testBrokers, testClient, uniqueName, type Collector } from '../helpers/kafka.ts';
import { startPipeline, type Pipeline } from '../helpers/pipeline.ts';
import { scratchDir } from '../helpers/scratch.ts';

const tag = randomBytes(4).toString('hex');
const prefix = `${uniqueName('console')}.`;
const nodeName = `console-node-${tag}`;
const policyName = `console-passwd-${tag}`;
const token = `console-test-token-${tag}`;
const dir = scratchDir('stinger-console-test-');
const cliEnv = () => ({ KAFKA_BROKERS: testBrokers(), STINGER_TOPIC_PREFIX: prefix });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** What /bin/sh is once symlinks are followed: the binary the agent reports for the shell. */
const shell = realpathSync('/bin/sh');

let client: KafkaClient;
let agent: RunningAgent | undefined;
let pipeline: Pipeline | undefined;
let consoleService: RunningConsole | undefined;
let statuses: Collector | undefined;
let deadLetters: Collector | undefined;
let listener: Server | undefined;
let policyApplied = false;

before(async () => {
  buildBpf();
  client = testClient('console-test');
  await bootstrapTopics({ client, prefix });
  statuses = await collectTopic(client, topicName('policyStatus', prefix));
  deadLetters = await collectTopic(client, topicName('dlq', prefix));
  agent = await startAgent({
    brokers: testBrokers(),
    topicPrefix: prefix,
    nodeName,
    extraEnv: { STINGER_AGENT_WATCH: 'setid,capset,namespace,module,ptrace,mount,bpf,connect' },
  });
  pipeline = await startPipeline({ brokers: testBrokers(), topicPrefix: prefix });
  consoleService = await startConsole({ brokers: testBrokers(), topicPrefix: prefix, token });
});

after(async () => {
  if (policyApplied) runStinger(['policy', 'delete', policyName], cliEnv());
  await consoleService?.stop();
  await pipeline?.stop();
  const code = await agent?.stop();
  await statuses?.stop();
  await deadLetters?.stop();
  await closeServer(listener);
  assert.equal(code, 0, 'the agent shuts down cleanly');
});

async function api<T>(path: string, options: { token?: string | null } = {}): Promise<{ status: number; body: T }> {
  const presented = options.token === undefined ? token : options.token;
  const response = await fetch(`${consoleService!.url}${path}`, { headers: presented === null ? {} : { authorization: `Bearer ${presented}` } });
  return { status: response.status, body: (await response.json()) as T };
}

/** Polls `path` until `found` picks something from its body; fails after `timeoutMs` with the last body and the log. */
async function eventually<T, R>(path: string, found: (body: T) => R | undefined, timeoutMs = 45_000): Promise<R> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    const { status, body } = await api<T>(path);
    last = body;
    if (status === 200) {
      const result = found(body);
      if (result !== undefined) return result;
    }
    if (Date.now() > deadline) {
      throw new Error(`${path}: nothing after ${timeoutMs} ms; last answer ${JSON.stringify(last).slice(0, 2000)}\n--- console\n${consoleService?.log.slice(-15).join('\n')}`);
    }
    await sleep(250);
  }
}

test('the API requires the bearer token; the probes do not; the console becomes ready', { timeout: 60_000 }, async () => {
  assert.equal((await api('/api/v1/events', { token: null })).status, 401);
  assert.equal((await api('/api/v1/events', { token: `${token}-wrong` })).status, 401);
  assert.equal((await api<EventsResponse>('/api/v1/events')).status, 200);
  assert.equal((await fetch(`${consoleService!.url}/healthz`)).status, 200);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const readyz = await fetch(`${consoleService!.url}/readyz`);
    const body = await readyz.text();
    if (readyz.status === 200) break;
    assert.ok(Date.now() < deadline, `ready within 30 s; /readyz ${readyz.status} ${body}`);
    await sleep(250);
  }
  const bad = await api<{ error: string }>('/api/v1/events?from=soon');
  assert.equal(bad.status, 400);
  assert.match(bad.body.error, /^from: /);
});

test('a real cat /etc/passwd shows in file access with cat, its shell parent and the flags, and its alert with the outcome', { timeout: 120_000 }, async () => {
  const file = join(dir, `${policyName}.yaml`);
  writeFileSync(
    file,
    `apiVersion: stinger.io/v1alpha1
kind: TracingPolicy
metadata: { name: ${policyName} }
spec:
  mode: monitor
  rules:
    - name: passwd-read
      event: file
      match: { path: { equal: ["/etc/passwd"] }, op: [open] }
      action: audit
      severity: medium
`,
  );
  const applied = runStinger(['policy', 'apply', file], cliEnv());
  assert.equal(applied.status, 0, applied.stderr);
  policyApplied = true;
  const status = await policyStatusOf(statuses!, { node: nodeName, key: policyName }, { accept: (s) => s !== null && s.generation === 1n });
  assert.equal(status?.state, 'applied', status?.messages.join('; '));

  // The shell forks cat (the `; exit 0` keeps it from exec'ing cat in its own place).
  const run = await runChild('/bin/sh', ['-c', '/usr/bin/cat /etc/passwd > /dev/null; exit 0']);
  assert.equal(run.code, 0, run.stderr);

  const row = await eventually<FileAccessResponse, FileAccessResponse['rows'][number]>(
    `/api/v1/file-access?path=/etc/passwd&node=${nodeName}`,
    (body) => body.rows.find((r) => r.binary === '/usr/bin/cat' && r.ancestry[0] === shell),
  );
  assert.equal(row.path, '/etc/passwd');
  assert.equal(row.node, nodeName);
  assert.equal(row.pod, null, 'a host process');
  assert.equal(row.op, 'open');
  assert.match(row.flags, /^O_RDONLY(\||$)/);
  assert.equal(row.access, 'read');
  assert.ok(row.count >= 1);
  assert.ok(row.firstSeen <= row.lastSeen && row.lastSeen <= Date.now());
  assert.equal(row.kill, null, 'an audit rule kills nothing');

  // cat's open, not the close of it that follows (the agent follows a watched open to its close).
  const catEvent = await eventually<EventsResponse, EventsResponse['events'][number]>(`/api/v1/events?kind=file&binary=/usr/bin/cat&node=${nodeName}`, (body) =>
    body.events.find((e) => e.binary === '/usr/bin/cat' && e.parentBinary === shell && !e.summary.includes(' closed ')),
  );
  assert.match(catEvent.summary, /file +pid=\d+ \/usr\/bin\/cat open \/etc\/passwd/);

  const alert = await eventually<AlertsResponse, AlertsResponse['alerts'][number]>(`/api/v1/alerts?node=${nodeName}`, (body) =>
    body.alerts.find((a) => a.policy === policyName && a.binary === '/usr/bin/cat' && a.enforcement !== null),
  );
  assert.equal(alert.rule, 'passwd-read');
  assert.equal(alert.severity, 'medium');
  assert.ok(['monitor_only', 'audit_only'].includes(alert.enforcement?.outcome ?? ''), `outcome ${alert.enforcement?.outcome}`);
});

test('a real TCP connect from bash shows in egress with its destination, and the node in agents', { timeout: 90_000 }, async () => {
  const port = await freePort();
  listener = await tcpListener(port);
  const run = await runChild('/bin/bash', ['-c', `exec 3<>/dev/tcp/127.0.0.1/${port}; exec 3>&-; exit 0`]);
  assert.equal(run.code, 0, run.stderr);
  const bash = realpathSync('/bin/bash');
  const row = await eventually<EgressResponse, EgressResponse['rows'][number]>(`/api/v1/egress?node=${nodeName}`, (body) =>
    body.rows.find((r) => r.dport === port && r.binary === bash),
  );
  assert.equal(row.daddr, '127.0.0.1');
  assert.equal(row.protocol, 'tcp');
  assert.ok(row.connections >= 1);
  assert.ok(row.args?.includes(`/dev/tcp/127.0.0.1/${port}`), `args ${row.args}`);

  // The agent's own health report (stinger.agents), not only what its events show.
  const agentRow = await eventually<AgentsResponse, AgentsResponse['agents'][number]>('/api/v1/agents', (body) =>
    body.agents.find((a) => a.node === nodeName && a.sensors !== null),
  );
  assert.ok(agentRow.lastSeen > Date.now() - 120_000);
  assert.ok(agentRow.agentId !== null);
  assert.ok(agentRow.sensors?.some((sensor) => sensor.name === 'process' && sensor.state === 'loaded'), JSON.stringify(agentRow.sensors));
  assert.ok(agentRow.kernelFeatures !== null && Object.keys(agentRow.kernelFeatures).length > 0);
  assert.ok(agentRow.spool !== null && agentRow.lost !== null);
});

test('a garbage record on stinger.events goes to the dead-letter topic; the console keeps serving and storing', { timeout: 90_000 }, async () => {
  const producer = createProducer({ client });
  await producer.connect();
  await producer.send(topicName('events', prefix), [{ key: Buffer.from(nodeName), value: Buffer.from('not an avro record') }]);
  await producer.disconnect();
  const consoleGroup = `${prefix}stinger.console`;
  const deadline = Date.now() + 30_000;
  let letter;
  while (letter === undefined) {
    letter = deadLetters!.records.map((r) => decodeDeadLetter(r.value ?? Buffer.alloc(0))).find((d) => d.consumer === consoleGroup);
    if (letter !== undefined) break;
    assert.ok(Date.now() < deadline, `a dead letter from ${consoleGroup} within 30 s`);
    await sleep(200);
  }
  assert.equal(letter.source_topic, topicName('events', prefix));
  assert.equal(letter.value?.toString(), 'not an avro record');
  assert.equal(letter.reason, 'bad-magic');

  assert.equal((await fetch(`${consoleService!.url}/healthz`)).status, 200);
  const after = Date.now();
  const run = await runChild('/bin/sh', ['-c', `/usr/bin/cat /etc/passwd > /dev/null; exit 0`]);
  assert.equal(run.code, 0);
  await eventually<EventsResponse, true>(`/api/v1/events?kind=file&binary=/usr/bin/cat&node=${nodeName}&from=${after - 1000}`, (body) =>
    body.events.some((e) => e.binary === '/usr/bin/cat' && e.time >= after - 1000) ? true : undefined,
  );
});

test('a console restarted with an empty store refills it from the topics within the retention', { timeout: 120_000 }, async () => {
  const path = `/api/v1/file-access?path=/etc/passwd&node=${nodeName}&binary=/usr/bin/cat`;
  const before = (await api<FileAccessResponse>(path)).body.rows.find((r) => r.ancestry[0] === shell);
  assert.ok(before, 'the cat of the earlier tests is stored');
  await consoleService?.stop();
  consoleService = await startConsole({ brokers: testBrokers(), topicPrefix: prefix, token });
  const refilled = await eventually<FileAccessResponse, FileAccessResponse['rows'][number]>(path, (body) =>
    body.rows.find((r) => r.ancestry[0] === shell && r.count >= before.count),
  );
  assert.equal(refilled.firstSeen, before.firstSeen, 'the same accesses, read again from the topic');
  assert.ok(!consoleService.log.some((line) => line.includes('could not move the group')), 'the group was moved to the retention window');
});
