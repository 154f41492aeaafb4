/**
 * The enricher service in a cluster: KUBECONFIG names a real kube-apiserver (one dev cluster for this file), topics
 * on the shared broker under a prefix of their own. RawEvents of a process in a pod's container (the cgroup v2 path
 * kubelet's systemd driver and containerd make, created here under the real cgroup2 mount) must come out on
 * stinger.events enriched with the pod, namespace, labels, workload, container name and image. A pod that the API
 * server shows only ~1 s after its first event is still enriched (the batch waits up to 2 s for late metadata), and a
 * pod deleted just before its last events still resolves (the index's tombstones).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processEnvironment } from '@stinger/config';
import { decodeEvent, encodeRawEvent, type Event, type RawEvent } from '@stinger/events';
import { bootstrapTopics, createProducer, topicName, type KafkaClient } from '@stinger/kafka';
import { sampleRawEvent } from '@stinger/testing';
import { podObject, randomContainerId, runningStatus, startTestCluster, type TestCluster } from '../helpers/dev-cluster.ts';
import { buildBpf, startAgent } from '../helpers/agent.ts';
import { runChild } from '../helpers/agent-events.ts';
import { collectTopic, testBrokers, testClient, uniqueName, type Collector } from '../helpers/kafka.ts';
import { startService, type StartedService } from '../helpers/service.ts';
import { podCgroups } from '../helpers/pod-cgroup.ts';

const NODE = 'worker-1';
const NS = 'shop';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function startEnricher(env: NodeJS.ProcessEnv): StartedService {
  return startService({ service: 'enricher', env, readyMessage: 'enricher running' });
}

describe('the enricher service against a real API server', { timeout: 240_000 }, () => {
  let kube: TestCluster;
  let client: KafkaClient;
  let prefix: string;
  let events: Collector;
  let enricher: ReturnType<typeof startEnricher> | undefined;
  const cgroups = podCgroups();
  let nextSeq = 0;

  before(async () => {
    kube = await startTestCluster();
    await kube.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    prefix = `${uniqueName('enricher-k8s-test')}.`;
    client = testClient('enricher-k8s-test');
    await bootstrapTopics({ client, prefix, topics: ['eventsRaw', 'events', 'dlq'] });
    const env: Record<string, string | undefined> = {
      ...processEnvironment(),
      KAFKA_BROKERS: testBrokers(),
      STINGER_TOPIC_PREFIX: prefix,
      STINGER_ENRICHER_METRICS_ADDRESS: '127.0.0.1:0',
      STINGER_NODE_NAME: 'enricher-k8s-test',
      STINGER_LOG_LEVEL: 'info',
      KUBECONFIG: kube.kubeconfigPath,
    };
    delete env['KUBERNETES_SERVICE_HOST'];
    enricher = startEnricher(env);
    events = await collectTopic(client, topicName('events', prefix));
    await enricher.running;
  });

  after(async () => {
    await events?.stop();
    if (enricher && enricher.child.exitCode === null) {
      const exited = new Promise<number | null>((resolve) => enricher?.child.once('exit', resolve));
      enricher.child.kill('SIGTERM');
      const code = await exited;
      assert.equal(code, 0, `clean shutdown:\n${enricher.log.slice(-5).join('\n')}`);
    }
    cgroups.remove();
    await kube?.stop();
  });

  /** Produces one RawEvent per cgroup path (node NODE, fresh seqs); returns the seqs. */
  async function produce(paths: ReadonlyArray<{ cgroupPath: string; containerId: string }>): Promise<bigint[]> {
    const raws: RawEvent[] = paths.map(({ cgroupPath, containerId }) => {
      const raw = sampleRawEvent({ node: NODE, seq: BigInt(nextSeq++), binary: '/usr/sbin/nginx' });
      return { ...raw, process: { ...raw.process, cgroup_path: cgroupPath, container_id: containerId } };
    });
    const producer = createProducer({ client });
    await producer.connect();
    try {
      await producer.send(topicName('eventsRaw', prefix), raws.map((raw) => ({ key: NODE, value: encodeRawEvent(raw) })));
    } finally {
      await producer.disconnect();
    }
    return raws.map((raw) => raw.seq);
  }

  async function enrichedEvents(seqs: readonly bigint[], timeoutMs = 30_000): Promise<Event[]> {
    const wanted = new Set(seqs);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = events.records.map((r) => decodeEvent(r.value ?? Buffer.alloc(0))).filter((e) => e.node === NODE && wanted.has(e.seq));
      if (found.length >= wanted.size) return found.sort((a, b) => Number(a.seq - b.seq));
      if (Date.now() > deadline) throw new Error(`only ${found.length} of ${wanted.size} events after ${timeoutMs} ms`);
      await sleep(100);
    }
  }

  /** A Deployment's pod (Deployment → ReplicaSet → Pod), running with one containerd container `containerId`. */
  async function deploymentPod(name: string, containerId: string): Promise<{ uid: string }> {
    const labels = { app: name, 'pod-template-hash': '5f6d7c8b9a' };
    const template = { metadata: { labels }, spec: { containers: [{ name: 'web', image: `registry.local/${name}:1.0` }] } };
    const deployment = await kube.create(`/apis/apps/v1/namespaces/${NS}/deployments`, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name },
      spec: { replicas: 1, selector: { matchLabels: { app: name } }, template: { ...template, metadata: { labels: { app: name } } } },
    });
    const replicaSet = await kube.create(`/apis/apps/v1/namespaces/${NS}/replicasets`, {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: `${name}-5f6d7c8b9a`,
        labels,
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name, uid: deployment.metadata.uid, controller: true, blockOwnerDeletion: true }],
      },
      spec: { replicas: 1, selector: { matchLabels: labels }, template },
    });
    const podName = `${name}-5f6d7c8b9a-q2w3e`;
    const pod = await kube.create(
      `/api/v1/namespaces/${NS}/pods`,
      podObject({
        namespace: NS,
        name: podName,
        nodeName: NODE,
        labels,
        annotations: { 'example.com/owner': 'team-shop' },
        owner: { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: replicaSet.metadata.name, uid: replicaSet.metadata.uid },
        containers: [{ name: 'web', image: `registry.local/${name}:1.0` }],
      }),
    );
    await kube.mergePatch(`/api/v1/namespaces/${NS}/pods/${podName}/status`, runningStatus([{ name: 'web', image: `registry.local/${name}:1.0`, id: containerId }]));
    return { uid: pod.metadata.uid };
  }

  function assertEnriched(event: Event, expected: { name: string; uid: string; containerId: string }): void {
    assert.deepEqual({ ...event.enrichment }, { status: 'enriched', reason: null }, `seq ${event.seq}`);
    assert.equal(event.process.container_id, expected.containerId);
    const pod = event.pod;
    assert.ok(pod, `seq ${event.seq} has a pod`);
    assert.deepEqual(
      { namespace: pod.namespace, name: pod.name, uid: pod.uid, workload: pod.workload, workload_kind: pod.workload_kind },
      { namespace: NS, name: `${expected.name}-5f6d7c8b9a-q2w3e`, uid: expected.uid, workload: expected.name, workload_kind: 'Deployment' },
    );
    assert.deepEqual({ ...pod.labels }, { app: expected.name, 'pod-template-hash': '5f6d7c8b9a' });
    assert.deepEqual({ ...pod.annotations }, { 'example.com/owner': 'team-shop' });
    assert.deepEqual(pod.container ? { ...pod.container } : null, { id: expected.containerId, name: 'web', image: `registry.local/${expected.name}:1.0` });
  }

  test('events of a running pod carry its pod, namespace, labels, workload, container name and image', async () => {
    const containerId = randomContainerId();
    const { uid } = await deploymentPod('checkout', containerId);
    const cgroupPath = cgroups.container(uid, containerId);
    assert.ok(existsSync(cgroups.procsOf(cgroupPath)));
    // The informer has the pod within milliseconds; a first batch that beats it is held (late metadata) anyway.
    await sleep(500);
    const seqs = await produce(Array.from({ length: 5 }, () => ({ cgroupPath, containerId })));
    const out = await enrichedEvents(seqs);
    assert.deepEqual(out.map((e) => e.seq), seqs, 'each seq once');
    for (const event of out) assertEnriched(event, { name: 'checkout', uid, containerId});
  });

  test('a pod the API server shows ~1 s after its first event is still enriched', async () => {
    const containerId = randomContainerId();
    // The API server assigns the pod uid on create, so events produced before the pod exists cannot name it: their
    // cgroup path is kubelet's (kubepods.slice, so the enricher knows to wait) with the container id but no pod uid,
    // and only the container id resolves them — once the pod's status carries it.
    const seqs = await produce(Array.from({ length: 3 }, () => ({ cgroupPath: `/kubepods.slice/kubepods-besteffort.slice/cri-containerd-${containerId}.scope`, containerId })));
    await sleep(1000);
    const { uid } = await deploymentPod('payments', containerId);
    const out = await enrichedEvents(seqs);
    for (const event of out) assertEnriched(event, { name: 'payments', uid, containerId});
  });

  test('events that arrive just after their pod was deleted still resolve (tombstone)', async () => {
    const containerId = randomContainerId();
    const { uid } = await deploymentPod('cart', containerId);
    const cgroupPath = cgroups.container(uid, containerId);
    const first = await produce([{ cgroupPath, containerId }]);
    const [alive] = await enrichedEvents(first);
    assert.ok(alive);
    assertEnriched(alive, { name: 'cart', uid, containerId});

    await kube.remove(`/api/v1/namespaces/${NS}/pods/cart-5f6d7c8b9a-q2w3e`);
    // The watch delivers the deletion within milliseconds; give it ample time, so the last events are looked up
    // only after the live entry is gone.
    await sleep(1500);
    const last = await produce(Array.from({ length: 3 }, () => ({ cgroupPath, containerId })));
    for (const event of await enrichedEvents(last)) assertEnriched(event, { name: 'cart', uid, containerId});
  });

  test('the real agent: a process moved into the pod container\'s cgroup is published enriched', { timeout: 120_000 }, async () => {
    buildBpf();
    const containerId = randomContainerId();
    const { uid } = await deploymentPod('search', containerId);
    const cgroupPath = cgroups.container(uid, containerId);
    const agent = await startAgent({ brokers: testBrokers(), topicPrefix: prefix, nodeName: 'agent-node' });
    try {
      const marker = `in-pod-${randomBytes(4).toString('hex')}`;
      // The shell joins the container's cgroup, then becomes the process under test: its exec is the pod's.
      const procs = cgroups.procsOf(cgroupPath);
      const result = await runChild('/bin/sh', ['-c', `echo $$ > ${procs} && exec /bin/true ${marker}`]);
      assert.equal(result.code, 0, result.stderr);
      const deadline = Date.now() + 30_000;
      let found: Event | undefined;
      while (!found) {
        found = events.records
          .map((r) => decodeEvent(r.value ?? Buffer.alloc(0)))
          .find((e) => e.node === 'agent-node' && e.kind === 'exec' && e.process.args.includes(marker));
        if (!found && Date.now() > deadline) throw new Error(`no enriched exec of ${marker} after 30 s`);
        if (!found) await sleep(100);
      }
      assert.equal(found.process.cgroup_path, cgroupPath, 'the agent reported the pod container\'s cgroup');
      assertEnriched(found, { name: 'search', uid, containerId });
    } finally {
      const code = await agent.stop();
      assert.equal(code, 0, 'the agent shuts down cleanly');
    }
  });

  test('the real agent: what a pod resolved and contacted (DNS, TLS server name, HTTP request) is published enriched, by binary', { timeout: 120_000 }, async () => {
    buildBpf();
    const containerId = randomContainerId();
    const { uid } = await deploymentPod('egress', containerId);
    const cgroupPath = cgroups.container(uid, containerId);
    // The pod's resolver: a loopback address nobody answers (the query is read as it leaves). TLS and HTTP go to a
    // local sink that accepts and stays silent.
    const dir = mkdtempSync(join(tmpdir(), 'stinger-egress-pod-'));
    writeFileSync(join(dir, 'resolv.conf'), `nameserver 127.53.${1 + Math.floor(Math.random() * 250)}.1\noptions attempts:1 timeout:1\n`);
    const sink = createServer((socket) => socket.resume().on('error', () => undefined)).listen(0, '127.0.0.1');
    await once(sink, 'listening');
    const port = (sink.address() as AddressInfo).port;
    const agent = await startAgent({ brokers: testBrokers(), topicPrefix: prefix, nodeName: 'agent-node' });
    try {
      const tag = randomBytes(4).toString('hex');
      const procs = cgroups.procsOf(cgroupPath);
      // Joins the container's cgroup first: every program below runs in the pod. Its own mount namespace for resolv.conf.
      const script = [
        `echo $$ > ${procs}`,
        `unshare -m sh -c 'mount --bind ${join(dir, 'resolv.conf')} /etc/resolv.conf && getent ahostsv4 lookup-${tag}.egress.test' || true`,
        `timeout 2 openssl s_client -connect 127.0.0.1:${port} -servername tls-${tag}.egress.test </dev/null >/dev/null 2>&1 || true`,
        `curl -s -m 1 -H 'Host: web-${tag}.egress.test' http://127.0.0.1:${port}/page-${tag} || true`,
      ].join('; ');
      const result = await runChild('/bin/sh', ['-c', script]);
      assert.equal(result.code, 0, result.stderr);
      const nameOf = (e: Event): string | null => (e.payload.group === 'egress' ? (e.payload.dns_name ?? e.payload.server_name ?? e.payload.http_host) : null);
      const deadline = Date.now() + 30_000;
      let found: Event[] = [];
      while (found.length < 3) {
        found = events.records
          .map((r) => decodeEvent(r.value ?? Buffer.alloc(0)))
          .filter((e) => e.node === 'agent-node' && e.kind === 'egress' && (nameOf(e) ?? '').includes(tag));
        if (found.length < 3 && Date.now() > deadline) throw new Error(`${found.length} of 3 enriched egress events after 30 s`);
        if (found.length < 3) await sleep(100);
      }
      const byApplication = new Map(found.map((e) => [e.payload.group === 'egress' ? e.payload.application : '', e]));
      const expected = [
        ['dns', `lookup-${tag}.egress.test`, 'getent'],
        ['tls', `tls-${tag}.egress.test`, 'openssl'],
        ['http', `web-${tag}.egress.test`, 'curl'],
      ] as const;
      for (const [application, name, binary] of expected) {
        const event = byApplication.get(application);
        assert.ok(event, `an ${application} event`);
        assert.equal(nameOf(event), name);
        assert.match(event.process.binary, new RegExp(`/${binary}$`), `${application}: the binary that made it`);
        assert.equal(event.process.cgroup_path, cgroupPath);
        assertEnriched(event, { name: 'egress', uid, containerId });
      }
      const http = byApplication.get('http');
      assert.equal(http?.payload.group === 'egress' ? http.payload.http_request : null, `GET /page-${tag} HTTP/1.1`);
    } finally {
      const code = await agent.stop();
      sink.close();
      rmSync(dir, { recursive: true, force: true });
      assert.equal(code, 0, 'the agent shuts down cleanly');
    }
  });
});
