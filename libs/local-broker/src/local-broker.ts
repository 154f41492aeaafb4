/**
 * A real single-node Apache Kafka (KRaft, broker + controller in one JVM) on 127.0.0.1, for development
 * (`stinger up`) and tests.
 *
 * Contract:
 * - `startLocalBroker(options)` resolves the pinned jars (kafka-distribution.ts), writes `server.properties` and
 *   `log4j2.properties` into `dataDir`, formats `dataDir/kraft` once (a formatted directory is reused, topics and
 *   all), launches `java ... kafka.Kafka` and resolves only when the broker answers an ApiVersions request. It rejects
 *   with a `BrokerStartError` carrying the tail of the broker's log when the JVM exits or does not answer in time
 *   (the JVM is killed then).
 * - Port: `options.port` if given (taken → error), else 9092 if free, else any free port. `portFellBack` says so and
 *   the logger warns; read `brokers`/`port` from the result, never assume 9092.
 * - Foreground (default): the JVM is this process's child; `stop()` ends it, and if this process exits first an exit
 *   hook SIGKILLs it, so a crashed test run leaves no broker behind.
 * - Detached (`detached: true`): the JVM gets its own session and outlives this process. `broker.pid` and
 *   `broker.port` are written to `stateDir` (default `dataDir`); `readRunningBroker(stateDir)` and
 *   `stopRunningBroker(stateDir)` find and stop it from any later process. A pid is only trusted while
 *   /proc/<pid>/cmdline still names this state dir, so a recycled pid is never signalled.
 * - Stop: SIGTERM (Kafka shuts down cleanly, ~1-2 s), SIGKILL after `stopTimeoutMs`; resolves once the process is
 *   gone, which also releases its ports.
 *
 * - `secureListener`: a SASL_SSL listener as well (PEM keystore; PLAIN and SCRAM users), reported as `secureBrokers`.
 * - `podListenerHost`: a plaintext listener on that address as well (the dev cluster node's bridge, so its pods reach
 *   the broker), on `podListenerPort` or any free port, reported as `podBrokers` (and by `readRunningBroker` when
 *   the broker is recorded).
 *
 * Files under dataDir: server.properties, log4j2.properties, kraft/ (log.dirs), logs/server.log (log4j2, rolled),
 * logs/console.log (JVM stdout/stderr: crashes before log4j starts land here).
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { access, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { namespaced, type Logger } from '@stinger/log';
import { freePort, isAlive, pollUntilGone, readFileTail, settlesWithin, signalProcess } from '@stinger/processes';
import { probeApiVersions } from './api-versions-probe.ts';
import { randomClusterId } from './cluster-id.ts';
import { BrokerStartError, BrokerStopError, LocalBrokerError } from './errors.ts';
import { checkJavaRuntime } from './java-runtime.ts';
import { resolveKafkaDistribution, tailLines } from './kafka-distribution.ts';
import { chooseBrokerPorts, DEFAULT_BROKER_PORT } from './ports.ts';
import { BROKER_HOST, renderLog4jConfig, renderServerProperties, type ClusterNodeProperties, type SaslUser } from './server-properties.ts';

export const DEFAULT_JVM_OPTIONS: readonly string[] = [
  '-Xms256m',
  '-Xmx512m',
  '-XX:+UseG1GC',
  '-XX:MaxGCPauseMillis=20',
  '-XX:+ExitOnOutOfMemoryError',
  '-Djava.awt.headless=true',
];

export interface StartLocalBrokerOptions {
  /** Shared download cache (callers pass `loadConfig().cacheDir`); jars go to `<cacheDir>/kafka-<version>/libs`. */
  readonly cacheDir: string;
  /** The broker's own folder: configuration, KRaft log directory, logs. Created if missing; reused if formatted. */
  readonly dataDir: string;
  readonly logger: Logger;
  /** A port the caller insists on; when absent 9092 is tried, then any free port. */
  readonly port?: number;
  /** Run as a daemon that outlives this process, recorded in `stateDir`. */
  readonly detached?: boolean;
  /**
   * Foreground only: the JVM in a process group of its own, so a terminal's Ctrl-C reaches the owner alone, which can
   * stop what uses the broker before the broker (`stinger up`). Off by default: a test run stopped with Ctrl-C then
   * takes its broker with it (no exit hook runs when Node dies of SIGINT).
   */
  readonly ownProcessGroup?: boolean;
  /**
   * Foreground only: record the broker in `stateDir` as a detached one is (removed again by `stop()`), so other
   * commands find it while its owner runs (`stinger status` beside a foreground `stinger up`), and a second owner
   * with the same state dir is refused. Always on when detached.
   */
  readonly recordState?: boolean;
  /** Where `broker.pid` and `broker.port` live for a detached broker; defaults to `dataDir`. */
  readonly stateDir?: string;
  readonly startTimeoutMs?: number;
  readonly stopTimeoutMs?: number;
  readonly autoCreateTopics?: boolean;
  /**
   * A SASL_SSL listener on a free port besides PLAINTEXT, for tests of TLS and SASL. Its users get PLAIN and
   * SCRAM-SHA-256/512 credentials; SCRAM ones are written when the data directory is formatted, so a reused data
   * directory keeps the users it was formatted with.
   */
  readonly secureListener?: SecureListenerOptions;
  /** A plaintext listener on this address of the machine too (the dev cluster node's bridge, for its pods); absent: none. */
  readonly podListenerHost?: string;
  /** The pods listener's port (taken → the start fails naming it); absent: any free port. */
  readonly podListenerPort?: number;
  readonly jvmOptions?: readonly string[];
  readonly javaCommand?: string;
  readonly mavenCommand?: string;
  /**
   * This broker as one node of a cluster (local-cluster.ts): its id, the cluster id every node is formatted with, and
   * every voter; `port` must be given then, and the controller port is this node's voter entry's.
   */
  readonly cluster?: ClusterNodeOptions;
}

export interface ClusterNodeOptions extends ClusterNodeProperties {
  /** The id `kafka-storage format` gives every node's log directory (cluster-id.ts). */
  readonly clusterId: string;
}

export interface SecureListenerOptions {
  /** PEM file: the broker's unencrypted PKCS#8 private key followed by its certificate chain (SAN IP 127.0.0.1). */
  readonly keystoreFile: string;
  readonly users: readonly SaslUser[];
}

export interface LocalBroker {
  /** Bootstrap string for clients: `127.0.0.1:<port>`. */
  readonly brokers: string;
  /** Bootstrap string of the SASL_SSL listener, null without one. */
  readonly secureBrokers: string | null;
  /** `<podListenerHost>:<port>` when asked for, else null. */
  readonly podBrokers: string | null;
  readonly port: number;
  readonly controllerPort: number;
  /** True when 9092 (or no explicit port) was taken and another port was chosen. */
  readonly portFellBack: boolean;
  readonly pid: number;
  readonly dataDir: string;
  /** The broker's log4j2 log file. */
  readonly logFile: string;
  /** Milliseconds from launching the JVM to the first ApiVersions answer. */
  readonly startupMs: number;
  /** Stops the broker (SIGTERM, then SIGKILL); for a detached broker also removes its state files. Idempotent. */
  stop(): Promise<void>;
}

export interface RunningBroker {
  readonly pid: number;
  readonly port: number;
  readonly brokers: string;
  /** `<host>:<port>` of its pods listener, null without one. */
  readonly podBrokers: string | null;
}

const PID_FILE = 'broker.pid';
const PORT_FILE = 'broker.port';
/** The pods listener's `host:port`, written only when the broker has one. */
const PODS_FILE = 'broker.pods';
/** In a cluster's state dir: how many nodes it has (their state dirs are `node-<id>`). */
export const CLUSTER_FILE = 'cluster.size';
const STATE_MARKER_PROPERTY = 'stinger.localBroker.stateDir';

export async function startLocalBroker(options: StartLocalBrokerOptions): Promise<LocalBroker> {
  const logger = namespaced(options.logger, 'LocalBroker');
  const dataDir = resolve(options.dataDir);
  const stateDir = resolve(options.stateDir ?? dataDir);
  const detached = options.detached ?? false;
  const recorded = detached || (options.recordState ?? false);
  const startTimeoutMs = options.startTimeoutMs ?? 90_000;
  const stopTimeoutMs = options.stopTimeoutMs ?? 20_000;
  const javaCommand = options.javaCommand ?? 'java';

  if (recorded) {
    const running = await readRunningBroker(stateDir);
    if (running) {
      throw new BrokerStartError(`a local broker is already running from ${stateDir} (pid ${running.pid}, ${running.brokers})`);
    }
  }
  await checkJavaRuntime(javaCommand);
  const distribution = await resolveKafkaDistribution({
    cacheDir: options.cacheDir,
    logger,
    ...(options.mavenCommand === undefined ? {} : { mavenCommand: options.mavenCommand }),
  });
  const classPath = `${distribution.libsDir}/*`;

  const logDir = join(dataDir, 'kraft');
  const logsDir = join(dataDir, 'logs');
  const logFile = join(logsDir, 'server.log');
  const consoleFile = join(logsDir, 'console.log');
  const propertiesFile = join(dataDir, 'server.properties');
  const log4jFile = join(dataDir, 'log4j2.properties');
  await mkdir(logsDir, { recursive: true });
  await mkdir(stateDir, { recursive: true });

  const ports = await brokerPorts(options);
  if (ports.fellBack) {
    logger.warn({ port: ports.port }, `port ${DEFAULT_BROKER_PORT} is in use; the local broker listens on ${BROKER_HOST}:${ports.port} instead`);
  }
  const secure = options.secureListener;
  const securePort = secure === undefined ? null : await freeOtherPort([ports.port, ports.controllerPort]);
  const podPort = options.podListenerHost === undefined ? null : (options.podListenerPort ?? (await freeOtherPort([ports.port, ports.controllerPort, securePort ?? 0])));
  await writeFile(
    propertiesFile,
    renderServerProperties({
      port: ports.port,
      controllerPort: ports.controllerPort,
      logDir,
      autoCreateTopics: options.autoCreateTopics ?? false,
      ...(secure === undefined || securePort === null ? {} : { secure: { port: securePort, keystoreFile: resolve(secure.keystoreFile), plainUsers: secure.users } }),
      ...(options.podListenerHost === undefined || podPort === null ? {} : { pods: { host: options.podListenerHost, port: podPort } }),
      ...(options.cluster === undefined ? {} : { cluster: { nodeId: options.cluster.nodeId, voters: options.cluster.voters } }),
    }),
  );
  await writeFile(log4jFile, renderLog4jConfig(logFile));
  const log4jOption = `-Dlog4j2.configurationFile=${log4jFile}`;

  await formatOnce({ javaCommand, classPath, log4jOption, propertiesFile, logDir, logger, scramUsers: secure?.users ?? [], clusterId: options.cluster?.clusterId ?? randomClusterId() });

  const args = [
    ...(options.jvmOptions ?? DEFAULT_JVM_OPTIONS),
    log4jOption,
    `-Dkafka.logs.dir=${logsDir}`,
    `-D${STATE_MARKER_PROPERTY}=${stateDir}`,
    '-cp',
    classPath,
    'kafka.Kafka',
    propertiesFile,
  ];
  const consoleFd = openSync(consoleFile, 'a');
  const launchedAt = Date.now();
  let child: ChildProcess;
  try {
    child = spawn(javaCommand, args, { cwd: dataDir, detached: detached || (options.ownProcessGroup ?? false), stdio: ['ignore', consoleFd, consoleFd] });
  } finally {
    closeSync(consoleFd);
  }
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const spawnFailed = new Promise<Error>((done) => child.once('error', done));
  const pid = child.pid;
  if (pid === undefined) {
    throw new BrokerStartError(`could not launch "${javaCommand}"`, { cause: await spawnFailed });
  }
  const killOnExit = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  if (detached) child.unref();
  else process.once('exit', killOnExit);
  logger.info({ brokerPid: pid, port: ports.port, dataDir, detached }, 'local broker launched');

  const hasExited = (): boolean => child.exitCode !== null || child.signalCode !== null;
  const stopChild = async (): Promise<void> => {
    if (!hasExited()) {
      child.kill('SIGTERM');
      if (!(await settlesWithin(exited, stopTimeoutMs))) {
        logger.warn({ brokerPid: pid, stopTimeoutMs }, 'local broker ignored SIGTERM; sending SIGKILL');
        child.kill('SIGKILL');
        if (!(await settlesWithin(exited, 10_000))) {
          throw new BrokerStopError(`local broker pid ${pid} did not exit after SIGKILL`, { pid });
        }
      }
    }
    process.removeListener('exit', killOnExit);
  };

  try {
    await waitUntilAnswering({ port: ports.port, hasExited, startTimeoutMs, launchedAt });
  } catch (error) {
    await stopChild().catch(() => undefined);
    const logTail = await readLogTail(logFile, consoleFile);
    if (error instanceof LocalBrokerError) {
      throw new BrokerStartError(error.message, { retriable: error.retriable || /Address already in use/.test(logTail), cause: error, logTail });
    }
    throw error;
  }
  const startupMs = Date.now() - launchedAt;
  logger.info({ brokerPid: pid, brokers: `${BROKER_HOST}:${ports.port}`, startupMs }, 'local broker ready');

  if (recorded) {
    await writeFile(join(stateDir, PORT_FILE), `${ports.port}\n`);
    if (podPort !== null) await writeFile(join(stateDir, PODS_FILE), `${options.podListenerHost}:${podPort}\n`);
    else await rm(join(stateDir, PODS_FILE), { force: true });
    await writeFile(join(stateDir, PID_FILE), `${pid}\n`);
  }

  let stopping: Promise<void> | null = null;
  return {
    brokers: `${BROKER_HOST}:${ports.port}`,
    secureBrokers: securePort === null ? null : `${BROKER_HOST}:${securePort}`,
    podBrokers: podPort === null || options.podListenerHost === undefined ? null : `${options.podListenerHost}:${podPort}`,
    port: ports.port,
    controllerPort: ports.controllerPort,
    portFellBack: ports.fellBack,
    pid,
    dataDir,
    logFile,
    startupMs,
    stop: () => {
      stopping ??= (async () => {
        const began = Date.now();
        await stopChild();
        if (recorded) await removeStateFiles(stateDir);
        logger.info({ brokerPid: pid, ms: Date.now() - began }, 'local broker stopped');
      })();
      return stopping;
    },
  };
}

/**
 * The detached broker recorded in `stateDir`, or null when there is none or its process is gone (stale files are
 * removed then). Never throws for missing or malformed files. A cluster recorded there (local-cluster.ts) is reported
 * as one broker: `brokers` lists every node still running, `pid` and `port` are the first one's.
 */
export async function readRunningBroker(stateDir: string): Promise<RunningBroker | null> {
  const dir = resolve(stateDir);
  const nodeDirs = await recordedClusterNodes(dir);
  if (nodeDirs !== null) {
    const nodes = (await Promise.all(nodeDirs.map((nodeDir) => readRunningBroker(nodeDir)))).filter((node) => node !== null);
    const first = nodes[0];
    if (first === undefined) {
      await rm(join(dir, CLUSTER_FILE), { force: true });
      return null;
    }
    return { pid: first.pid, port: first.port, brokers: nodes.map((node) => node.brokers).join(','), podBrokers: null };
  }
  const pid = Number((await readFile(join(dir, PID_FILE), 'utf8').catch(() => '')).trim());
  const port = Number((await readFile(join(dir, PORT_FILE), 'utf8').catch(() => '')).trim());
  if (!Number.isInteger(pid) || pid <= 0 || !Number.isInteger(port) || port <= 0) return null;
  if (!isOurBroker(pid, dir)) {
    await removeStateFiles(dir);
    return null;
  }
  const podBrokers = (await readFile(join(dir, PODS_FILE), 'utf8').catch(() => '')).trim();
  return { pid, port, brokers: `${BROKER_HOST}:${port}`, podBrokers: podBrokers === '' ? null : podBrokers };
}

/**
 * `stateDir` of a cluster holds `cluster.size` and one `node-<id>` state dir per node; a single broker's has neither.
 * Returns those node dirs, or null when no cluster is recorded.
 */
export async function recordedClusterNodes(stateDir: string): Promise<string[] | null> {
  const size = Number((await readFile(join(stateDir, CLUSTER_FILE), 'utf8').catch(() => '')).trim());
  if (!Number.isInteger(size) || size < 1) return null;
  return Array.from({ length: size }, (_, index) => clusterNodeDir(stateDir, index + 1));
}

/** Where node `nodeId` of a cluster keeps its files, under the cluster's data or state dir. */
export function clusterNodeDir(dir: string, nodeId: number): string {
  return join(dir, `node-${nodeId}`);
}

export interface StopRunningBrokerOptions {
  readonly stopTimeoutMs?: number;
}

/**
 * Stops the detached broker recorded in `stateDir` (SIGTERM, SIGKILL after `stopTimeoutMs`) and removes its state
 * files. Resolves true when one was stopped, false when none was running.
 */
export async function stopRunningBroker(stateDir: string, options: StopRunningBrokerOptions = {}): Promise<boolean> {
  const dir = resolve(stateDir);
  const nodeDirs = await recordedClusterNodes(dir);
  if (nodeDirs !== null) {
    const stopped = await Promise.all(nodeDirs.map((nodeDir) => stopRunningBroker(nodeDir, options)));
    await rm(join(dir, CLUSTER_FILE), { force: true });
    return stopped.includes(true);
  }
  const running = await readRunningBroker(dir);
  if (!running) return false;
  const { pid } = running;
  const stopTimeoutMs = options.stopTimeoutMs ?? 20_000;
  signalProcess(pid, 'SIGTERM');
  if (!(await pollUntilGone(pid, stopTimeoutMs))) {
    signalProcess(pid, 'SIGKILL');
    if (!(await pollUntilGone(pid, 10_000))) {
      throw new BrokerStopError(`local broker pid ${pid} did not exit after SIGKILL`, { pid });
    }
  }
  await removeStateFiles(dir);
  return true;
}

interface FormatOptions {
  readonly javaCommand: string;
  readonly classPath: string;
  readonly log4jOption: string;
  readonly propertiesFile: string;
  readonly logDir: string;
  readonly logger: Logger;
  /** Given SCRAM-SHA-256 and SCRAM-SHA-512 credentials in the metadata log (KRaft has no other way before start). */
  readonly scramUsers: readonly SaslUser[];
  readonly clusterId: string;
}

/** `--add-scram` arguments of kafka-storage format, one per user and mechanism. */
export function scramFormatArguments(users: readonly SaslUser[]): string[] {
  return users.flatMap((user) => {
    if (!/^[A-Za-z0-9._-]+$/.test(user.name) || /[,=\[\]"\s]/.test(user.password)) {
      throw new RangeError(`SCRAM user ${JSON.stringify(user.name)}: name or password cannot be written as a kafka-storage --add-scram argument`);
    }
    return ['SCRAM-SHA-256', 'SCRAM-SHA-512'].flatMap((mechanism) => ['--add-scram', `${mechanism}=[name=${user.name},password=${user.password}]`]);
  });
}

/** Formats the KRaft log directory unless it already carries meta.properties (then it is reused as it is). */
async function formatOnce(options: FormatOptions): Promise<void> {
  const { javaCommand, classPath, log4jOption, propertiesFile, logDir, logger } = options;
  if (await exists(join(logDir, 'meta.properties'))) return;
  const { clusterId } = options;
  const began = Date.now();
  const args = [
    '-Xmx256m',
    log4jOption,
    '-cp',
    classPath,
    'kafka.tools.StorageTool',
    'format',
    '-c',
    propertiesFile,
    '-t',
    clusterId,
    ...scramFormatArguments(options.scramUsers),
  ];
  await new Promise<void>((done, reject) => {
    execFile(javaCommand, args, { timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) {
        reject(new BrokerStartError(`formatting ${logDir} failed`, { cause: error, logTail: tailLines(`${stdout}${stderr}`, 30) }));
      } else {
        done();
      }
    });
  });
  logger.info({ logDir, clusterId, ms: Date.now() - began }, 'KRaft log directory formatted');
}

interface WaitOptions {
  readonly port: number;
  readonly hasExited: () => boolean;
  readonly startTimeoutMs: number;
  readonly launchedAt: number;
}

async function waitUntilAnswering(options: WaitOptions): Promise<void> {
  const { port, hasExited, startTimeoutMs, launchedAt } = options;
  const deadline = launchedAt + startTimeoutMs;
  let lastError = 'no attempt yet';
  for (;;) {
    if (hasExited()) throw new LocalBrokerError(`the broker JVM exited before answering on ${BROKER_HOST}:${port}`);
    try {
      const answer = await probeApiVersions({ host: BROKER_HOST, port, timeoutMs: 2000 });
      if (answer.errorCode === 0 && answer.apis.length > 0) return;
      lastError = `ApiVersions error code ${answer.errorCode}`;
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() >= deadline) {
      throw new LocalBrokerError(`the broker did not answer on ${BROKER_HOST}:${port} within ${startTimeoutMs} ms (last: ${lastError})`, {
        retriable: true,
      });
    }
    await sleep(200);
  }
}

async function readLogTail(logFile: string, consoleFile: string): Promise<string> {
  const parts: string[] = [];
  for (const file of [logFile, consoleFile]) {
    const text = await readFileTail(file, 64 * 1024);
    if (text.trim() !== '') parts.push(`== ${file} ==\n${tailLines(text, 40)}`);
  }
  return parts.join('\n');
}


/** True while `pid` is a live (not zombie) JVM started by this library for `stateDir`. */
function isOurBroker(pid: number, stateDir: string): boolean {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return cmdline.includes(`-D${STATE_MARKER_PROPERTY}=${stateDir}`) && cmdline.includes('kafka.Kafka') && isAlive(pid);
  } catch {
    return false;
  }
}





/** The ports a cluster node was given, else chooseBrokerPorts's choice. */
async function brokerPorts(options: StartLocalBrokerOptions): Promise<{ port: number; controllerPort: number; fellBack: boolean }> {
  const { cluster } = options;
  if (cluster === undefined) return chooseBrokerPorts({ host: BROKER_HOST, port: options.port });
  const controllerPort = cluster.voters.find((voter) => voter.nodeId === cluster.nodeId)?.controllerPort;
  if (options.port === undefined || controllerPort === undefined) throw new BrokerStartError(`cluster node ${cluster.nodeId} needs its port and its own voter entry`);
  return { port: options.port, controllerPort, fellBack: false };
}

/** A free port on the broker's address that is none of `taken`. */
async function freeOtherPort(taken: readonly number[]): Promise<number> {
  for (;;) {
    const port = await freePort(BROKER_HOST);
    if (!taken.includes(port)) return port;
  }
}

async function removeStateFiles(stateDir: string): Promise<void> {
  await rm(join(stateDir, PID_FILE), { force: true });
  await rm(join(stateDir, PORT_FILE), { force: true });
  await rm(join(stateDir, PODS_FILE), { force: true });
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
