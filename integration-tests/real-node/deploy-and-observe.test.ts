/**
 * Stinger on a real node: the dev cluster with its node (kubelet, containerd, runc, bridge CNI on this machine), the
 * images of `stinger images build` imported into the node's containerd, and `kubectl apply -k` of k8s/overlays/dev,
 * wrapped in a kustomization of this test's own that sets KAFKA_BROKERS, as a user edits it for their broker, and
 * drops the agent's CAP_SYS_RESOURCE, which this machine withholds (runc cannot grant it; the agent needs it only
 * before Linux 5.11).
 *
 * The broker: this test's own, started as docs/deploy.md tells users, `stinger broker up --listen <NODE_IP>:<port>`
 * (which creates the topics): its second listener, on the node's bridge address, is the address pods reach and the one
 * advertised to them; the suite's broker listens on 127.0.0.1 only, which inside a pod is the pod's own loopback. The
 * services' pods are on the pod network, not hostNetwork, as in a user's cluster.
 * Policies go in with `stinger policy apply` onto that broker, and each waits for the node's agent to report it
 * applied.
 *
 * `stinger status`, pointed at the broker only (KAFKA_BROKERS), names every service's pod connected to it with the
 * consuming services' lag, and the node's agent with its sensors loaded.
 *
 * Then a Deployment of a tiny workload image (bash and coreutils copied from this machine with umoci, since no
 * registry is reachable) reads /etc/passwd and connects to a listener on the node under an audit policy: the events
 * on stinger.events name the real pod, namespace, labels, Deployment and container, as the enricher learnt them from
 * the API server, and the console the overlay deployed, opened in headless Chromium at its pod's address, shows the
 * read in its file-access view and the connection in its egress view under that pod and Deployment. A `kill` policy
 * kills a `tail -f` run in the pod with `kubectl exec` (detector → enforcer → signed command on stinger.control → the
 * agent). A `kill-in-kernel` policy scoped by the pod's label goes into the kernel with a pod scope (the agent watches
 * its node's pods through its ServiceAccount): a `cat` of the named file in the labelled pod dies at its open, the
 * kill event naming the policy, while the same `cat` in another pod of the node reads; one for every pod (`selector: { host: false }`)
 * kills a `head` at its exec, in the kernel, both the workload's own and one run with `kubectl exec`, each event
 * naming the pod.
 *
 * Failing fast: a container the runtime refuses or that crash-loops ends the wait at once with its reason and last
 * log lines; a later test that needs the deployment fails at once when it is not there; a missing event fails
 * within a minute with an account of what stinger.events held.
 *
 * Everything goes in after(), whatever failed: the node (host restored), the API server, the broker, the scratch
 * folders.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '@stinger/config';
import { buildHostBinariesImage, buildKubectl, importIntoNode, NODE_IP, normalizedImageName, startDevCluster, startNode, type DevCluster, type DevClusterNode } from '@stinger/dev-cluster';
import { decodeControlAck, decodeEvent, type Event, type PolicyStatus } from '@stinger/events';
import { createKafkaClient, topicName, type KafkaClient } from '@stinger/kafka';
import { createLogger } from '@stinger/log';
import { freePort } from '@stinger/processes';
import { policyStatusOf } from '../helpers/agent-events.ts';
import { openBrowser, screenshot, type TestBrowser } from '../helpers/browser.ts';
import { runStinger } from '../helpers/cli.ts';
import { collectTopic, type Collector } from '../helpers/kafka.ts';

const REPO_DIR = fileURLToPath(new URL('../../', import.meta.url));
/** No other test binds a pod to this name: a kubelet adopts every pod bound to its node. */
const NODE_NAME = 'stinger-it-real-node';
const STINGER_NAMESPACE = 'stinger-system';
const WORKLOAD_NAMESPACE = 'stinger-it-workloads';
const WORKLOAD_IMAGE = 'localhost/stinger/it-workload:1';
/**
 * A copy of tail under a name no other policy of this file names (the kill policy has /usr/bin/tail); copied from
 * /bin/tail (merged /usr) since the image build keys its copies by host path and /usr/bin/tail is taken.
 */
const FOLLOW = '/usr/local/bin/follow';
const SERVICES = ['agent', 'enricher', 'detector', 'enforcer', 'policy-controller', 'console'] as const;
/** The console's token, put in the Secret the overlay's console reads. */
const CONSOLE_TOKEN = 'real-node-test-token';
/** The pipeline keeps a page waiting a few seconds, and a view refreshes every 5 s. */
const CONSOLE_SHOWS_WITHIN_MS = 60_000;

interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

interface RunOptions {
  readonly input?: string;
  /** The command is killed after this long and the promise rejects (default 300 s). */
  readonly timeoutMs?: number;
}

function run(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const { input, timeoutMs = 300_000 } = options;
  return new Promise((resolve, reject) => {
    const child = execFile(command, args, { cwd: REPO_DIR, maxBuffer: 64 * 1024 * 1024, timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') reject(new Error(`${command} ${args.join(' ')}: ${error.message} (${error.signal ?? 'no exit code'})`, { cause: error }));
      else resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** A state a wait cannot leave (a container the runtime refused, a crash loop): `until` gives up at once. */
class Hopeless extends Error {}

/**
 * Polls `probe` until it returns non-null. A Hopeless error ends the wait at once; other errors are retried. On
 * timeout the error carries `explain()`'s account of what was seen instead.
 */
async function until<T>(what: string, limit: { readonly timeoutMs: number; readonly explain?: () => string }, probe: () => Promise<T | null>): Promise<T> {
  const { timeoutMs, explain } = limit;
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  for (;;) {
    try {
      const value = await probe();
      if (value !== null) return value;
    } catch (error) {
      if (error instanceof Hopeless) throw new Error(`${what}: ${error.message}`);
      last = error;
    }
    if (Date.now() > deadline) {
      const seen = explain ? `\n${explain()}` : '';
      throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (last: ${String(last)})` : ''}${seen}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

interface ContainerState {
  readonly waiting?: { readonly reason?: string; readonly message?: string };
  readonly terminated?: { readonly reason?: string; readonly message?: string; readonly exitCode?: number };
}

interface PodList {
  readonly items: ReadonlyArray<{
    readonly metadata: { readonly name: string; readonly labels?: Record<string, string> };
    readonly status: {
      readonly phase?: string;
      readonly podIP?: string;
      readonly conditions?: ReadonlyArray<{ readonly type: string; readonly status: string }>;
      readonly containerStatuses?: ReadonlyArray<{ readonly name: string; readonly restartCount?: number; readonly state?: ContainerState; readonly lastState?: ContainerState }>;
    };
  }>;
}

/** Waiting reasons a container does not leave without a change to its spec or image. */
const HOPELESS_WAITING = new Set(['CreateContainerError', 'CreateContainerConfigError', 'CrashLoopBackOff', 'ErrImageNeverPull', 'InvalidImageName', 'RunContainerError', 'StartError']);

/** What is wrong with a pod that will not become Ready by waiting (null: nothing yet). */
function hopelessContainer(pod: PodList['items'][number]): string | null {
  for (const status of pod.status.containerStatuses ?? []) {
    const waiting = status.state?.waiting;
    const last = status.lastState?.terminated;
    if (waiting?.reason !== undefined && HOPELESS_WAITING.has(waiting.reason)) {
      const lastRun = last ? `; last run: ${last.reason ?? ''} exit ${String(last.exitCode ?? '?')} ${last.message ?? ''}` : '';
      return `pod ${pod.metadata.name} container ${status.name}: ${waiting.reason} ${waiting.message ?? ''}${lastRun}`.trim();
    }
    if (last?.reason === 'StartError') return `pod ${pod.metadata.name} container ${status.name}: ${last.message ?? 'StartError'}`;
  }
  return null;
}

/** What stinger.events held when the pod's events did not come: counts, and the workload's own processes' events. */
function explainEvents(all: readonly Event[], podName: string): string {
  const count = (key: (event: Event) => string): string =>
    JSON.stringify(all.reduce<Record<string, number>>((counts, event) => ({ ...counts, [key(event)]: (counts[key(event)] ?? 0) + 1 }), {}));
  const inPod = all.filter((event) => event.pod?.name === podName);
  const sample = (kind: string): Event[] => [...inPod.filter((event) => event.kind === kind).slice(0, 2), ...all.filter((event) => event.kind === kind && event.pod?.name !== podName).slice(-2)];
  const json = (value: unknown): string => JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
  return [
    `stinger.events: ${all.length} events; by enrichment ${count((event) => `${event.enrichment.status}:${event.enrichment.reason ?? ''}`)}; by kind ${count((event) => event.kind)}`,
    `pods named: ${JSON.stringify([...new Set(all.map((event) => event.pod?.name).filter((name) => name !== undefined))])} (expected ${podName})`,
    `events in the pod by kind: ${count((event) => (event.pod?.name === podName ? event.kind : 'elsewhere'))}`,
    ...['file', 'connect'].flatMap(sample).map((event) => `${event.kind} ${event.process.binary} in ${event.pod?.name ?? event.enrichment.status}: ${json(event.payload)}`),
  ].join('\n');
}

interface BrokerOfCommand {
  /** Its 127.0.0.1 listener, for this test's clients. */
  readonly brokers: string;
  /** The --listen address on the node's bridge: what `stinger broker up` prints as KAFKA_BROKERS, for the pods. */
  readonly podBrokers: string;
}

function brokerCommandEnvironment(home: string): Record<string, string> {
  return { STINGER_HOME: home, STINGER_TOPIC_PREFIX: '', KAFKA_BROKERS: '' };
}

/** `stinger broker up --listen <listen>` with its state and data under `home` (unprefixed topics, as the pods use). */
function startBrokerCommand(home: string, listen: string): BrokerOfCommand {
  const up = runStinger(['broker', 'up', '--listen', listen], brokerCommandEnvironment(home), { timeoutMs: 180_000 });
  assert.equal(up.status, 0, `stinger broker up:\n${up.stdout}\n${up.stderr}`);
  assert.equal(up.stdout.trim().split('\n').at(-1), `KAFKA_BROKERS=${listen}`, 'the pods get the --listen address');
  const brokers = / ready on (127\.0\.0\.1:\d+) and /.exec(up.stdout)?.[1];
  assert.ok(brokers, `stinger broker up names its 127.0.0.1 listener:\n${up.stdout}`);
  return { brokers, podBrokers: listen };
}

describe('Stinger deployed with kustomize on a real node', { timeout: 1_200_000 }, () => {
  const logger = createLogger({ name: 'real-node-test', level: 'warn' });
  const cacheDir = loadConfig().cacheDir;
  let scratch = '';
  let cluster: DevCluster | undefined;
  let node: DevClusterNode | undefined;
  let broker: BrokerOfCommand | undefined;
  let client: KafkaClient | undefined;
  let events: Collector | undefined;
  let statuses: Collector | undefined;
  let acks: Collector | undefined;
  /** The workload Deployment's pod, once the events test saw it Ready. */
  let workloadPod = '';
  let listener: Server | undefined;
  /** The port of `listener`, which the workload connects to. */
  let listenerPort = 0;
  let browser: TestBrowser | undefined;
  let kubectlPath = '';
  const timings: Record<string, number> = {};
  const kubectl = (args: readonly string[], options?: RunOptions): Promise<RunResult> => {
    assert.ok(cluster);
    return run(kubectlPath, ['--kubeconfig', cluster.kubeconfigPath, ...args], options);
  };
  /** Set by the first test once every Stinger pod is Ready: the later tests need a deployed Stinger. */
  let deployed = false;
  const podsReady = async (namespace: string, expected: number): Promise<PodList | null> => {
    const result = await kubectl(['get', 'pods', '-n', namespace, '-o', 'json']);
    if (result.code !== 0) return null;
    const pods = JSON.parse(result.stdout) as PodList;
    for (const pod of pods.items) {
      const hopeless = hopelessContainer(pod);
      if (hopeless === null) continue;
      const logs = await kubectl(['logs', '-n', namespace, pod.metadata.name, '--all-containers', '--previous', '--tail=20']);
      throw new Hopeless(`${hopeless}${logs.code === 0 && logs.stdout.trim() !== '' ? `\nits last log lines:\n${logs.stdout}` : ''}`);
    }
    const ready = pods.items.filter((pod) => pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    return ready.length >= expected ? pods : null;
  };

  /**
   * `stinger policy apply` of a TracingPolicy onto this test's broker (the policies topic the deployed agent follows),
   * then waits until the node's agent reports it applied; fails at once on any other state.
   */
  const applyPolicy = async (name: string, yaml: string): Promise<PolicyStatus> => {
    assert.ok(broker && statuses);
    const file = join(scratch, `${name}.yaml`);
    writeFileSync(file, yaml);
    const result = runStinger(['policy', 'apply', file], { KAFKA_BROKERS: broker.brokers });
    assert.equal(result.status, 0, `stinger policy apply ${name}:\n${result.stderr}`);
    const status = await policyStatusOf(statuses, { node: NODE_NAME, key: name }, { accept: (s) => s !== null, timeoutMs: 30_000 });
    assert.ok(status, `the node's agent reported on ${name}`);
    assert.equal(status.state, 'applied', `the node's agent applied ${name}: ${status.messages.join('; ')}`);
    return status;
  };

  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'stinger-it-real-node-'));
    kubectlPath = (await buildKubectl({ cacheDir, logger })).path;
    let began = Date.now();
    cluster = await startDevCluster({ cacheDir, stateDir: join(scratch, 'cluster'), logger, withNode: true });
    node = await startNode({ cluster, cacheDir, nodeName: NODE_NAME, logger });
    timings['api server + node up'] = Date.now() - began;

    began = Date.now();
    broker = startBrokerCommand(join(scratch, 'home'), `${NODE_IP}:${await freePort(NODE_IP)}`);
    client = createKafkaClient({ brokers: [broker.brokers], connection: loadConfig().kafka, role: 'real-node-test', logger });
    events = await collectTopic(client, topicName('events'));
    statuses = await collectTopic(client, topicName('policyStatus'));
    acks = await collectTopic(client, topicName('controlAcks'));
    timings['broker'] = Date.now() - began;

    began = Date.now();
    // Builds only what changed since the last build (its cache is keyed by the sources): 30-60 s warm, minutes
    // from a clean cache (Debian packages, the Node.js package) or under load.
    const build = runStinger(['images', 'build'], {}, { timeoutMs: 900_000 });
    assert.equal(build.status, 0, `stinger images build (exit ${String(build.status)}):\n${build.stderr}`);
    const layout = /^OCI layout: (\S+)/m.exec(build.stdout)?.[1];
    assert.ok(layout, `the build names its OCI layout:\n${build.stdout}`);
    for (const service of SERVICES) {
      await importIntoNode({ containerdSocket: node.containerdSocket, layout, tag: service, name: normalizedImageName(`stinger/${service}:0.1.0`) });
    }
    const workloadLayout = join(scratch, 'workload-image');
    await buildHostBinariesImage({ layout: workloadLayout, tag: 'workload', binaries: ['/usr/bin/bash', '/usr/bin/cat', '/usr/bin/sleep', '/usr/bin/tail', '/usr/bin/head'], entrypoint: ['/usr/bin/bash'], files: { '/etc/passwd': '/etc/passwd', '/bin/tail': FOLLOW } });
    await importIntoNode({ containerdSocket: node.containerdSocket, layout: workloadLayout, tag: 'workload', name: WORKLOAD_IMAGE });
    timings['images built and imported'] = Date.now() - began;
  });

  after(async () => {
    listener?.close();
    await browser?.close().catch(() => undefined);
    await events?.stop().catch(() => undefined);
    await statuses?.stop().catch(() => undefined);
    await acks?.stop().catch(() => undefined);
    try {
      await node?.stop();
    } finally {
      await cluster?.stop();
      // Whatever broker up got to: a JVM it started stops even if its topics or output failed.
      if (scratch !== '') runStinger(['broker', 'down'], brokerCommandEnvironment(join(scratch, 'home')));
      if (scratch !== '') await rm(scratch, { recursive: true, force: true });
      process.stdout.write(`# real-node timings (ms): ${JSON.stringify(timings)}\n`);
    }
  });

  test('kubectl apply -k k8s/overlays/dev: the agent DaemonSet pod loads its sensors on the node and every service pod becomes Ready', async () => {
    assert.ok(broker?.podBrokers, 'the broker listens on the node address');
    const began = Date.now();
    const overlay = join(scratch, 'overlay');
    await run('mkdir', ['-p', overlay]);
    writeFileSync(
      join(overlay, 'kustomization.yaml'),
      [
        'apiVersion: kustomize.config.k8s.io/v1beta1',
        'kind: Kustomization',
        'resources:',
        // kustomize takes only relative paths to other kustomizations.
        `  - ${relative(overlay, join(REPO_DIR, 'k8s', 'overlays', 'dev'))}`,
        'configMapGenerator:',
        '  - name: stinger-config',
        '    behavior: merge',
        '    literals:',
        `      - KAFKA_BROKERS=${broker.podBrokers}`,
        // This machine withholds CAP_SYS_RESOURCE (runc: "unable to apply caps: operation not permitted"); the
        // agent only needs it to raise RLIMIT_MEMLOCK on kernels before 5.11. A user's overlay can drop it the same
        // way; `test` makes the patch fail loudly if the list changes.
        'patches:',
        '  - target:',
        '      kind: DaemonSet',
        '      name: stinger-agent',
        '    patch: |-',
        '      - op: test',
        '        path: /spec/template/spec/containers/0/securityContext/capabilities/add/5',
        '        value: SYS_RESOURCE',
        '      - op: remove',
        '        path: /spec/template/spec/containers/0/securityContext/capabilities/add/5',
        '',
      ].join('\n'),
    );
    const namespace = await kubectl(['apply', '--server-side', '-f', join(REPO_DIR, 'k8s', 'base', 'namespace.yaml')]);
    assert.equal(namespace.code, 0, namespace.stderr);
    const secrets = runStinger(['keys', 'secrets'], {});
    assert.equal(secrets.status, 0, secrets.stderr);
    assert.equal((await kubectl(['apply', '-f', '-'], { input: secrets.stdout })).code, 0);
    const token = await kubectl(['create', 'secret', 'generic', 'stinger-console-token', '-n', STINGER_NAMESPACE, `--from-literal=token=${CONSOLE_TOKEN}`]);
    assert.equal(token.code, 0, token.stderr);
    const applied = await kubectl(['apply', '--server-side', '-k', overlay]);
    assert.equal(applied.code, 0, `kubectl apply -k:\n${applied.stderr}`);

    const pods = await until('every Stinger pod Ready', { timeoutMs: 180_000 }, () => podsReady(STINGER_NAMESPACE, SERVICES.length)).catch(async (error: unknown) => {
      const described = await kubectl(['get', 'pods', '-n', STINGER_NAMESPACE, '-o', 'wide']);
      throw new Error(`${String(error)}\n${described.stdout}`);
    });
    timings['apply to all Ready'] = Date.now() - began;
    const names = pods.items.map((pod) => pod.metadata.labels?.['app.kubernetes.io/name']).sort();
    assert.deepEqual(names, SERVICES.map((service) => `stinger-${service}`).sort());
    // Ready means /healthz answered: the agent serves it once its sensors are loaded.
    const agentLog = await kubectl(['logs', '-n', STINGER_NAMESPACE, 'daemonset/stinger-agent']);
    assert.equal(agentLog.code, 0, agentLog.stderr);
    assert.match(agentLog.stdout, /sensor loaded/, 'the agent pod logged loading its sensors');
    deployed = true;
  });

  test("stinger status, given only the broker: every service's pod connected to it, the consuming services' lag, and the node's agent with its sensors", async () => {
    assert.ok(broker);
    assert.ok(deployed, 'Stinger is not deployed on the node (the test above failed)');
    const pods = await kubectl(['get', 'pods', '-n', STINGER_NAMESPACE, '-o', 'json']);
    assert.equal(pods.code, 0, pods.stderr);
    // What each service's client id names: its pod (the agent: its node). The broker sees it at the pod's address
    // (or the node's, where the network plugin masquerades).
    const podIps = new Map<string, string>();
    for (const pod of (JSON.parse(pods.stdout) as PodList).items) {
      const service = (pod.metadata.labels?.['app.kubernetes.io/name'] ?? '').replace(/^stinger-/, '');
      podIps.set(`${service} ${service === 'agent' ? NODE_NAME : pod.metadata.name}`, pod.status.podIP ?? '');
    }
    const expected = [...podIps.keys()];
    assert.equal(expected.length, SERVICES.length);
    const env = { KAFKA_BROKERS: broker.brokers };
    let seen = '';
    // A service joins its group once it runs and the agent reports every 10 s: the first status may come too early,
    // and so may the agent's first report (made seconds after start, before the broker acknowledged its first events:
    // "kafka spooling, 0 of N acknowledged"); its next one, 10 s on, is the one to judge.
    const lines = await until('stinger status names every service pod and the agent', { timeoutMs: 60_000, explain: () => `last status:\n${seen}` }, async () => {
      const result = runStinger(['status'], env);
      seen = `${result.stdout}${result.stderr}`;
      assert.equal(result.status, 0, seen);
      const connected = result.stdout.split('\n').filter((line) => line.startsWith('connected: ')).map((line) => line.replace(/^connected: (\S+ \S+) from .*$/, '$1'));
      const agentLine = result.stdout.split('\n').find((line) => line.startsWith(`agent on ${NODE_NAME}: `));
      const agentPastStart = agentLine !== undefined && !/kafka spooling, 0 of \d+ events acknowledged/.test(agentLine);
      return expected.every((service) => connected.includes(service)) && agentPastStart ? result.stdout.split('\n') : null;
    });
    for (const [service, ip] of podIps) {
      const line = lines.find((l) => l.startsWith(`connected: ${service} from `)) ?? '';
      assert.ok([ip, NODE_IP].includes(/ from (\S+?)(,|$)/.exec(line)?.[1] ?? ''), `${service} connects from its pod's address ${ip}: ${line}`);
    }
    const agentLine = lines.find((line) => line.startsWith(`agent on ${NODE_NAME}: `)) ?? '';
    assert.match(agentLine, /sensors [^;]*process:loaded/, `the agent reports its process sensor loaded: ${agentLine}`);
    assert.match(agentLine, /kafka direct/, agentLine);
    for (const service of ['enricher', 'detector', 'enforcer', 'console']) {
      assert.ok(lines.some((line) => new RegExp(`^${service}: (\\d+ records behind on|has consumed nothing of) `).test(line)), `${service}'s lag:\n${lines.join('\n')}`);
    }
    const json = runStinger(['status', '-o', 'json'], env);
    assert.equal(json.status, 0, json.stderr);
    const report = JSON.parse(json.stdout) as { connected: { service: string | null; instance: string }[]; agents: { node: string; sensors: { name: string; state: string }[] }[] };
    assert.deepEqual([...new Set(report.connected.map((c) => c.service).filter((name) => name !== null))].sort(), [...SERVICES].sort());
    assert.ok(report.agents.find((a) => a.node === NODE_NAME)?.sensors.every((sensor) => sensor.state === 'loaded'), `every sensor of the agent loaded: ${json.stdout}`);
  });

  test("a Deployment's pod reads /etc/passwd and connects out: the events name its pod, namespace, labels, Deployment and container", async () => {
    assert.ok(events);
    assert.ok(deployed, 'Stinger is not deployed on the node (the test above failed)');
    const began = Date.now();
    listener = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => listener?.listen(0, NODE_IP, resolve));
    const port = (listener.address() as { port: number }).port;
    listenerPort = port;
    // File opens and connects are reported for what a policy watches: an audit policy for the workload's namespace.
    await applyPolicy('real-node-workload-audit', [
      'apiVersion: stinger.io/v1alpha1',
      'kind: TracingPolicy',
      'metadata: { name: real-node-workload-audit }',
      'spec:',
      `  selector: { namespaces: [${WORKLOAD_NAMESPACE}] }`,
      '  rules:',
      '    - name: passwd-read',
      '      event: file',
      '      match: { path: { equal: ["/etc/passwd"] } }',
      '      action: audit',
      '    - name: node-connect',
      '      event: connect',
      `      match: { daddr: ["${NODE_IP}"], dport: ["${port}"] }`,
      '      action: audit',
      '',
    ].join('\n'));
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'stinger-it-workload', namespace: WORKLOAD_NAMESPACE },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'stinger-it-workload' } },
        template: {
          metadata: { labels: { app: 'stinger-it-workload', tier: 'real-node-test' } },
          spec: {
            terminationGracePeriodSeconds: 1,
            containers: [
              {
                name: 'workload',
                image: WORKLOAD_IMAGE,
                imagePullPolicy: 'Never',
                args: ['-c', `while true; do /usr/bin/cat /etc/passwd > /dev/null; (exec 3<>/dev/tcp/${NODE_IP}/${port}) 2>/dev/null; /usr/bin/head -c 1 /etc/passwd > /dev/null; /usr/bin/sleep 1; done`],
              },
            ],
          },
        },
      },
    };
    assert.equal((await kubectl(['create', 'namespace', WORKLOAD_NAMESPACE])).code, 0);
    const created = await kubectl(['apply', '-f', '-'], { input: JSON.stringify(deployment) });
    assert.equal(created.code, 0, created.stderr);
    const pods = await until('the workload pod Ready', { timeoutMs: 60_000 }, () => podsReady(WORKLOAD_NAMESPACE, 1));
    const podName = pods.items[0]?.metadata.name ?? '';
    assert.match(podName, /^stinger-it-workload-/);
    workloadPod = podName;

    const inPod = (event: Event): boolean => event.pod?.name === podName;
    const decoded = (): Event[] => (events?.records ?? []).map((record) => decodeEvent(record.value ?? Buffer.alloc(0)));
    // The pod reads and connects every second: a minute without both events is a failure, not slowness.
    const [fileEvent, connectEvent] = await until(
      'file and connect events of the pod',
      { timeoutMs: 60_000, explain: () => explainEvents(decoded(), podName) },
      async () => {
        // The first events of a new pod may come before the enricher's pod informer has the container's id from the
        // pod's status (pod.container null, as the Event contract allows): the loop repeats, so later ones name it.
        const all = decoded().filter((event) => inPod(event) && event.pod?.container !== null);
        const file = all.find((event) => event.kind === 'file' && event.payload.group === 'file' && event.payload.path === '/etc/passwd');
        const connect = all.find((event) => event.kind === 'connect' && event.payload.group === 'network' && event.payload.dport === port);
        return file && connect ? [file, connect] : null;
      },
    );
    timings['workload to enriched events'] = Date.now() - began;
    for (const event of [fileEvent, connectEvent]) {
      assert.equal(event?.node, NODE_NAME);
      assert.equal(event?.pod?.namespace, WORKLOAD_NAMESPACE);
      assert.equal(event?.pod?.labels['app'], 'stinger-it-workload');
      assert.equal(event?.pod?.labels['tier'], 'real-node-test');
      assert.equal(event?.pod?.workload, 'stinger-it-workload');
      assert.equal(event?.pod?.workload_kind, 'Deployment');
      assert.equal(event?.pod?.container?.name, 'workload');
      assert.equal(event?.pod?.container?.image, WORKLOAD_IMAGE);
    }
    assert.equal(fileEvent?.process.binary, '/usr/bin/cat');
    assert.equal(connectEvent?.payload.group === 'network' ? connectEvent.payload.daddr : null, NODE_IP);
  });

  test("the deployed console, in Chromium: the pod's /etc/passwd read in the file-access view, its connection in the egress view, under the pod and its Deployment", async () => {
    assert.ok(workloadPod !== '', 'needs the workload pod of the test above');
    const began = Date.now();
    // The overlay's console, at its pod's address on the node's pod network (a user would port-forward).
    const pods = await kubectl(['get', 'pods', '-n', STINGER_NAMESPACE, '-l', 'app.kubernetes.io/name=stinger-console', '-o', 'json']);
    assert.equal(pods.code, 0, pods.stderr);
    const consoleIp = (JSON.parse(pods.stdout) as PodList).items[0]?.status.podIP;
    assert.ok(consoleIp, `the console pod has an address: ${pods.stdout}`);
    const consoleUrl = `http://${consoleIp}:7070`;
    browser = await openBrowser();
    const title = new RegExp(`${WORKLOAD_NAMESPACE}/${workloadPod}[\\s\\S]*stinger-it-workload`);

    const files = await browser.newPage();
    try {
      // The page takes the token from the address once and keeps it for the tab.
      await files.goto(`${consoleUrl}/?view=files&token=${CONSOLE_TOKEN}`);
      assert.equal(await files.locator('input[name="path"]').inputValue(), '/etc/passwd', 'the view asks about /etc/passwd by default');
      const group = files.locator(`.group[data-namespace="${WORKLOAD_NAMESPACE}"][data-pod="${workloadPod}"]`);
      const row = group.locator('tr[data-binary="/usr/bin/cat"]');
      await row.first().waitFor({ timeout: CONSOLE_SHOWS_WITHIN_MS });
      const cells = await row.first().locator('td').allInnerTexts();
      assert.equal(cells[0], '/usr/bin/cat', 'binary');
      assert.match(cells[1] ?? '', /^bash\b/, 'the workload shell first in the ancestry');
      assert.equal(cells[4], 'read');
      assert.match(await group.locator('.group-title').innerText(), title, 'the pod and its Deployment head the group');
    } finally {
      await screenshot(files, 'real-node-console-file-access');
    }

    const egress = await browser.newPage();
    try {
      await egress.goto(`${consoleUrl}/?view=egress&token=${CONSOLE_TOKEN}`);
      const group = egress.locator(`.group[data-namespace="${WORKLOAD_NAMESPACE}"][data-pod="${workloadPod}"]`);
      // bash's /dev/tcp connect, made by the loop's subshell.
      const row = group.locator('tr', { hasText: `${NODE_IP}:${listenerPort}` });
      await row.first().waitFor({ timeout: CONSOLE_SHOWS_WITHIN_MS });
      const cells = await row.first().locator('td').allInnerTexts();
      assert.equal(cells[0], `${NODE_IP}:${listenerPort}`, 'destination and port');
      assert.match(cells[2] ?? '', /\/bash$/, 'binary');
      assert.ok(Number(cells[5]) >= 1, 'connections');
      assert.match(await group.locator('.group-title').innerText(), title, 'the pod and its Deployment head the group');
    } finally {
      await screenshot(egress, 'real-node-console-egress');
    }
    timings['console shows file access and egress'] = Date.now() - began;
  });

  test('a kill policy: the enforcer\'s signed command on the control topic kills a process inside the pod', async () => {
    assert.ok(workloadPod !== '', 'needs the workload pod of the test above');
    await applyPolicy('real-node-kill', [
      'apiVersion: stinger.io/v1alpha1',
      'kind: TracingPolicy',
      'metadata: { name: real-node-kill }',
      'spec:',
      `  selector: { namespaces: [${WORKLOAD_NAMESPACE}] }`,
      '  rules:',
      '    - name: no-tail',
      '      event: exec',
      '      match: { binary: { equal: ["/usr/bin/tail"] } }',
      '      action: kill',
      '',
    ].join('\n'));
    const began = Date.now();
    // tail -f runs until killed: exit 137 (SIGKILL) is the kill, a timeout its absence.
    const exec = await kubectl(['exec', '-n', WORKLOAD_NAMESPACE, workloadPod, '--', '/usr/bin/tail', '-f', '/etc/passwd'], { timeoutMs: 30_000 });
    assert.equal(exec.code, 137, `tail -f in the pod was SIGKILLed:\n${exec.stderr}`);
    timings['kill policy: exec to SIGKILL'] = Date.now() - began;
    const ack = await until('a killed ack from the node', { timeoutMs: 10_000 }, async () =>
      (acks?.records ?? []).map((record) => decodeControlAck(record.value ?? Buffer.alloc(0))).find((a) => a.node === NODE_NAME && a.status === 'killed') ?? null,
    );
    assert.equal(ack.status, 'killed');
  });

  test('a kill-in-kernel policy scoped by pod label kills in the kernel: the labelled pod\'s cat dies at its open, another pod\'s reads', async () => {
    assert.ok(workloadPod !== '', 'needs the workload pod of the test above');
    // A second pod on the node, without the label.
    const bystander = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'stinger-it-bystander', namespace: WORKLOAD_NAMESPACE, labels: { app: 'stinger-it-bystander' } },
      spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'bystander', image: WORKLOAD_IMAGE, imagePullPolicy: 'Never', args: ['-c', '/usr/bin/sleep 3600'] }] },
    };
    const created = await kubectl(['apply', '-f', '-'], { input: JSON.stringify(bystander) });
    assert.equal(created.code, 0, created.stderr);
    await until('the bystander pod Ready', { timeoutMs: 60_000 }, () => podsReady(WORKLOAD_NAMESPACE, 2));
    const status = await applyPolicy('real-node-kill-labelled', [
      'apiVersion: stinger.io/v1alpha1',
      'kind: TracingPolicy',
      'metadata: { name: real-node-kill-labelled }',
      'spec:',
      '  selector: { podSelector: { matchLabels: { tier: real-node-test } } }',
      '  rules:',
      '    - name: no-follow-read',
      '      event: file',
      `      match: { path: { equal: ["${FOLLOW}"] }, op: [open] }`,
      '      action: kill-in-kernel',
      '',
    ].join('\n'));
    assert.equal(status.kernel_rules, 1, status.messages.join('; '));
    assert.match(status.messages.join('\n'), /no-follow-read: enforced in the kernel for this node's pods its selector names \(pod scope\)/);
    const began = Date.now();
    // cat opens the file and exits at once: only a kill at its open, in the kernel, catches it.
    const killed = await kubectl(['exec', '-n', WORKLOAD_NAMESPACE, workloadPod, '--', '/usr/bin/cat', FOLLOW], { timeoutMs: 30_000 });
    assert.equal(killed.code, 137, `cat in the labelled pod was SIGKILLed at its open:\n${killed.stderr}`);
    timings['label-scoped kill-in-kernel: exec to SIGKILL'] = Date.now() - began;
    const spared = await kubectl(['exec', '-n', WORKLOAD_NAMESPACE, 'stinger-it-bystander', '--', '/usr/bin/cat', FOLLOW], { timeoutMs: 30_000 });
    assert.equal(spared.code, 0, `cat in the pod without the label read the file:\n${spared.stderr}`);
    const event = await until('the event of the kernel\'s sigkill of the labelled pod\'s cat', {
      timeoutMs: 20_000,
      explain: () => explainEvents((events?.records ?? []).map((record) => decodeEvent(record.value ?? Buffer.alloc(0))), workloadPod),
    }, async () =>
      (events?.records ?? [])
        .map((record) => decodeEvent(record.value ?? Buffer.alloc(0)))
        .find((e) => e.kind === 'file' && e.action?.kind === 'sigkill' && e.action.policy === 'real-node-kill-labelled' && e.process.binary === '/usr/bin/cat') ?? null,
    );
    assert.equal(event.pod?.name, workloadPod, 'killed in the labelled pod');
    assert.equal(event.action?.rule, 'no-follow-read');
  });

  test('a kill-in-kernel policy for pods (selector host: false) kills the exec in the kernel', async () => {
    assert.ok(workloadPod !== '', 'needs the workload pod of the test above');
    const status = await applyPolicy('real-node-kill-in-kernel', [
      'apiVersion: stinger.io/v1alpha1',
      'kind: TracingPolicy',
      'metadata: { name: real-node-kill-in-kernel }',
      'spec:',
      '  selector: { host: false }',
      '  rules:',
      '    - name: no-head',
      '      event: exec',
      '      match: { binary: { equal: ["/usr/bin/head"] } }',
      '      action: kill-in-kernel',
      '',
    ].join('\n'));
    assert.equal(status.kernel_rules, 1, status.messages.join('; '));
    // head -c 1 exits at once: only a kill at its exec, not one from the pipeline, catches it.
    const exec = await kubectl(['exec', '-n', WORKLOAD_NAMESPACE, workloadPod, '--', '/usr/bin/head', '-c', '1', '/etc/passwd'], { timeoutMs: 30_000 });
    assert.equal(exec.code, 137, `head in the pod was SIGKILLed at its exec:\n${exec.stdout}${exec.stderr}`);
    // Two kinds of kill at the exec, both in the pod: the workload's own loop runs head every second (its shell's
    // fork, killed while still bash), and the kubectl exec above went through runc init, forked on the host and
    // moved into the container's cgroup before its execve (killed while still runc's init).
    const sigkills = (): Event[] =>
      (events?.records ?? [])
        .map((record) => decodeEvent(record.value ?? Buffer.alloc(0)))
        .filter((e) => e.action?.kind === 'sigkill' && e.action.policy === 'real-node-kill-in-kernel');
    const [loop, execd] = await until('the events of the kernel\'s sigkills of the loop\'s head and of kubectl exec\'s', {
      timeoutMs: 20_000,
      explain: () => {
        const all = (events?.records ?? []).map((record) => decodeEvent(record.value ?? Buffer.alloc(0)));
        const head = all.filter((e) => e.action !== null || e.process.binary === '/usr/bin/head' || (e.payload.group === 'exec' && JSON.stringify(e.payload).includes('head')));
        return `events with an action or of head: ${JSON.stringify(head.slice(-6).map((e) => ({ kind: e.kind, binary: e.process.binary, args: e.process.args, action: e.action, cgroup: e.process.cgroup_path, pod: e.pod?.name ?? null, enrichment: e.enrichment })))}`;
      },
    }, async () => {
      const killed = sigkills();
      const byLoop = killed.find((e) => e.process.binary === '/usr/bin/bash');
      const byExec = killed.find((e) => e.process.binary !== '/usr/bin/bash');
      return byLoop && byExec ? [byLoop, byExec] : null;
    });
    for (const event of [loop, execd]) {
      assert.equal(event.kind, 'exec');
      assert.equal(event.payload.group === 'exec' ? event.payload.filename : null, '/usr/bin/head');
      assert.equal(event.pod?.name, workloadPod, `${event.process.binary} ${event.process.args.join(' ')} in ${event.process.cgroup_path ?? '?'}: named the pod`);
      assert.equal(event.pod?.workload, 'stinger-it-workload');
      assert.equal(event.pod?.container?.name, 'workload');
    }
  });
});
