/**
 * `stinger up [--detach] [--logs]`: the whole pipeline on this machine — a local Kafka broker (unless
 * KAFKA_BROKERS names one), the topics, a signing key when STINGER_KEYS_DIR has none, and every
 * service this build has, each with its JSON log in a file it names. Prints the broker (and
 * `KAFKA_BROKERS=<host:port>` on stdout so other tools can reach it) and the console's URL. In the
 * foreground it then keeps a short status line (up-status.ts), says in one line when a service exits,
 * and with --logs prints every service's log as it comes, one line per record (log-format.ts);
 * Ctrl-C (SIGINT) or SIGTERM stops everything it started. With --detach, `stinger down` does.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { SchemaRegistryConfig, StingerConfig } from '@stinger/config';
import { readRunningBroker } from '@stinger/local-broker';
import type { Logger } from '@stinger/log';
import { createSchemaRegistryClient, SchemaRegistryError } from '@stinger/schema-registry';
import { spawnSync } from 'node:child_process';
import { BPF_PREREQUISITES, BROKER_PREREQUISITES, ensurePrerequisites } from '../prerequisites.ts';
import { CliError } from '../errors.ts';
import { fileSize, followLogFiles, formatLogLine } from '../log-format.ts';
import { forgetService, recordService, runDir, runningServices } from '../run-state.ts';
import { availableServices, needsRoot, REPO_ROOT, serviceEntry, stopTimeoutMs, type ServiceName } from '../workspace.ts';
import { brokerCountOf, checkRunningBrokerCount, ensureTopics, startLocalBrokers } from './broker.ts';
import { ensureSigningKey } from './keys.ts';
import { serviceEnvironment } from './service.ts';
import { createUpStatusCollector, formatUpStatus, StatusDisplay, STATUS_REFRESH_MS } from './up-status.ts';

export interface UpOptions {
  readonly config: StingerConfig;
  readonly logger: Logger;
  readonly detach: boolean;
  /** Foreground only: print every service's log, pretty, as it comes. */
  readonly logs?: boolean;
  readonly out: (line: string) => void;
  /** Whether stdout is a terminal (the status line is redrawn in place); process.stdout.isTTY when absent. */
  readonly terminal?: boolean;
  /** `--brokers N`: local brokers to start (a cluster when above 1); absent: 1, or whatever local broker runs. */
  readonly brokerCount?: number;
}

interface StartedService {
  readonly name: ServiceName;
  readonly child: ChildProcess;
  /** Where this run's lines begin in the service's log file (it is appended to across runs). */
  readonly logOffset: number;
}

async function obtainBroker(options: UpOptions): Promise<{ brokers: string; owned: OwnedBroker | null; localCount: number }> {
  const { config, logger, detach, out } = options;
  if (config.kafka.brokers) {
    if (options.brokerCount !== undefined) throw new CliError('--brokers starts local brokers; KAFKA_BROKERS names brokers already running: use one or the other', 2);
    out(`using the Kafka brokers in KAFKA_BROKERS: ${config.kafka.brokers.join(',')}`);
    return { brokers: config.kafka.brokers.join(','), owned: null, localCount: 1 };
  }
  const running = await readRunningBroker(runDir(config));
  if (running) {
    if (options.brokerCount !== undefined) checkRunningBrokerCount(running, options.brokerCount);
    out(`a local broker is already running (pid ${running.pid}) on ${running.brokers}`);
    return { brokers: running.brokers, owned: null, localCount: brokerCountOf(running) };
  }
  const count = options.brokerCount ?? 1;
  ensurePrerequisites(BROKER_PREREQUISITES, logger);
  out(`starting ${count === 1 ? 'a local Apache Kafka broker' : `a local Apache Kafka cluster of ${count} brokers`} (the first start resolves its jars with Maven) ...`);
  // In the foreground: each JVM in its own process group (Ctrl-C on `stinger up` stops the services first, then the
  // brokers, not the brokers under them), and recorded, so `stinger status` and `down` find them as detached ones.
  const broker = await startLocalBrokers(config, logger, { count, detached: detach });
  if (broker.fellBack) out(`port 9092 is in use, so the local broker listens on ${broker.brokers} instead`);
  out(broker.line);
  return { brokers: broker.brokers, owned: broker, localCount: count };
}

/** What `stinger up` started and stops again: the local broker or cluster. */
interface OwnedBroker {
  stop(): Promise<void>;
}

/** Builds the eBPF objects and the native drain helper the agent loads (make: a no-op when current). */
export function buildBpf(logger: Logger): void {
  ensurePrerequisites(BPF_PREREQUISITES, logger);
  const result = spawnSync('npm', ['run', '-s', '-w', '@stinger/bpf', 'build:bpf'], { cwd: REPO_ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0) throw new CliError(`building the eBPF programs failed (npm run -w @stinger/bpf build:bpf exited ${result.status})`);
}

/** Builds the console's page into services/console/web/dist when a source changed (esbuild: a no-op when current). */
function buildConsolePage(): void {
  const result = spawnSync('npm', ['run', '-s', '-w', '@stinger/console-web', 'build:if-stale'], { cwd: REPO_ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0) throw new CliError(`building the console page failed (npm run -w @stinger/console-web build:if-stale exited ${result.status})`);
}

/** Builds what a service needs before it starts from this checkout: the agent's eBPF objects, the console's page. */
export function prepareService(name: ServiceName, logger: Logger): void {
  if (name === 'agent') buildBpf(logger);
  if (name === 'console') buildConsolePage();
}

/** Where a service started by `stinger up` writes its structured log (pino JSON lines). */
export function serviceLogFile(config: StingerConfig, name: ServiceName): string {
  return join(runDir(config), 'logs', `${name}.log`);
}

/**
 * Starts one service with its log in its own file: the terminal stays calm (a short status from `stinger up`, not
 * every service's JSON). In its own process group, foreground or not: Ctrl-C reaches only `stinger up`, which then
 * stops each service with one SIGTERM (in the terminal's group a service would get SIGINT and then that SIGTERM, and
 * take the second signal as "exit now", skipping its graceful shutdown). Recorded, so that `stinger down` finds it
 * should `stinger up` itself die.
 */
function startService(options: UpOptions, name: ServiceName, brokers: string): StartedService {
  const { config, detach } = options;
  const env = serviceEnvironment(config, brokers);
  const logFile = serviceLogFile(config, name);
  mkdirSync(dirname(logFile), { recursive: true });
  const logOffset = fileSize(logFile);
  const log = openSync(logFile, 'a');
  const child = spawn(process.execPath, [serviceEntry(name)], { stdio: ['ignore', log, log], env, detached: true });
  closeSync(log);
  if (detach) child.unref();
  if (child.pid !== undefined) recordService(config, name, child.pid);
  return { name, child, logOffset };
}

/**
 * Tells the terminal, one line each, when a service says it is running (its `<name> running` log line) or exits
 * while `stinger up` runs (naming its log file, with the last error it logged). Once every service runs, keeps the
 * status line; with `logs`, prints each service's log lines as they come. Returns a function that stops all that.
 */
function reportServices(options: UpOptions, started: readonly StartedService[], to: { readonly brokers: string; readonly display: StatusDisplay }): () => Promise<void> {
  const { brokers, display } = to;
  const { config, logger } = options;
  const waiting = new Set(started.map((s) => s.name));
  const exited = new Set<ServiceName>();
  const startedAtMs = Date.now();
  let stopping = false;
  for (const { name, child } of started) {
    child.once('exit', (code, signal) => {
      if (stopping) return;
      waiting.delete(name);
      exited.add(name);
      const lastError = readLogLines(serviceLogFile(config, name)).filter((line) => /"level":(50|60)/.test(line)).at(-1);
      const message = lastError === undefined ? '' : `: ${(JSON.parse(lastError) as { msg?: string }).msg ?? ''}`;
      const how = code === null ? `killed by ${signal}` : `exit code ${code}`;
      display.line(`${name} stopped (${how})${message}; its log: ${serviceLogFile(config, name)}`);
    });
  }

  const follower = options.logs
    ? followLogFiles(
        started.map(({ name, logOffset }) => ({ service: name, file: serviceLogFile(config, name), offset: logOffset })),
        (service, line) => display.line(formatLogLine(service, line, { colour: display.terminal })),
      )
    : null;
  const followTimer = follower ? setInterval(() => follower.poll(), 250) : null;

  // The status line, once every service runs: one refresh at a time, so a slow broker delays the next one.
  const collector = createUpStatusCollector({ brokers, connection: config.kafka, prefix: config.kafka.topicPrefix, sinceMs: startedAtMs, logger });
  let statusTimer: NodeJS.Timeout | null = null;
  let refreshing: Promise<void> = Promise.resolve();
  const refreshStatus = (): void => {
    const running = started.filter(({ child }) => child.exitCode === null && child.signalCode === null).length;
    refreshing = collector
      .collect({ running, started: started.length })
      .then((status) => {
        if (stopping) return;
        display.status(formatUpStatus(status), status.atMs);
        statusTimer = setTimeout(refreshStatus, STATUS_REFRESH_MS);
      });
  };

  const startTimer = setInterval(() => {
    // The log lines written so far first: with --logs, a service's "running" record is printed before "<name>: running".
    follower?.poll();
    for (const name of [...waiting]) {
      if (!readLogLines(serviceLogFile(config, name)).some((line) => line.includes(`"msg":"${name} running"`))) continue;
      waiting.delete(name);
      display.line(`${name}: running`);
    }
    if (waiting.size > 0) return;
    clearInterval(startTimer);
    const logs = `logs in ${join(runDir(config), 'logs')}${options.logs ? '' : ' (`stinger up --logs` prints them as they come)'}`;
    display.line(`${exited.size === 0 ? 'all running' : `${started.length - exited.size} of ${started.length} running`}; ${logs}, \`stinger alerts\` shows alerts`);
    refreshStatus();
  }, 250);

  return async () => {
    stopping = true;
    clearInterval(startTimer);
    if (followTimer) clearInterval(followTimer);
    if (statusTimer) clearTimeout(statusTimer);
    await refreshing;
    display.finish();
    await collector.stop();
  };
}

function readLogLines(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').split('\n');
  } catch {
    return [];
  }
}

/** SIGTERM, and SIGKILL after `timeoutMs`; resolves when the child is gone, with whether it had to be killed. */
function stopChild(child: ChildProcess, timeoutMs: number): Promise<'stopped' | 'killed'> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve('stopped');
  return new Promise((resolve) => {
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(killed ? 'killed' : 'stopped');
    });
    child.kill('SIGTERM');
  });
}

/** Where people open the console; null when the console takes any free port (it logs which). */
function consoleUrl(address: string): string | null {
  return address.endsWith(':0') ? null : `http://${address}`;
}

export async function up(options: UpOptions): Promise<number> {
  const { config, logger, detach, out } = options;
  if (detach && options.logs) throw new CliError('--logs prints the logs of a foreground `stinger up`; with --detach the logs are in files (`stinger up` names them)', 2);
  const already = runningServices(config);
  const { brokers, owned, localCount } = await obtainBroker(options);
  out(await ensureTopics(config, logger, { brokers, localBrokerCount: localCount }));
  if (config.kafka.schemaRegistry !== null) out(await describeRegistryMode(config.kafka.schemaRegistry));
  if (already.length > 0) {
    out(`already up: ${already.map((s) => `${s.name} (pid ${s.pid})`).join(', ')}; run \`stinger down\` first`);
    return 1;
  }
  // Before the services start: the policy-controller signs with this key and the agent trusts its public half.
  const generated = ensureSigningKey(config);
  if (generated !== null) out(generated);

  const isRoot = process.getuid?.() === 0;
  const started: StartedService[] = [];
  for (const name of availableServices()) {
    if (needsRoot(name) && !isRoot) {
      out(`${name}: not started — it loads eBPF programs and needs root (run \`sudo npx stinger up\`)`);
      continue;
    }
    prepareService(name, logger);
    started.push(startService(options, name, brokers));
    out(`${name}: started; log: ${serviceLogFile(config, name)}`);
  }
  if (started.length === 0) out('services: none in this build yet (the broker and topics are up)');
  out(`broker: ${brokers}`);
  if (started.some((s) => s.name === 'console')) {
    const url = consoleUrl(config.console.address);
    out(url === null ? `console: on a free port (STINGER_CONSOLE_ADDRESS=${config.console.address}); its log says which` : `console: ${url}`);
  }
  out(`KAFKA_BROKERS=${brokers}`);

  if (detach) {
    out('running in the background; `stinger down` stops it');
    return 0;
  }
  out('Stinger is up. Press Ctrl-C to stop.');
  const terminal = options.terminal ?? process.stdout.isTTY === true;
  const display = new StatusDisplay({ out, ...(terminal ? { redraw: (text: string) => void process.stdout.write(text), width: () => process.stdout.columns } : {}) });
  const stopReporting = reportServices(options, started, { brokers, display });
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await stopReporting(); // never rejects: the services below are stopped whatever the broker's state
  out('stopping ...');
  await Promise.all(
    started.map(async ({ name, child }) => {
      if ((await stopChild(child, stopTimeoutMs(name))) === 'killed') out(`${name}: killed; it had not stopped ${stopTimeoutMs(name) / 1000} s after SIGTERM`);
    }),
  );
  for (const s of started) forgetService(config, s.name);
  await owned?.stop();
  out('stopped');
  return 0;
}

/**
 * The registry mode's status line, after checking the registry answers: services would otherwise start and fail on
 * their first record, each with its own log line.
 */
async function describeRegistryMode(registry: SchemaRegistryConfig): Promise<string> {
  try {
    const subjects = await createSchemaRegistryClient(registry).subjects();
    return `schema registry: ${registry.url} (${subjects.length} subjects); records are written in its wire format`;
  } catch (error) {
    if (!(error instanceof SchemaRegistryError)) throw error;
    throw new CliError(`${error.message} (STINGER_SCHEMA_REGISTRY_URL; a local one: stinger registry up)`);
  }
}
