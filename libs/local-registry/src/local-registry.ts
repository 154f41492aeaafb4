/**
 * A real Apicurio Registry (pinned, built once with Maven: apicurio-distribution.ts) on 127.0.0.1, for
 * `stinger registry up` and the registry-mode tests. In-memory storage: a restart starts empty, and producers register
 * their schemas again on their first write.
 *
 * Contract:
 * - `startLocalRegistry(options)` launches `java -jar registry.jar` and resolves once the Confluent-compatible API
 *   answers `GET /apis/ccompat/v7/subjects`; `url` is that API's base, what STINGER_SCHEMA_REGISTRY_URL takes. It rejects
 *   with a LocalRegistryError carrying the log's tail when the JVM exits or does not answer in time (killed then).
 * - Port: `options.port` if given, else 8081 if free, else any free port.
 * - Foreground (default): the JVM is this process's child, SIGKILLed by an exit hook if this process ends first.
 *   Detached: it outlives this process; `registry.pid` and `registry.port` in `stateDir`, written as soon as it is
 *   launched, let `readRunningRegistry` and `stopRunningRegistry` find it later (also one still starting). A pid is
 *   trusted only while its command line names this state dir.
 * - Stop: SIGTERM, SIGKILL after `stopTimeoutMs`; resolves once the process is gone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { namespaced } from '@stinger/log';
import type { Logger } from '@stinger/log';
import { freePort, isAlive, isPortFree, pollUntilGone, readFileTail, settlesWithin, signalProcess } from '@stinger/processes';
import { resolveApicurioRegistry } from './apicurio-distribution.ts';
import { LocalRegistryError } from './errors.ts';

export const REGISTRY_HOST = '127.0.0.1';
export const DEFAULT_REGISTRY_PORT = 8081;
/** Where Apicurio serves the Confluent-compatible API. */
export const CCOMPAT_PATH = '/apis/ccompat/v7';

const PID_FILE = 'registry.pid';
const PORT_FILE = 'registry.port';
const STATE_MARKER_PROPERTY = 'stinger.localRegistry.stateDir';

export const DEFAULT_REGISTRY_JVM_OPTIONS: readonly string[] = ['-Xms128m', '-Xmx384m', '-XX:+UseSerialGC', '-XX:+ExitOnOutOfMemoryError', '-Djava.awt.headless=true'];

export interface StartLocalRegistryOptions {
  /** Shared download cache (`loadConfig().cacheDir`): the jar is built once into it. */
  readonly cacheDir: string;
  /** The registry's folder: its log (registry.log) and, unless stateDir says otherwise, its state files. */
  readonly dataDir: string;
  readonly logger: Logger;
  readonly port?: number;
  readonly detached?: boolean;
  readonly stateDir?: string;
  readonly startTimeoutMs?: number;
  readonly stopTimeoutMs?: number;
  readonly jvmOptions?: readonly string[];
  readonly javaCommand?: string;
  readonly mavenCommand?: string;
}

export interface LocalRegistry {
  /** Base URL of the Confluent-compatible API: the value of STINGER_SCHEMA_REGISTRY_URL. */
  readonly url: string;
  /** The server's root (Apicurio's own API is at `<origin>/apis/registry/v2`, which its serdes use). */
  readonly origin: string;
  readonly port: number;
  readonly pid: number;
  readonly logFile: string;
  readonly startupMs: number;
  stop(): Promise<void>;
}

export interface RunningRegistry {
  readonly pid: number;
  readonly port: number;
  readonly url: string;
}

const urlOf = (port: number): string => `http://${REGISTRY_HOST}:${port}${CCOMPAT_PATH}`;

async function choosePort(asked: number | undefined): Promise<number> {
  if (asked !== undefined) {
    if (!(await isPortFree(asked, REGISTRY_HOST))) throw new LocalRegistryError(`port ${asked} on ${REGISTRY_HOST} is in use`);
    return asked;
  }
  return (await isPortFree(DEFAULT_REGISTRY_PORT, REGISTRY_HOST)) ? DEFAULT_REGISTRY_PORT : freePort(REGISTRY_HOST);
}

export async function startLocalRegistry(options: StartLocalRegistryOptions): Promise<LocalRegistry> {
  const logger = namespaced(options.logger, 'LocalRegistry');
  const dataDir = resolve(options.dataDir);
  const stateDir = resolve(options.stateDir ?? dataDir);
  const detached = options.detached ?? false;
  const startTimeoutMs = options.startTimeoutMs ?? 120_000;
  const stopTimeoutMs = options.stopTimeoutMs ?? 20_000;
  const javaCommand = options.javaCommand ?? 'java';
  if (detached) {
    const running = await readRunningRegistry(stateDir);
    if (running) throw new LocalRegistryError(`a local registry is already running from ${stateDir} (pid ${running.pid}, ${running.url})`);
  }
  const { jar } = await resolveApicurioRegistry({ cacheDir: options.cacheDir, logger, ...(options.mavenCommand === undefined ? {} : { mavenCommand: options.mavenCommand }) });
  await mkdir(dataDir, { recursive: true });
  await mkdir(stateDir, { recursive: true });
  const logFile = join(dataDir, 'registry.log');
  const port = await choosePort(options.port);
  const args = [
    ...(options.jvmOptions ?? DEFAULT_REGISTRY_JVM_OPTIONS),
    `-D${STATE_MARKER_PROPERTY}=${stateDir}`,
    `-Dquarkus.http.host=${REGISTRY_HOST}`,
    `-Dquarkus.http.port=${port}`,
    // No browser UI and no usage reporting: an API for pipelines and tests.
    '-Dregistry.ui.features.readOnly=true',
    '-jar',
    jar,
  ];
  const logFd = openSync(logFile, 'a');
  const launchedAt = Date.now();
  let child: ChildProcess;
  try {
    child = spawn(javaCommand, args, { cwd: dataDir, detached, stdio: ['ignore', logFd, logFd] });
  } finally {
    closeSync(logFd);
  }
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const pid = child.pid;
  if (pid === undefined) throw new LocalRegistryError(`could not launch "${javaCommand}"`);
  const killOnExit = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  if (detached) child.unref();
  else process.once('exit', killOnExit);
  const hasExited = (): boolean => child.exitCode !== null || child.signalCode !== null;
  const stopChild = async (): Promise<void> => {
    if (!hasExited()) {
      child.kill('SIGTERM');
      if (!(await settlesWithin(exited, stopTimeoutMs))) {
        child.kill('SIGKILL');
        await settlesWithin(exited, 10_000);
      }
    }
    process.removeListener('exit', killOnExit);
  };
  // Recorded before it answers: a starter stopped meanwhile (Ctrl-C, a test's timeout) leaves one `down` can find.
  if (detached) {
    await writeFile(join(stateDir, PORT_FILE), `${port}\n`);
    await writeFile(join(stateDir, PID_FILE), `${pid}\n`);
  }
  try {
    await waitUntilAnswering(port, hasExited, launchedAt + startTimeoutMs);
  } catch (error) {
    await stopChild().catch(() => undefined);
    if (detached) await removeStateFiles(stateDir);
    const tail = (await readFileTail(logFile, 32 * 1024)).trimEnd().split('\n').slice(-30).join('\n');
    throw new LocalRegistryError((error as Error).message, { cause: error, detail: `== ${logFile} ==\n${tail}` });
  }
  const startupMs = Date.now() - launchedAt;
  logger.info({ registryPid: pid, url: urlOf(port), startupMs }, 'local registry ready');
  let stopping: Promise<void> | null = null;
  return {
    url: urlOf(port),
    origin: `http://${REGISTRY_HOST}:${port}`,
    port,
    pid,
    logFile,
    startupMs,
    stop: () => {
      stopping ??= (async () => {
        await stopChild();
        if (detached) await removeStateFiles(stateDir);
      })();
      return stopping;
    },
  };
}

/** Resolves once `GET <ccompat>/subjects` answers 200; throws when the JVM exits or the deadline passes. */
async function waitUntilAnswering(port: number, hasExited: () => boolean, deadline: number): Promise<void> {
  let last = 'no attempt yet';
  for (;;) {
    if (hasExited()) throw new LocalRegistryError(`the registry JVM exited before answering on ${REGISTRY_HOST}:${port}`);
    const status = await getStatus(`${urlOf(port)}/subjects`).catch((error: unknown) => {
      last = (error as Error).message;
      return 0;
    });
    if (status === 200) return;
    if (status !== 0) last = `HTTP ${status}`;
    if (Date.now() >= deadline) throw new LocalRegistryError(`the registry did not answer on ${urlOf(port)} in time (last: ${last})`, { retriable: true });
    await sleep(250);
  }
}

function getStatus(url: string): Promise<number> {
  return new Promise((done, reject) => {
    const req = request(url, { timeout: 2000 }, (res) => {
      res.resume();
      res.on('end', () => done(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 2 s')));
    req.on('error', reject);
    req.end();
  });
}

/** The detached registry recorded in `stateDir`, or null (stale files are removed). Never throws for bad files. */
export async function readRunningRegistry(stateDir: string): Promise<RunningRegistry | null> {
  const dir = resolve(stateDir);
  const pid = Number((await readFile(join(dir, PID_FILE), 'utf8').catch(() => '')).trim());
  const port = Number((await readFile(join(dir, PORT_FILE), 'utf8').catch(() => '')).trim());
  if (!Number.isInteger(pid) || pid <= 0 || !Number.isInteger(port) || port <= 0) return null;
  if (!isOurRegistry(pid, dir)) {
    await removeStateFiles(dir);
    return null;
  }
  return { pid, port, url: urlOf(port) };
}

/** Stops the detached registry recorded in `stateDir`; true when one was stopped, false when none ran. */
export async function stopRunningRegistry(stateDir: string, options: { readonly stopTimeoutMs?: number } = {}): Promise<boolean> {
  const dir = resolve(stateDir);
  const running = await readRunningRegistry(dir);
  if (!running) return false;
  signalProcess(running.pid, 'SIGTERM');
  if (!(await pollUntilGone(running.pid, options.stopTimeoutMs ?? 20_000))) {
    signalProcess(running.pid, 'SIGKILL');
    if (!(await pollUntilGone(running.pid, 10_000))) throw new LocalRegistryError(`local registry pid ${running.pid} did not exit after SIGKILL`);
  }
  await removeStateFiles(dir);
  return true;
}

function isOurRegistry(pid: number, stateDir: string): boolean {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return cmdline.includes(`-D${STATE_MARKER_PROPERTY}=${stateDir}`) && isAlive(pid);
  } catch {
    return false;
  }
}

async function removeStateFiles(stateDir: string): Promise<void> {
  await rm(join(stateDir, PID_FILE), { force: true });
  await rm(join(stateDir, PORT_FILE), { force: true });
}
