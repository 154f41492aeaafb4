/**
 * A real Kubernetes API server for development and tests: etcd plus kube-apiserver on 127.0.0.1, both built from
 * their pinned Go modules (go-build.ts), with a kubeconfig for an admin user.
 *
 * Contract:
 * - `startDevCluster(options)` builds the binaries when the cache lacks them, makes the PKI once per state dir
 *   (certificates.ts), starts etcd on two free loopback ports and waits for its /health, starts kube-apiserver on a
 *   free secure port and waits until /readyz answers 200 to the admin client certificate, then writes
 *   `<stateDir>/kubeconfig` (mode 0600, certificates embedded). It rejects with a `DevClusterStartError` carrying the
 *   component's log tail when a process exits or is not ready in time; whatever it started is stopped first.
 * - The state dir is reused: etcd's data (`<stateDir>/etcd`) and the PKI survive `stop()`, so objects and the
 *   kubeconfig's credentials persist across down/up; ports are chosen anew on every start (read them from the result
 *   or the kubeconfig, never assume one).
 * - Foreground (default): both processes are this process's children; `stop()` ends them, and if this process exits
 *   first an exit hook SIGKILLs them, so a crashed test run leaves nothing behind.
 * - Detached (`detached: true`): both get their own session and outlive this process; `dev-cluster.json` in the state
 *   dir records pids and ports. `readRunningDevCluster(stateDir)` and `stopRunningDevCluster(stateDir)` find and stop
 *   them from any later process. A pid is only trusted while /proc/<pid>/cmdline still names this state dir, so a
 *   recycled pid is never signalled.
 * - Stop: kube-apiserver first, then etcd; each SIGTERM, SIGKILL after `stopTimeoutMs`; resolves once both are gone,
 *   which also releases their ports.
 *
 * Files under stateDir: pki/ (CA, serving, admin and service-account keys), etcd/ (etcd's data dir), logs/etcd.log,
 * logs/kube-apiserver.log (each process's stdout and stderr), kubeconfig, dev-cluster.json (detached only).
 */
import { readFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { join, resolve } from 'node:path';
import { namespaced, type Logger } from '@stinger/log';
import { freePorts, isAlive, pollUntilGone, readFileTail, signalProcess } from '@stinger/processes';
import { launch, waitUntil, type Launched } from './launched-process.ts';
import { ensureCertificates, type ClusterCertificates } from './certificates.ts';
import { DevClusterError, DevClusterStartError, DevClusterStopError, type DevClusterComponent } from './errors.ts';
import { CLUSTER_HOST, renderEtcdFlags, renderKubeApiserverFlags } from './flags.ts';
import { buildEtcd, buildKubeApiserver } from './go-build.ts';
import { kubeApiRequest } from './kube-api-request.ts';
import { renderKubeconfig } from './kubeconfig.ts';

/** Folder name of the dev cluster under the Stinger home: the CLI's state dir is `<loadConfig().home>/dev-cluster`. */
export const DEV_CLUSTER_DIR_NAME = 'dev-cluster';

export interface StartDevClusterOptions {
  /** Shared cache of built tools (callers pass `loadConfig().cacheDir`). */
  readonly cacheDir: string;
  /** The cluster's own folder (see the file comment). Created if missing; reused if present. */
  readonly stateDir: string;
  readonly logger: Logger;
  /** Run both processes as daemons that outlive this process, recorded in `<stateDir>/dev-cluster.json`. */
  readonly detached?: boolean;
  /** Upper bound for each component to become ready once launched. */
  readonly startTimeoutMs?: number;
  readonly stopTimeoutMs?: number;
  /** Upper bound for building a binary that is not cached yet. */
  readonly buildTimeoutMs?: number;
  readonly goCommand?: string;
  /** kube-apiserver's port; default a free one. Fixing it lets clients survive a restart of the cluster. */
  readonly securePort?: number;
  readonly opensslCommand?: string;
  /** A node will be started on this cluster (node.ts): pods get ServiceAccount tokens. */
  readonly withNode?: boolean;
}

export interface DevCluster {
  /** `https://127.0.0.1:<securePort>` */
  readonly server: string;
  readonly kubeconfigPath: string;
  readonly securePort: number;
  readonly etcdClientPort: number;
  readonly etcdPeerPort: number;
  readonly etcdPid: number;
  readonly apiserverPid: number;
  readonly stateDir: string;
  readonly kubernetesVersion: string;
  readonly etcdVersion: string;
  readonly certificates: ClusterCertificates;
  /** Milliseconds from launching etcd to kube-apiserver's first 200 on /readyz (builds excluded). */
  readonly startupMs: number;
  /** Stops kube-apiserver then etcd (SIGTERM, then SIGKILL); for a detached cluster also removes its state file. Idempotent. */
  stop(): Promise<void>;
}

export interface RunningDevCluster {
  readonly server: string;
  readonly kubeconfigPath: string;
  readonly securePort: number;
  readonly etcdClientPort: number;
  /** Null when that process is gone (the other one still is running and `stopRunningDevCluster` ends it). */
  readonly etcdPid: number | null;
  readonly apiserverPid: number | null;
}

interface StateRecord {
  readonly server: string;
  readonly kubeconfigPath: string;
  readonly securePort: number;
  readonly etcdClientPort: number;
  readonly etcdPid: number;
  readonly apiserverPid: number;
}

const STATE_FILE = 'dev-cluster.json';

export async function startDevCluster(options: StartDevClusterOptions): Promise<DevCluster> {
  const logger = namespaced(options.logger, 'DevCluster');
  const stateDir = resolve(options.stateDir);
  const detached = options.detached ?? false;
  const startTimeoutMs = options.startTimeoutMs ?? 120_000;
  const stopTimeoutMs = options.stopTimeoutMs ?? 20_000;

  if (detached) {
    const running = await readRunningDevCluster(stateDir);
    if (running) {
      throw new DevClusterStartError(`a dev cluster is already running from ${stateDir} (${running.server}, kubeconfig ${running.kubeconfigPath})`);
    }
  }
  const buildOptions = {
    cacheDir: options.cacheDir,
    logger,
    ...(options.goCommand === undefined ? {} : { goCommand: options.goCommand }),
    ...(options.buildTimeoutMs === undefined ? {} : { timeoutMs: options.buildTimeoutMs }),
  };
  // One after the other: each build already uses every core.
  const kubeApiserver = await buildKubeApiserver(buildOptions);
  const etcd = await buildEtcd(buildOptions);

  const logsDir = join(stateDir, 'logs');
  const etcdDataDir = join(stateDir, 'etcd');
  await mkdir(logsDir, { recursive: true });
  await mkdir(etcdDataDir, { recursive: true, mode: 0o700 });
  const certificates = await ensureCertificates({
    pkiDir: join(stateDir, 'pki'),
    ...(options.opensslCommand === undefined ? {} : { opensslCommand: options.opensslCommand }),
  });
  const [etcdClientPort = 0, etcdPeerPort = 0, freeSecurePort = 0] = await freePorts(CLUSTER_HOST, 3);
  const securePort = options.securePort ?? freeSecurePort;
  const server = `https://${CLUSTER_HOST}:${securePort}`;
  const launchedAt = Date.now();

  const etcdLog = join(logsDir, 'etcd.log');
  const etcdProcess = launch({
    component: 'etcd',
    binary: etcd.path,
    args: renderEtcdFlags({ dataDir: etcdDataDir, clientPort: etcdClientPort, peerPort: etcdPeerPort }),
    logFile: etcdLog,
    cwd: stateDir,
    detached,
    stopTimeoutMs,
    logger,
  });
  let apiserverProcess: Launched | null = null;
  const stopAll = async (): Promise<void> => {
    try {
      if (apiserverProcess) await apiserverProcess.stop();
    } finally {
      await etcdProcess.stop();
    }
  };

  try {
    await waitUntil({
      component: 'etcd',
      hasExited: etcdProcess.hasExited,
      timeoutMs: startTimeoutMs,
      probe: () => probeEtcdHealth(etcdClientPort),
    });
    logger.info({ etcdPid: etcdProcess.pid, etcdClientPort, ms: Date.now() - launchedAt }, 'etcd healthy');

    apiserverProcess = launch({
      component: 'kube-apiserver',
      binary: kubeApiserver.path,
      args: renderKubeApiserverFlags({ etcdClientPort, securePort, ...certificates, withNode: options.withNode ?? false }),
      logFile: join(logsDir, 'kube-apiserver.log'),
      cwd: stateDir,
      detached,
      stopTimeoutMs,
      logger,
    });
    const pem = await readPems(certificates);
    const apiserverExited = apiserverProcess.hasExited;
    await waitUntil({
      component: 'kube-apiserver',
      hasExited: () => apiserverExited() || etcdProcess.hasExited(),
      timeoutMs: startTimeoutMs,
      probe: async () => {
        const answer = await kubeApiRequest({ server, path: '/readyz', ...pem, timeoutMs: 5000 });
        return answer.status === 200 ? null : `/readyz answered ${answer.status}: ${answer.body.slice(0, 300)}`;
      },
    });
  } catch (error) {
    await stopAll().catch(() => undefined);
    const failed: DevClusterComponent = apiserverProcess ? 'kube-apiserver' : 'etcd';
    const logTail = await readFileTail(join(logsDir, `${failed}.log`), 16 * 1024);
    if (error instanceof DevClusterError) {
      throw new DevClusterStartError(error.message, {
        component: failed,
        retriable: error.retriable || /address already in use/i.test(logTail),
        cause: error,
        logTail: tailLines(logTail, 40),
      });
    }
    throw error;
  }
  const apiserverPid = apiserverProcess.pid;
  const startupMs = Date.now() - launchedAt;

  const kubeconfigPath = join(stateDir, 'kubeconfig');
  const pem = await readPems(certificates);
  await writeFile(kubeconfigPath, renderKubeconfig({ server, ...pem }), { mode: 0o600 });
  logger.info({ server, kubeconfigPath, etcdPid: etcdProcess.pid, apiserverPid, startupMs, detached }, 'dev cluster ready');

  if (detached) {
    const record: StateRecord = { server, kubeconfigPath, securePort, etcdClientPort, etcdPid: etcdProcess.pid, apiserverPid };
    await writeFile(join(stateDir, STATE_FILE), `${JSON.stringify(record, null, 2)}\n`);
  }

  let stopping: Promise<void> | null = null;
  return {
    server,
    kubeconfigPath,
    securePort,
    etcdClientPort,
    etcdPeerPort,
    etcdPid: etcdProcess.pid,
    apiserverPid,
    stateDir,
    kubernetesVersion: kubeApiserver.version,
    etcdVersion: etcd.version,
    certificates,
    startupMs,
    stop: () => {
      stopping ??= (async () => {
        const began = Date.now();
        await stopAll();
        if (detached) await rm(join(stateDir, STATE_FILE), { force: true });
        logger.info({ ms: Date.now() - began }, 'dev cluster stopped');
      })();
      return stopping;
    },
  };
}

/**
 * The detached dev cluster recorded in `stateDir`, or null when there is none or both its processes are gone (the
 * stale state file is removed then). Never throws for missing or malformed files.
 */
export async function readRunningDevCluster(stateDir: string): Promise<RunningDevCluster | null> {
  const dir = resolve(stateDir);
  const record = parseStateRecord(await readFile(join(dir, STATE_FILE), 'utf8').catch(() => ''));
  if (!record) return null;
  const etcdPid = isOurProcess(record.etcdPid, 'etcd', dir) ? record.etcdPid : null;
  const apiserverPid = isOurProcess(record.apiserverPid, 'kube-apiserver', dir) ? record.apiserverPid : null;
  if (etcdPid === null && apiserverPid === null) {
    await rm(join(dir, STATE_FILE), { force: true });
    return null;
  }
  return {
    server: record.server,
    kubeconfigPath: record.kubeconfigPath,
    securePort: record.securePort,
    etcdClientPort: record.etcdClientPort,
    etcdPid,
    apiserverPid,
  };
}

export interface StopRunningDevClusterOptions {
  readonly stopTimeoutMs?: number;
}

/**
 * Stops the detached dev cluster recorded in `stateDir` (kube-apiserver, then etcd; SIGTERM, SIGKILL after
 * `stopTimeoutMs`) and removes its state file. Resolves true when something was stopped, false when nothing ran.
 */
export async function stopRunningDevCluster(stateDir: string, options: StopRunningDevClusterOptions = {}): Promise<boolean> {
  const dir = resolve(stateDir);
  const running = await readRunningDevCluster(dir);
  if (!running) return false;
  const stopTimeoutMs = options.stopTimeoutMs ?? 20_000;
  const order: ReadonlyArray<readonly [DevClusterComponent, number | null]> = [
    ['kube-apiserver', running.apiserverPid],
    ['etcd', running.etcdPid],
  ];
  for (const [component, pid] of order) {
    if (pid === null) continue;
    signalProcess(pid, 'SIGTERM');
    if (!(await pollUntilGone(pid, stopTimeoutMs))) {
      signalProcess(pid, 'SIGKILL');
      if (!(await pollUntilGone(pid, 10_000))) {
        throw new DevClusterStopError(`${component} pid ${pid} did not exit after SIGKILL`, { component, pid });
      }
    }
  }
  await rm(join(dir, STATE_FILE), { force: true });
  return true;
}

/** Parses dev-cluster.json; null for anything that is not a complete record (pure). */
export function parseStateRecord(text: string): StateRecord | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const record = value as Record<string, unknown>;
  const positive = (key: string): boolean => Number.isInteger(record[key]) && (record[key] as number) > 0;
  if (typeof record['server'] !== 'string' || typeof record['kubeconfigPath'] !== 'string') return null;
  if (!['securePort', 'etcdClientPort', 'etcdPid', 'apiserverPid'].every(positive)) return null;
  return value as StateRecord;
}

/** etcd's /health: 200 with `{"health":"true"}` once it has a leader and serves requests. */
function probeEtcdHealth(port: number): Promise<string | null> {
  return new Promise((resolveProbe, reject) => {
    const req = httpRequest({ host: CLUSTER_HOST, port, path: '/health', timeout: 2000, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.once('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const healthy = res.statusCode === 200 && /"health"\s*:\s*"true"/.test(body);
        resolveProbe(healthy ? null : `/health answered ${res.statusCode ?? 0}: ${body.slice(0, 200)}`);
      });
    });
    req.once('timeout', () => req.destroy(new Error('/health timed out')));
    req.once('error', reject);
    req.end();
  });
}

async function readPems(certificates: ClusterCertificates): Promise<{ caCertPem: string; clientCertPem: string; clientKeyPem: string }> {
  return {
    caCertPem: await readFile(certificates.caCert, 'utf8'),
    clientCertPem: await readFile(certificates.adminCert, 'utf8'),
    clientKeyPem: await readFile(certificates.adminKey, 'utf8'),
  };
}

/**
 * True while `pid` is a live (not zombie) etcd or kube-apiserver started by this library for `stateDir`: etcd's
 * command line names `<stateDir>/etcd` as its data dir, kube-apiserver's names `<stateDir>/pki/...` certificates.
 */
function isOurProcess(pid: number, component: DevClusterComponent, stateDir: string): boolean {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const marker = component === 'etcd' ? `--data-dir=${join(stateDir, 'etcd')}` : `--client-ca-file=${join(stateDir, 'pki', 'ca.crt')}`;
    return cmdline.includes(marker) && isAlive(pid);
  } catch {
    return false;
  }
}






function tailLines(text: string, count: number): string {
  return text.trimEnd().split('\n').slice(-count).join('\n');
}
