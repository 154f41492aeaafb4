/**
 * Stinger on a real node: the dev cluster with its node (kubelet, containerd, runc, bridge CNI on this machine), the
 * images of `stinger images build` imported into the node's containerd, and `kubectl apply -k` of k8s/overlays/dev,
 * wrapped in a kustomization of this test's own that only sets KAFKA_BROKERS, as a user edits it for their broker.
 *
 * The broker: this test's own local broker with a second listener on the node's bridge address (NODE_IP), the
 * address pods reach and the one advertised to them; the suite's broker listens on 127.0.0.1 only, which inside a pod
 * is the pod's own loopback. The services' pods are on the pod network, not hostNetwork, as in a user's cluster.
 *
 * Then a Deployment of a tiny workload image (bash and coreutils copied from this machine with umoci, since no
 * registry is reachable) reads /etc/passwd and connects to a listener on the node: the events on stinger.events name
 * the real pod, namespace, labels, Deployment and container, as the enricher learnt them from the API server.
 *
 * Everything goes in after(): the node (host restored), the API server, the broker, the scratch folders.
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
import { decodeEvent, type Event } from '@stinger/events';
import { bootstrapTopics, createKafkaClient, type KafkaClient } from '@stinger/kafka';
import { startLocalBroker, type LocalBroker } from '@stinger/local-broker';
import { createLogger } from '@stinger/log';
import { freePort } from '@stinger/processes';
import { runStinger } from '../helpers/cli.ts';
import { collectTopic, type Collector } from '../helpers/kafka.ts';

const REPO_DIR = fileURLToPath(new URL('../../', import.meta.url));
/** No other test binds a pod to this name: a kubelet adopts every pod bound to its node. */
const NODE_NAME = 'stinger-it-real-node';
const STINGER_NAMESPACE = 'stinger-system';
const WORKLOAD_NAMESPACE = 'stinger-it-workloads';
const WORKLOAD_IMAGE = 'localhost/stinger/it-workload:1';
const SERVICES = ['agent', 'enricher', 'detector', 'enforcer', 'policy-controller', 'console'] as const;

interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(command: string, args: readonly string[], input?: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(command, args, { cwd: REPO_DIR, maxBuffer: 64 * 1024 * 1024, timeout: 300_000 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') reject(error);
      else resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | null>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  for (;;) {
    try {
      const value = await probe();
      if (value !== null) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (last: ${String(last)})` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

interface PodList {
  readonly items: ReadonlyArray<{
    readonly metadata: { readonly name: string; readonly labels?: Record<string, string> };
    readonly status: { readonly phase?: string; readonly conditions?: ReadonlyArray<{ readonly type: string; readonly status: string }> };
  }>;
}

describe('Stinger deployed with kustomize on a real node', { timeout: 1_200_000 }, () => {
  const logger = createLogger({ name: 'real-node-test', level: 'warn' });
  const cacheDir = loadConfig().cacheDir;
  let scratch = '';
  let cluster: DevCluster | undefined;
  let node: DevClusterNode | undefined;
  let broker: LocalBroker | undefined;
  let client: KafkaClient | undefined;
  let events: Collector | undefined;
  let listener: Server | undefined;
  let kubectlPath = '';
  const timings: Record<string, number> = {};
  const kubectl = (args: readonly string[], input?: string): Promise<RunResult> => {
    assert.ok(cluster);
    return run(kubectlPath, ['--kubeconfig', cluster.kubeconfigPath, ...args], input);
  };
  const podsReady = async (namespace: string, expected: number): Promise<PodList | null> => {
    const result = await kubectl(['get', 'pods', '-n', namespace, '-o', 'json']);
    if (result.code !== 0) return null;
    const pods = JSON.parse(result.stdout) as PodList;
    const ready = pods.items.filter((pod) => pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    return ready.length >= expected ? pods : null;
  };

  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'stinger-it-real-node-'));
    kubectlPath = (await buildKubectl({ cacheDir, logger })).path;
    let began = Date.now();
    cluster = await startDevCluster({ cacheDir, stateDir: join(scratch, 'cluster'), logger, withNode: true });
    node = await startNode({ cluster, cacheDir, nodeName: NODE_NAME, logger });
    timings['api server + node up'] = Date.now() - began;

    began = Date.now();
    broker = await startLocalBroker({ cacheDir, dataDir: join(scratch, 'broker'), logger, port: await freePort('127.0.0.1'), podListenerHost: NODE_IP });
    client = createKafkaClient({ brokers: [broker.brokers], connection: loadConfig().kafka, role: 'real-node-test', logger });
    await bootstrapTopics({ client });
    events = await collectTopic(client, 'stinger.events');
    timings['broker'] = Date.now() - began;

    began = Date.now();
    const build = runStinger(['images', 'build'], {});
    assert.equal(build.status, 0, `stinger images build:\n${build.stderr}`);
    const layout = /^OCI layout: (\S+)/m.exec(build.stdout)?.[1];
    assert.ok(layout, `the build names its OCI layout:\n${build.stdout}`);
    for (const service of SERVICES) {
      await importIntoNode({ containerdSocket: node.containerdSocket, layout, tag: service, name: normalizedImageName(`stinger/${service}:0.1.0`) });
    }
    const workloadLayout = join(scratch, 'workload-image');
    await buildHostBinariesImage({ layout: workloadLayout, tag: 'workload', binaries: ['/usr/bin/bash', '/usr/bin/cat', '/usr/bin/sleep'], entrypoint: ['/usr/bin/bash'], files: { '/etc/passwd': '/etc/passwd' } });
    await importIntoNode({ containerdSocket: node.containerdSocket, layout: workloadLayout, tag: 'workload', name: WORKLOAD_IMAGE });
    timings['images built and imported'] = Date.now() - began;
  });

  after(async () => {
    listener?.close();
    await events?.stop().catch(() => undefined);
    try {
      await node?.stop();
    } finally {
      await cluster?.stop();
      await broker?.stop();
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
        '',
      ].join('\n'),
    );
    const namespace = await kubectl(['apply', '--server-side', '-f', join(REPO_DIR, 'k8s', 'base', 'namespace.yaml')]);
    assert.equal(namespace.code, 0, namespace.stderr);
    const secrets = runStinger(['keys', 'secrets'], {});
    assert.equal(secrets.status, 0, secrets.stderr);
    assert.equal((await kubectl(['apply', '-f', '-'], secrets.stdout)).code, 0);
    const token = await kubectl(['create', 'secret', 'generic', 'stinger-console-token', '-n', STINGER_NAMESPACE, '--from-literal=token=real-node-test-token']);
    assert.equal(token.code, 0, token.stderr);
    const applied = await kubectl(['apply', '--server-side', '-k', overlay]);
    assert.equal(applied.code, 0, `kubectl apply -k:\n${applied.stderr}`);

    const pods = await until('every Stinger pod Ready', 300_000, () => podsReady(STINGER_NAMESPACE, SERVICES.length)).catch(async (error: unknown) => {
      const described = await kubectl(['get', 'pods', '-n', STINGER_NAMESPACE, '-o', 'wide']);
      throw new Error(`${String(error)}\n${described.stdout}`);
    });
    timings['apply to all Ready'] = Date.now() - began;
    const names = pods.items.map((pod) => pod.metadata.labels?.['app.kubernetes.io/name']).sort();
    assert.deepEqual(names, SERVICES.map((service) => `stinger-${service}`).sort());
    // Ready means /healthz answered: the agent serves it once its sensors are loaded.
    const agentLog = await kubectl(['logs', '-n', STINGER_NAMESPACE, 'daemonset/stinger-agent']);
    assert.equal(agentLog.code, 0, agentLog.stderr);
    assert.match(agentLog.stdout, /sensor/i, 'the agent pod logged loading its sensors');
  });

  test("a Deployment's pod reads /etc/passwd and connects out: the events name its pod, namespace, labels, Deployment and container", async () => {
    assert.ok(events);
    const began = Date.now();
    listener = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => listener?.listen(0, NODE_IP, resolve));
    const port = (listener.address() as { port: number }).port;
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
                args: ['-c', `while true; do /usr/bin/cat /etc/passwd > /dev/null; (exec 3<>/dev/tcp/${NODE_IP}/${port}) 2>/dev/null; /usr/bin/sleep 1; done`],
              },
            ],
          },
        },
      },
    };
    assert.equal((await kubectl(['create', 'namespace', WORKLOAD_NAMESPACE])).code, 0);
    const created = await kubectl(['apply', '-f', '-'], JSON.stringify(deployment));
    assert.equal(created.code, 0, created.stderr);
    const pods = await until('the workload pod Ready', 120_000, () => podsReady(WORKLOAD_NAMESPACE, 1));
    const podName = pods.items[0]?.metadata.name ?? '';
    assert.match(podName, /^stinger-it-workload-/);

    const inPod = (event: Event): boolean => event.pod?.name === podName;
    const decoded = (): Event[] => (events?.records ?? []).map((record) => decodeEvent(record.value ?? Buffer.alloc(0)));
    const [fileEvent, connectEvent] = await until('file and connect events of the pod', 120_000, async () => {
      const all = decoded().filter(inPod);
      const file = all.find((event) => event.kind === 'file' && event.payload.group === 'file' && event.payload.path === '/etc/passwd');
      const connect = all.find((event) => event.kind === 'connect' && event.payload.group === 'network' && event.payload.dport === port);
      return file && connect ? [file, connect] : null;
    });
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
});
