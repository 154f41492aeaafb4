/**
 * The console's page in headless Chromium against the console service fed by the real pipeline: a real API server
 * (dev cluster) with a Deployment's pod, that pod simulated on this kernel (its cgroup, helpers/pod-cgroup.ts), the
 * real agent, enricher (in the cluster), detector, enforcer and console on the shared broker under a prefix of this
 * file. What runs in the pod is real: `cat /etc/passwd`, a curl to a loopback listener, a read of a file a kill rule
 * guards. Each test looks at one view the way a person would and keeps a screenshot (artifacts/screenshots/).
 *
 * Policies name only /etc/passwd (audit, pods only), this file's listener port and its temp file; the only pod on the
 * machine is this file's, so nothing else is watched or killed.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { bootstrapTopics, topicName, type KafkaClient } from '@stinger/kafka';
import { buildBpf, startAgent, type RunningAgent } from '../helpers/agent.ts';
import { policyStatusOf } from '../helpers/agent-events.ts';
import { openBrowser, screenshot, type TestBrowser } from '../helpers/browser.ts';
import { runStinger } from '../helpers/cli.ts';
import { startConsole, type RunningConsole } from '../helpers/console.ts';
import { podObject, randomContainerId, runningStatus, startTestCluster, type TestCluster } from '../helpers/dev-cluster.ts';
import { collectTopic, testBrokers, testClient, uniqueName, type Collector } from '../helpers/kafka.ts';
import { podCgroups } from '../helpers/pod-cgroup.ts';
import { pipelineEnvironment, startPipelineService, type RunningService } from '../helpers/pipeline.ts';

const tag = randomBytes(4).toString('hex');
const prefix = `${uniqueName('console-ui')}.`;
const NODE = `console-node-${tag}`;
const NAMESPACE = 'shop';
const DEPLOYMENT = 'storefront';
const POD = `${DEPLOYMENT}-5f6d7c8b9a-q2w3e`;
const TOKEN = `console-browser-test-${tag}`;
/** /bin/sh as the agent resolves it (dash on Debian), first in an ancestry, or as a path. */
const SHELL_FIRST = /^(sh|dash|bash)\b/;
const SHELL_PATH = /\/(sh|dash|bash)$/;
const SHELL_IN_TEXT = /\/(sh|dash|bash)\b/;
/** What the egress test's curl downloads: its bytes must show as received on the name's row. */
const EGRESS_PATH = '/egress-body';
const EGRESS_BODY = Buffer.alloc(200_000, 0x65);
/** formatBytes of 200,000 bytes plus the headers (about 200,400 bytes; below 204,800 = 200 KiB). */
const EGRESS_RECEIVED = /^(195|196|197|198|199) KiB$/;
/** A page refreshes its view every 5 s; the pipeline takes a few seconds: what a test waits for must come within this. */
const SHOWS_WITHIN_MS = 60_000;

const dir = mkdtempSync(join(tmpdir(), 'stinger-console-ui-'));
const secret = join(dir, 'secret');
const policyName = `console-ui-${tag}`;
const cliEnv = () => ({ KAFKA_BROKERS: testBrokers(), STINGER_TOPIC_PREFIX: prefix });
const pods = podCgroups();

let kube: TestCluster | undefined;
let client: KafkaClient;
let policyStatus: Collector | undefined;
let agent: RunningAgent | undefined;
const services: RunningService[] = [];
let consoleService: RunningConsole | undefined;
let browser: TestBrowser | undefined;
let listener: Server | undefined;
let listenerPort = 0;
let procs = '';
const children: ChildProcess[] = [];

/** Deployment → ReplicaSet → Pod (running, one containerd container), as the enricher resolves a workload. */
async function deploymentPod(cluster: TestCluster, containerId: string): Promise<string> {
  const labels = { app: DEPLOYMENT, 'pod-template-hash': '5f6d7c8b9a' };
  const container = { name: 'web', image: `registry.local/${DEPLOYMENT}:1.0` };
  const template = { metadata: { labels }, spec: { containers: [container] } };
  const deployment = await cluster.create(`/apis/apps/v1/namespaces/${NAMESPACE}/deployments`, {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: DEPLOYMENT },
    spec: { replicas: 1, selector: { matchLabels: { app: DEPLOYMENT } }, template: { ...template, metadata: { labels: { app: DEPLOYMENT } } } },
  });
  const owner = (kind: string, object: { metadata: { name: string; uid: string } }) => ({ apiVersion: 'apps/v1', kind, name: object.metadata.name, uid: object.metadata.uid });
  const replicaSet = await cluster.create(`/apis/apps/v1/namespaces/${NAMESPACE}/replicasets`, {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: `${DEPLOYMENT}-5f6d7c8b9a`, labels, ownerReferences: [{ ...owner('Deployment', deployment), controller: true, blockOwnerDeletion: true }] },
    spec: { replicas: 1, selector: { matchLabels: labels }, template },
  });
  const pod = await cluster.create(
    `/api/v1/namespaces/${NAMESPACE}/pods`,
    podObject({ namespace: NAMESPACE, name: POD, nodeName: NODE, labels, owner: owner('ReplicaSet', replicaSet), containers: [container] }),
  );
  await cluster.mergePatch(`/api/v1/namespaces/${NAMESPACE}/pods/${POD}/status`, runningStatus([{ ...container, id: containerId }]));
  return pod.metadata.uid;
}

/**
 * Runs `script` in the pod: the shell moves itself into the container's cgroup, then execs the shell that runs the
 * script, so that shell (and everything it starts) is the pod's from its exec on. Resolves when it exits.
 */
function inPod(script: string): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const child = spawn('/bin/sh', ['-c', `echo $$ > ${procs}; exec /bin/sh -c '${script}'`], { stdio: 'ignore' });
  children.push(child);
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

async function applyPolicy(yaml: string): Promise<void> {
  const file = join(dir, `${policyName}.yaml`);
  writeFileSync(file, yaml);
  const result = runStinger(['policy', 'apply', file], cliEnv());
  assert.equal(result.status, 0, result.stderr);
  const status = await policyStatusOf(policyStatus!, { node: NODE, key: policyName }, { accept: (s) => s !== null });
  assert.equal(status?.state, 'applied', status?.messages.join('; '));
}

async function openView(query: string): Promise<Page> {
  const page = await browser!.newPage();
  await page.goto(`${consoleService!.url}/?${query}`);
  return page;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until the console's API lists an exec of this file's pod whose summary carries `marker`. */
async function consoleHasEvent(marker: string): Promise<void> {
  const deadline = Date.now() + SHOWS_WITHIN_MS;
  const query = new URLSearchParams({ namespace: NAMESPACE, pod: POD, kind: 'exec', limit: '50' });
  while (Date.now() < deadline) {
    const { events } = (await (await fetch(`${consoleService!.url}/api/v1/events?${query}`)).json()) as { events: { summary: string }[] };
    if (events.some((e) => e.summary.includes(marker))) return;
    await sleep(200);
  }
  throw new Error(`the console has no exec carrying ${marker} after ${SHOWS_WITHIN_MS} ms`);
}

/** What the console logged last, for a failure message. */
function consoleLogTail(): string {
  return (consoleService?.log ?? []).slice(-15).join('\n');
}

before(async () => {
  buildBpf();
  kube = await startTestCluster();
  await kube.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } });
  const containerId = randomContainerId();
  const uid = await deploymentPod(kube, containerId);
  procs = pods.procsOf(pods.container(uid, containerId));

  client = testClient('console-ui-test');
  await bootstrapTopics({ client, prefix });
  policyStatus = await collectTopic(client, topicName('policyStatus', prefix));
  listener = createServer((req, res) => res.end(req.url === EGRESS_PATH ? EGRESS_BODY : 'ok\n'));
  await new Promise<void>((resolve) => listener!.listen(0, '127.0.0.1', resolve));
  listenerPort = (listener.address() as AddressInfo).port;

  agent = await startAgent({ brokers: testBrokers(), topicPrefix: prefix, nodeName: NODE });
  // The enricher runs in the cluster (KUBECONFIG) so events name the pod and its workload.
  const env = { ...pipelineEnvironment({ brokers: testBrokers(), topicPrefix: prefix }), KUBECONFIG: kube.kubeconfigPath };
  for (const service of ['enricher', 'detector', 'enforcer'] as const) services.push(await startPipelineService(service, env));
  consoleService = await startConsole({ brokers: testBrokers(), topicPrefix: prefix });
  browser = await openBrowser();

  writeFileSync(secret, 'secret\n');
  await applyPolicy(`apiVersion: stinger.io/v1alpha1
kind: TracingPolicy
metadata: { name: ${policyName} }
spec:
  selector: { host: false }
  rules:
    - name: passwd-read
      event: file
      match: { path: { equal: ["/etc/passwd"] } }
      action: audit
      severity: low
    - name: listener-connect
      event: connect
      match: { daddr: ["127.0.0.1"], dport: ["${listenerPort}"] }
      action: audit
      severity: info
    - name: secret-read
      event: file
      match: { path: { equal: ["${secret}"] }, access: [read] }
      action: kill
      severity: high
      tags: [T1005]
`);
});

after(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  runStinger(['policy', 'delete', policyName], cliEnv());
  await browser?.close();
  await consoleService?.stop();
  for (const service of services) await service.stop();
  const code = await agent?.stop();
  await policyStatus?.stop();
  await new Promise<void>((resolve) => (listener ? listener.close(() => resolve()) : resolve()));
  pods.remove();
  await kube?.stop();
  rmSync(dir, { recursive: true, force: true });
  assert.equal(code, 0, 'the agent shuts down cleanly');
});

test('a cat /etc/passwd in the pod shows in the file-access view under that pod, with its binary and parent shell', { timeout: 150_000 }, async () => {
  assert.deepEqual(await inPod('cat /etc/passwd > /dev/null; sleep 0.2'), { code: 0, signal: null });
  const page = await openView('view=files');
  try {
    assert.equal(await page.locator('input[name="path"]').inputValue(), '/etc/passwd', 'the view asks about /etc/passwd by default');
    const group = page.locator(`.group[data-namespace="${NAMESPACE}"][data-pod="${POD}"]`);
    const row = group.locator('tr[data-binary$="/cat"]');
    await row.first().waitFor({ timeout: SHOWS_WITHIN_MS });
    const cells = await row.first().locator('td').allInnerTexts();
    assert.match(cells[0] ?? '', /\/cat$/, 'binary');
    assert.match(cells[1] ?? '', SHELL_FIRST, 'the parent shell first in the ancestry');
    assert.match(cells[2] ?? '', /open/, 'syscall');
    assert.match(cells[3] ?? '', /O_RDONLY/, 'flags');
    assert.equal(cells[4], 'read');
    assert.ok(Number(cells[5]) >= 1, 'count');
    assert.match(await group.locator('.group-title').innerText(), new RegExp(`${NAMESPACE}/${POD}[\\s\\S]*${DEPLOYMENT}`), 'the pod and its workload head the group');
    // The agent follows the watched open to its close: how much cat read shows beside the count.
    const deadline = Date.now() + SHOWS_WITHIN_MS;
    let through = '';
    while (!/^read [1-9][\d.]* (B|KiB) in \d+ opens?$/.test(through) && Date.now() < deadline) {
      await page.reload();
      await row.first().waitFor({ timeout: SHOWS_WITHIN_MS });
      through = (await row.first().locator('td[data-cell="io"]').innerText()).trim();
    }
    assert.match(through, /^read [1-9][\d.]* (B|KiB) in \d+ opens?$/, 'bytes read through the opens, from the close events');
  } finally {
    await screenshot(page, 'console-file-access');
  }
});

test('a real outbound connection from the pod shows in the egress view with its binary, the host it asked for and its bytes', { timeout: 150_000 }, async () => {
  assert.deepEqual(await inPod(`curl -s -o /dev/null http://127.0.0.1:${listenerPort}${EGRESS_PATH}; sleep 0.2`), { code: 0, signal: null });
  const page = await openView('view=egress');
  try {
    // Names first: curl's request was read as it left (its Host header), counted under the pod and the binary.
    const name = page.locator(`[data-section="names"] .group[data-pod="${POD}"] tr[data-binary$="/curl"]`);
    await name.first().waitFor({ timeout: SHOWS_WITHIN_MS });
    const named = await name.first().locator('td').allInnerTexts();
    assert.equal(named[0], `127.0.0.1:${listenerPort}`, 'the Host header curl sent');
    assert.equal(named[1], 'HTTP');
    assert.ok(Number(named[5]) >= 1, 'requests');
    // The connection's flow record (written when curl closed it) joined on its socket: 200,000 bytes received.
    const deadline = Date.now() + SHOWS_WITHIN_MS;
    let received = '';
    while (!EGRESS_RECEIVED.test(received) && Date.now() < deadline) {
      await page.reload();
      await name.first().waitFor({ timeout: SHOWS_WITHIN_MS });
      received = (await name.first().locator('td[data-cell="received"]').innerText()).trim();
    }
    assert.match(received, EGRESS_RECEIVED, 'the bytes curl received on that connection');
    assert.match((await name.first().locator('td[data-cell="sent"]').innerText()).trim(), /^\d+ B$|^\d\.\d KiB$/, 'the request and its ACKs: bytes, not the body');
    const row = page.locator(`[data-section="connections"] .group[data-pod="${POD}"] tr[data-binary$="/curl"]`);
    await row.first().waitFor({ timeout: SHOWS_WITHIN_MS });
    const cells = await row.first().locator('td').allInnerTexts();
    assert.equal(cells[0], `127.0.0.1:${listenerPort}`, 'destination and port');
    assert.match(cells[2] ?? '', /\/curl$/, 'binary');
    assert.match(cells[3] ?? '', new RegExp(`http://127\\.0\\.0\\.1:${listenerPort}/`), 'the command');
    assert.ok(Number(cells[5]) >= 1, 'connections');
    assert.match((await row.first().locator('td[data-cell="bytes"]').innerText()).trim(), /^(195|196|197|198|199|200) KiB$/, 'the flow\'s bytes, both ways');
  } finally {
    await screenshot(page, 'console-egress');
  }
});

test('the process tree of the pod, chosen in its picker, shows the shell and its child', { timeout: 150_000 }, async () => {
  const page = await openView('view=tree');
  try {
    const picker = page.locator('select[name="tree-target"]');
    await picker.locator(`option[value="pod:${NAMESPACE}/${POD}"]`).waitFor({ state: 'attached', timeout: SHOWS_WITHIN_MS });
    await picker.selectOption(`pod:${NAMESPACE}/${POD}`);
    assert.match(page.url(), new RegExp(`treePod=${POD}`), 'the choice is in the address');
    const lines = page.locator('.tree-line');
    await page.locator('.tree-line[data-binary$="/cat"]').first().waitFor({ timeout: SHOWS_WITHIN_MS });
    const shape: [string, number][] = [];
    for (let i = 0; i < (await lines.count()); i += 1) {
      const line = lines.nth(i);
      shape.push([(await line.getAttribute('data-binary')) ?? '', Number(await line.getAttribute('data-depth'))]);
    }
    const cat = shape.findIndex(([binary]) => binary.endsWith('/cat'));
    const parent = shape.slice(0, cat).findLastIndex(([, depth]) => depth === (shape[cat]?.[1] ?? 0) - 1);
    assert.ok(parent >= 0, `cat has a parent line: ${JSON.stringify(shape)}`);
    assert.match(shape[parent]?.[0] ?? '', SHELL_PATH, `cat's parent is the shell: ${JSON.stringify(shape)}`);
    await page.locator('.tree-line[data-binary$="/cat"]').first().click();
    const events = page.locator('.process-events');
    await events.getByText('/etc/passwd').first().waitFor({ timeout: 5000 });
  } finally {
    await screenshot(page, 'console-process-tree');
  }
});

test('a process killed for reading a guarded file: its alert shows the enforcement outcome', { timeout: 150_000 }, async () => {
  const exit = await inPod(`read line < ${secret}; exec sleep 30`);
  assert.equal(exit.signal, 'SIGKILL', 'the pipeline killed the reader');
  const page = await openView('view=alerts');
  try {
    const row = page.locator(`tr[data-rule="${policyName}/secret-read"]`).first();
    await row.locator('[data-outcome="killed"]').waitFor({ timeout: SHOWS_WITHIN_MS });
    assert.match(await row.innerText(), new RegExp(`${NAMESPACE}/${POD}`));
    assert.match(await row.innerText(), /killed/);
    // The audit rules alert too, and say that nothing was to be enforced.
    const audit = page.locator(`tr[data-rule="${policyName}/passwd-read"]`).first();
    await audit.waitFor({ timeout: SHOWS_WITHIN_MS });
  } finally {
    await screenshot(page, 'console-alerts');
  }
  const files = await openView(`view=files&path=${encodeURIComponent(secret)}`);
  try {
    // The same kill, on the access it stopped.
    const row = files.locator(`.group[data-pod="${POD}"] tr`).filter({ has: files.locator('[data-outcome="killed"]') });
    await row.first().waitFor({ timeout: SHOWS_WITHIN_MS });
    assert.match(await row.first().innerText(), SHELL_IN_TEXT, 'the shell that read the file');
  } finally {
    await screenshot(files, 'console-file-access-killed');
  }
});

test('live events arrive without a reload, and pausing holds them', { timeout: 150_000 }, async () => {
  const page = await openView(`view=live&namespace=${NAMESPACE}&pod=${POD}`);
  try {
    await page.locator('.connection-open').waitFor({ timeout: SHOWS_WITHIN_MS });
    const first = `live-${randomBytes(3).toString('hex')}`;
    await inPod(`/bin/true ${first}`);
    await page.getByText(first).first().waitFor({ timeout: SHOWS_WITHIN_MS });
    await page.getByRole('button', { name: 'Pause' }).click();
    const second = `held-${randomBytes(3).toString('hex')}`;
    await inPod(`/bin/true ${second}`);
    // Once the console has the event, the open stream has delivered it too (give it a second to arrive).
    await consoleHasEvent(second);
    await sleep(1000);
    await page.getByRole('button', { name: /Resume \(\d+ new\)/ }).waitFor({ timeout: 5000 });
    assert.equal(await page.getByText(second).count(), 0, 'held while paused');
    await page.getByRole('button', { name: /Resume/ }).click();
    await page.getByText(second).first().waitFor({ timeout: 5000 });
  } finally {
    await screenshot(page, 'console-live-events');
  }
});

test('the overview charts events over time and the top files; the agents view shows this node healthy', { timeout: 150_000 }, async () => {
  const overview = await openView('');
  try {
    await overview.locator('figure.chart svg rect').first().waitFor({ timeout: SHOWS_WITHIN_MS });
    await overview.locator('[data-panel="top-files"]').getByText('/etc/passwd').waitFor({ timeout: SHOWS_WITHIN_MS });
    await overview.locator('[data-panel="top-talkers"]').getByText(`${NAMESPACE}/${POD}`).waitFor({ timeout: SHOWS_WITHIN_MS });
  } finally {
    await screenshot(overview, 'console-overview');
  }
  const agents = await openView('view=agents');
  try {
    const card = agents.locator(`.agent[data-node="${NODE}"]`);
    await card.waitFor({ timeout: SHOWS_WITHIN_MS });
    await card.locator('[data-health="healthy"]').waitFor({ timeout: SHOWS_WITHIN_MS });
  } finally {
    await screenshot(agents, 'console-agents');
  }
});

test('filters live in the address: a shared address opens the same filtered view', { timeout: 150_000 }, async () => {
  const page = await openView('view=files');
  try {
    // Preact leaves out an option's value attribute when it equals the option's text: find the option by its text.
    await page.locator('select[name="namespace"] option', { hasText: new RegExp(`^${NAMESPACE}$`) }).waitFor({ state: 'attached', timeout: SHOWS_WITHIN_MS });
    await page.locator('select[name="namespace"]').selectOption(NAMESPACE);
    await page.locator('select[name="window"]').selectOption('15m');
    const shared = new URL(page.url());
    assert.equal(shared.searchParams.get('namespace'), NAMESPACE);
    assert.equal(shared.searchParams.get('window'), '15m');
    const again = await openView(shared.search.slice(1));
    assert.equal(await again.locator('select[name="window"]').inputValue(), '15m');
    await again.locator(`.group[data-pod="${POD}"]`).waitFor({ timeout: SHOWS_WITHIN_MS });
  } finally {
    await screenshot(page, 'console-filters');
  }
});

test('behind a token: the page takes ?token= once, keeps it for the tab, drops it from the address; without it the page says so', { timeout: 90_000 }, async () => {
  const guarded = await startConsole({ brokers: testBrokers(), topicPrefix: prefix, token: TOKEN });
  try {
    const page = await browser!.newPage();
    await page.goto(`${guarded.url}/?view=agents&token=${TOKEN}`);
    await page.locator(`.agent[data-node="${NODE}"]`).waitFor({ timeout: SHOWS_WITHIN_MS });
    assert.equal(new URL(page.url()).searchParams.get('token'), null, 'the token is gone from the address');
    await page.reload();
    await page.locator(`.agent[data-node="${NODE}"]`).waitFor({ timeout: SHOWS_WITHIN_MS });
    const stranger = await browser!.newPage();
    await stranger.goto(`${guarded.url}/?view=agents`);
    await stranger.getByRole('alert').waitFor({ timeout: 15_000 });
    assert.match(await stranger.getByRole('alert').innerText(), /token/);
    await screenshot(stranger, 'console-token-refused');
  } catch (error) {
    throw new Error(`${(error as Error).message}\n--- console\n${guarded.log.slice(-15).join('\n')}\n--- test console\n${consoleLogTail()}`);
  } finally {
    await guarded.stop();
  }
});
