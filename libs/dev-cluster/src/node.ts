/**
 * A real node for the dev cluster: kube-controller-manager, kube-scheduler, Debian's containerd (runc, the bridge
 * CNI plugin) and a kubelet (built from the same pinned k8s.io/kubernetes as the API server), so Deployments and
 * DaemonSets run real pods on this machine. node-config.ts says how each is configured and why.
 *
 * Contract:
 * - `startNode({ cluster, nodeName, ... })` records the host's state (host-state.ts) in `<stateDir>/node/node.json`
 *   before it changes anything, then starts, in order, reporting each step and its duration through `onStep`: the
 *   bridge and the `kubernetes` Service DNAT, containerd, the pause image, kube-controller-manager,
 *   kube-scheduler, the kubelet; it resolves once the node is Ready. A failed start undoes what it did.
 * - `stopNode(stateDir)` (any process: pids come from node.json and are trusted only while their command line names
 *   this state dir) stops the scheduler, the controller-manager and the kubelet, ends the pods' processes (SIGTERM,
 *   SIGKILL after 20 s), stops containerd and its shims, and restores the host: sysctls, iptables chains, mounts,
 *   network namespaces, the bridge, the pods' cgroups, the kubelet's folders. Returns the problems it met (empty:
 *   all restored). containerd's image store survives (`<stateDir>/node/containerd/root`), so imported images are
 *   there at the next start.
 * - The node's name must be one no other pod object names: the kubelet adopts every pod bound to it.
 */
import { readFileSync } from 'node:fs';
import { access, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { namespaced, type Logger } from '@stinger/log';
import { freePorts, isAlive, pollUntilGone, readFileTail, signalProcess } from '@stinger/processes';
import { ensureClientCertificate, type ClusterCertificates } from './certificates.ts';
import { DevClusterError, DevClusterStartError, type DevClusterComponent } from './errors.ts';
import { SERVICE_CLUSTER_IP_RANGE } from './flags.ts';
import { buildKubeControllerManager, buildKubelet, buildKubeScheduler, type BuildOptions } from './go-build.ts';
import { restoreHost, run, shareMounts, snapshotHost, type HostSnapshot } from './host-state.ts';
import { kubeApiRequest } from './kube-api-request.ts';
import { renderKubeconfig } from './kubeconfig.ts';
import { launch, waitUntil, type Launched } from './launched-process.ts';
import { buildHostBinariesImage, importIntoNode } from './local-images.ts';
import {
  NODE_BRIDGE,
  NODE_IP,
  PAUSE_IMAGE,
  POD_SUBNET,
  renderCniConfig,
  renderContainerdConfig,
  renderKubeControllerManagerFlags,
  renderKubeletConfig,
  renderKubeletFlags,
  renderKubeSchedulerFlags,
} from './node-config.ts';

export const NODE_DIR_NAME = 'node';
/** The node's own nat chain: the `kubernetes` Service address → the API server on loopback. */
export const SERVICE_DNAT_CHAIN = 'STINGER-DEV-SERVICES';

/** The API server the node joins (a `DevCluster` or what `readRunningDevCluster` found). */
export interface NodeCluster {
  readonly server: string;
  readonly securePort: number;
  readonly kubeconfigPath: string;
  readonly stateDir: string;
  readonly certificates: ClusterCertificates;
}

export interface StartNodeOptions {
  readonly cluster: NodeCluster;
  readonly cacheDir: string;
  readonly nodeName: string;
  readonly logger: Logger;
  /** Called after each step with what it did and its duration. */
  readonly onStep?: (step: string, ms: number) => void;
  readonly detached?: boolean;
  readonly startTimeoutMs?: number;
  readonly goCommand?: string;
}

export interface DevClusterNode {
  readonly nodeName: string;
  readonly nodeIp: string;
  readonly containerdSocket: string;
  readonly kubernetesVersion: string;
  /** Milliseconds from launching containerd to the node's Ready condition (builds excluded). */
  readonly startupMs: number;
  /** `stopNode(cluster.stateDir)`; rejects listing what it could not restore. Idempotent. */
  stop(): Promise<void>;
}

interface NodeRecord {
  readonly nodeName: string;
  readonly snapshot: HostSnapshot;
  /** Component → pid, added as each starts. */
  readonly pids: Partial<Record<DevClusterComponent, number>>;
  /** Folders of the host's that did not exist before and that the kubelet may make anyway. */
  readonly createdDirs: readonly string[];
}

const NODE_RECORD = 'node.json';
/** Made by kubelets whatever their --root-dir says (device plugins, checkpoints) in some releases. */
const KUBELET_DEFAULT_DIRS = ['/var/lib/kubelet', '/var/log/pods', '/var/log/containers'];
const CGROUP_FS = '/sys/fs/cgroup';

export function nodeDir(stateDir: string): string {
  return join(stateDir, NODE_DIR_NAME);
}

/** The node's containerd socket under the cluster's state dir (for `ctr`, image imports). */
export function nodeContainerdSocket(stateDir: string): string {
  return join(nodeDir(stateDir), 'containerd', 'containerd.sock');
}

export async function startNode(options: StartNodeOptions): Promise<DevClusterNode> {
  const logger = namespaced(options.logger, 'DevClusterNode');
  const { cluster, nodeName } = options;
  const detached = options.detached ?? false;
  const startTimeoutMs = options.startTimeoutMs ?? 120_000;
  const onStep = options.onStep ?? (() => undefined);
  const dir = nodeDir(cluster.stateDir);
  const timed = async <T>(step: string, work: () => Promise<T>): Promise<T> => {
    const began = Date.now();
    const result = await work();
    onStep(step, Date.now() - began);
    return result;
  };

  if (await readNodeRecord(cluster.stateDir)) {
    throw new DevClusterStartError(`a node already runs from ${dir} (stop it first: stinger dev-cluster down)`);
  }
  const buildOptions: BuildOptions = { cacheDir: options.cacheDir, logger, ...(options.goCommand === undefined ? {} : { goCommand: options.goCommand }) };
  const kubelet = await timed('kubelet built (cached after the first time)', () => buildKubelet(buildOptions));
  const controllerManager = await timed('kube-controller-manager built', () => buildKubeControllerManager(buildOptions));
  const scheduler = await timed('kube-scheduler built', () => buildKubeScheduler(buildOptions));

  const paths = {
    logs: join(dir, 'logs'),
    containerdRoot: join(dir, 'containerd', 'root'),
    containerdState: join(dir, 'containerd', 'state'),
    containerdSocket: nodeContainerdSocket(cluster.stateDir),
    cniConf: join(dir, 'cni', 'net.d'),
    ipam: join(dir, 'cni', 'ipam'),
    kubeletRoot: join(dir, 'kubelet'),
    podLogs: join(dir, 'pod-logs'),
    images: join(dir, 'images'),
  };
  for (const folder of [paths.logs, paths.containerdRoot, paths.containerdState, paths.cniConf, paths.ipam, paths.kubeletRoot, paths.podLogs, paths.images]) {
    await mkdir(folder, { recursive: true });
  }
  const createdDirs: string[] = [];
  for (const folder of KUBELET_DEFAULT_DIRS) if (!(await exists(folder))) createdDirs.push(folder);
  const record: { nodeName: string; snapshot: HostSnapshot; pids: Partial<Record<DevClusterComponent, number>>; createdDirs: string[] } = {
    nodeName,
    snapshot: await snapshotHost(),
    pids: {},
    createdDirs,
  };
  const saveRecord = (): Promise<void> => writeFile(join(dir, NODE_RECORD), `${JSON.stringify(record, null, 2)}\n`);
  await saveRecord();

  const launched: Launched[] = [];
  const start = (component: DevClusterComponent, binary: string, args: readonly string[]): Launched => {
    const process = launch({ component, binary, args, logFile: join(paths.logs, `${component}.log`), cwd: dir, detached, stopTimeoutMs: 20_000, logger });
    launched.push(process);
    record.pids[component] = process.pid;
    return process;
  };
  const launchedAt = Date.now();
  let current: DevClusterComponent = 'containerd';
  try {
    await timed(`bridge ${NODE_BRIDGE} ${NODE_IP} for pods in ${POD_SUBNET}, the kubernetes Service forwarded to the API server`, async () => {
      await setUpNetwork(cluster.securePort);
      await shareMounts(record.snapshot);
      await writeFile(join(paths.cniConf, '10-stinger-dev.conflist'), renderCniConfig({ ipamDataDir: paths.ipam }));
    });

    await timed('containerd started', async () => {
      const config = join(dir, 'containerd', 'config.toml');
      await writeFile(config, renderContainerdConfig({ rootDir: paths.containerdRoot, stateDir: paths.containerdState, socket: paths.containerdSocket, cniConfDir: paths.cniConf }));
      const containerd = start('containerd', 'containerd', ['--config', config]);
      await saveRecord();
      await waitUntil({
        component: 'containerd',
        hasExited: containerd.hasExited,
        timeoutMs: startTimeoutMs,
        probe: () => run('ctr', ['--address', paths.containerdSocket, 'version']).then(() => null),
      });
    });

    await timed(`pause image ${PAUSE_IMAGE} built and imported`, async () => {
      const layout = join(paths.images, 'pause');
      await buildHostBinariesImage({ layout, tag: 'pause', binaries: ['/usr/bin/sleep'], entrypoint: ['/usr/bin/sleep', 'infinity'] });
      await importIntoNode({ containerdSocket: paths.containerdSocket, layout, tag: 'pause', name: PAUSE_IMAGE });
    });

    const admin = await adminPems(cluster.certificates);
    await timed(`node ${nodeName} may act as a node (ClusterRoleBinding system:node → group system:nodes)`, () => bindNodeRole(cluster.server, admin));
    const [controllerManagerPort = 0, schedulerPort = 0, kubeletPort = 0, kubeletHealthzPort = 0] = await freePorts('127.0.0.1', 4);

    current = 'kube-controller-manager';
    await timed('kube-controller-manager started', async () => {
      const process = start('kube-controller-manager', controllerManager.path, renderKubeControllerManagerFlags({
        kubeconfig: cluster.kubeconfigPath,
        securePort: controllerManagerPort,
        caCert: cluster.certificates.caCert,
        caKey: cluster.certificates.caKey,
        serviceAccountKey: cluster.certificates.serviceAccountKey,
      }));
      await saveRecord();
      await waitUntil({ component: current, hasExited: process.hasExited, timeoutMs: startTimeoutMs, probe: () => probeHealthz(controllerManagerPort) });
    });

    current = 'kube-scheduler';
    await timed('kube-scheduler started', async () => {
      const process = start('kube-scheduler', scheduler.path, renderKubeSchedulerFlags({ kubeconfig: cluster.kubeconfigPath, securePort: schedulerPort }));
      await saveRecord();
      await waitUntil({ component: current, hasExited: process.hasExited, timeoutMs: startTimeoutMs, probe: () => probeHealthz(schedulerPort) });
    });

    current = 'kubelet';
    await timed(`kubelet started, node ${nodeName} Ready`, async () => {
      const pki = join(cluster.stateDir, 'pki');
      const nodeCert = await ensureClientCertificate({ pkiDir: pki, fileStem: `node-${nodeName}`, commonName: `system:node:${nodeName}`, organization: 'system:nodes' });
      const kubeconfig = join(dir, 'kubelet.kubeconfig');
      await writeFile(kubeconfig, renderKubeconfig({
        server: cluster.server,
        caCertPem: admin.caCertPem,
        clientCertPem: await readFile(nodeCert.cert, 'utf8'),
        clientKeyPem: await readFile(nodeCert.key, 'utf8'),
      }), { mode: 0o600 });
      const configFile = join(dir, 'kubelet.json');
      await writeFile(configFile, renderKubeletConfig({
        containerdSocket: paths.containerdSocket,
        clientCaFile: cluster.certificates.caCert,
        port: kubeletPort,
        healthzPort: kubeletHealthzPort,
        podLogsDir: paths.podLogs,
      }));
      const process = start('kubelet', kubelet.path, renderKubeletFlags({ configFile, kubeconfig, rootDir: paths.kubeletRoot, nodeName }));
      await saveRecord();
      await waitUntil({ component: current, hasExited: process.hasExited, timeoutMs: startTimeoutMs, probe: () => probeNodeReady(cluster.server, admin, nodeName) });
    });
  } catch (error) {
    const logTail = await readFileTail(join(paths.logs, `${current}.log`), 16 * 1024);
    for (const process of launched.reverse()) await process.stop().catch(() => undefined);
    await removeNodeState(cluster.stateDir, record).catch(() => undefined);
    if (error instanceof DevClusterError) {
      throw new DevClusterStartError(error.message, { component: current, cause: error, logTail: logTail.trimEnd().split('\n').slice(-40).join('\n') });
    }
    throw error;
  }
  const startupMs = Date.now() - launchedAt;
  logger.info({ nodeName, startupMs, pids: record.pids }, 'node ready');
  let stopping: Promise<void> | null = null;
  return {
    nodeName,
    nodeIp: NODE_IP,
    containerdSocket: paths.containerdSocket,
    kubernetesVersion: kubelet.version,
    startupMs,
    stop: () => {
      stopping ??= (async () => {
        const problems = (await stopNode(cluster.stateDir)) ?? [];
        if (problems.length > 0) throw new DevClusterError(`the node stopped, but the host is not fully restored: ${problems.join('; ')}`);
      })();
      return stopping;
    },
  };
}

/**
 * Stops the node recorded under `stateDir` and restores the host (see the file comment). Resolves with the problems
 * met (empty: everything restored); null when no node was recorded.
 */
export async function stopNode(stateDir: string): Promise<string[] | null> {
  const record = await readNodeRecord(stateDir);
  if (!record) return null;
  const problems: string[] = [];
  for (const component of ['kube-scheduler', 'kube-controller-manager', 'kubelet'] as const) {
    const pid = record.pids[component];
    if (pid !== undefined && isOurProcess(pid, stateDir)) await stopPid(pid, 20_000);
  }
  await stopPods(join(CGROUP_FS, 'unified', 'kubepods'), 20_000);
  const containerd = record.pids.containerd;
  if (containerd !== undefined && isOurProcess(containerd, stateDir)) await stopPid(containerd, 20_000);
  // Shims outlive containerd by design; once their containers are gone they only hold the node's mounts.
  for (const pid of await processesNaming(nodeContainerdSocket(stateDir))) await stopPid(pid, 5_000);
  problems.push(...(await removeNodeState(stateDir, record)));
  return problems;
}

async function removeNodeState(stateDir: string, record: NodeRecord): Promise<string[]> {
  const dir = nodeDir(stateDir);
  const kubepods = (await readdir(CGROUP_FS).catch(() => [])).map((hierarchy) => join(CGROUP_FS, hierarchy, 'kubepods'));
  const problems = await restoreHost({
    snapshot: record.snapshot,
    mountRoots: [dir, ...record.createdDirs],
    cgroupRoots: kubepods,
    bridge: NODE_BRIDGE,
  });
  for (const folder of [...record.createdDirs, join(dir, 'kubelet'), join(dir, 'pod-logs'), join(dir, 'containerd', 'state'), join(dir, 'cni', 'ipam')]) {
    await rm(folder, { recursive: true, force: true }).catch((error: unknown) => problems.push(`${folder}: ${String(error)}`));
  }
  await rm(join(dir, NODE_RECORD), { force: true });
  return problems;
}

async function readNodeRecord(stateDir: string): Promise<NodeRecord | null> {
  const text = await readFile(join(nodeDir(stateDir), NODE_RECORD), 'utf8').catch(() => null);
  if (text === null) return null;
  try {
    return JSON.parse(text) as NodeRecord;
  } catch {
    return null;
  }
}

/** True while `pid` lives and its command line names a file under the cluster's state dir (a recycled pid never does). */
function isOurProcess(pid: number, dir: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir) && isAlive(pid);
  } catch {
    return false;
  }
}

async function stopPid(pid: number, timeoutMs: number): Promise<void> {
  signalProcess(pid, 'SIGTERM');
  if (!(await pollUntilGone(pid, timeoutMs))) {
    signalProcess(pid, 'SIGKILL');
    await pollUntilGone(pid, 10_000);
  }
}

/** SIGTERM to every process of the pods (the agent detaches its programs on it), SIGKILL to what remains after `timeoutMs`. */
async function stopPods(cgroup: string, timeoutMs: number): Promise<void> {
  const pids = await cgroupProcesses(cgroup);
  for (const pid of pids) signalProcess(pid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while ((await cgroupProcesses(cgroup)).length > 0 && Date.now() < deadline) await sleep(200);
  for (const pid of await cgroupProcesses(cgroup)) signalProcess(pid, 'SIGKILL');
  const killDeadline = Date.now() + 10_000;
  while ((await cgroupProcesses(cgroup)).length > 0 && Date.now() < killDeadline) await sleep(100);
}

async function cgroupProcesses(dir: string): Promise<number[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => null);
  if (entries === null) return [];
  const own = (await readFile(join(dir, 'cgroup.procs'), 'utf8').catch(() => ''))
    .split('\n')
    .filter((line) => line !== '')
    .map(Number);
  const children = await Promise.all(entries.filter((entry) => entry.isDirectory()).map((entry) => cgroupProcesses(join(dir, entry.name))));
  return [...own, ...children.flat()];
}

async function processesNaming(text: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc').catch(() => [])) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.split('\0').includes(text)) pids.push(Number(entry));
  }
  return pids;
}

/** The bridge with the node's address, loopback destinations routable from it, and the Service DNAT chain. */
async function setUpNetwork(apiserverPort: number): Promise<void> {
  await run('ip', ['link', 'add', NODE_BRIDGE, 'type', 'bridge']);
  await run('ip', ['addr', 'add', `${NODE_IP}/${POD_SUBNET.split('/')[1] ?? '24'}`, 'dev', NODE_BRIDGE]);
  await run('ip', ['link', 'set', NODE_BRIDGE, 'up']);
  // DNAT to 127.0.0.1 is only routed for packets arriving on an interface that allows it: this bridge alone, and the
  // setting goes with it.
  await writeFile(`/proc/sys/net/ipv4/conf/${NODE_BRIDGE}/route_localnet`, '1\n');
  const serviceIp = kubernetesServiceIp();
  await run('iptables', ['-t', 'nat', '-N', SERVICE_DNAT_CHAIN]);
  await run('iptables', ['-t', 'nat', '-A', SERVICE_DNAT_CHAIN, '-d', `${serviceIp}/32`, '-p', 'tcp', '--dport', '443', '-j', 'DNAT', '--to-destination', `127.0.0.1:${apiserverPort}`]);
  await run('iptables', ['-t', 'nat', '-A', 'PREROUTING', '-i', NODE_BRIDGE, '-j', SERVICE_DNAT_CHAIN]);
}

/** The first address of the service range: the `kubernetes` Service's ClusterIP. */
function kubernetesServiceIp(): string {
  const [network = '10.96.0.0'] = SERVICE_CLUSTER_IP_RANGE.split('/');
  const parts = network.split('.').map(Number);
  parts[3] = (parts[3] ?? 0) + 1;
  return parts.join('.');
}

interface AdminPems {
  readonly caCertPem: string;
  readonly clientCertPem: string;
  readonly clientKeyPem: string;
}

async function adminPems(certificates: ClusterCertificates): Promise<AdminPems> {
  return {
    caCertPem: await readFile(certificates.caCert, 'utf8'),
    clientCertPem: await readFile(certificates.adminCert, 'utf8'),
    clientKeyPem: await readFile(certificates.adminKey, 'utf8'),
  };
}

/** RBAC's built-in `system:node` role for every node certificate (the API server runs RBAC only, no Node authorizer). */
async function bindNodeRole(server: string, pems: AdminPems): Promise<void> {
  const body = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: 'stinger-dev-nodes' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:node' },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:nodes' }],
  };
  const answer = await kubeApiRequest({ server, path: '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', method: 'POST', body, ...pems });
  if (answer.status !== 201 && answer.status !== 409) throw new DevClusterError(`creating the node ClusterRoleBinding answered ${answer.status}: ${answer.body.slice(0, 300)}`);
}

async function probeNodeReady(server: string, pems: AdminPems, nodeName: string): Promise<string | null> {
  const answer = await kubeApiRequest({ server, path: `/api/v1/nodes/${nodeName}`, ...pems, timeoutMs: 5000 });
  if (answer.status !== 200) return `node ${nodeName}: ${answer.status}`;
  const node = JSON.parse(answer.body) as { status?: { conditions?: Array<{ type: string; status: string; message?: string }> } };
  const ready = node.status?.conditions?.find((condition) => condition.type === 'Ready');
  return ready?.status === 'True' ? null : `Ready ${ready?.status ?? 'unknown'}: ${ready?.message ?? ''}`;
}

/** `/healthz` of a control-plane component on 127.0.0.1 (its serving certificate is self-signed: not verified). */
function probeHealthz(port: number): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port, path: '/healthz', rejectUnauthorized: false, timeout: 2000, agent: false }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode === 200 ? null : `/healthz answered ${res.statusCode ?? 0}`));
    });
    req.once('timeout', () => req.destroy(new Error('/healthz timed out')));
    req.once('error', reject);
    req.end();
  });
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(() => true, () => false);
}
