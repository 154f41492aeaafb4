/**
 * `stinger up [--detach]`: the whole pipeline on this machine — a local Kafka broker (unless
 * KAFKA_BROKERS names one), the topics, a signing key when STINGER_KEYS_DIR has none, and every
 * service this build has. Prints
 * `KAFKA_BROKERS=<host:port>` on stdout so other tools can reach the broker. In the foreground,
 * Ctrl-C (SIGINT) or SIGTERM stops everything it started; with --detach, `stinger down` does.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { StingerConfig } from '@stinger/config';
import { bootstrapTopics, createKafkaClient } from '@stinger/kafka';
import { readRunningBroker, startLocalBroker, type LocalBroker } from '@stinger/local-broker';
import type { Logger } from '@stinger/log';
import { spawnSync } from 'node:child_process';
import { BPF_PREREQUISITES, BROKER_PREREQUISITES, ensurePrerequisites } from '../prerequisites.ts';
import { CliError } from '../errors.ts';
import { brokerDataDir, forgetService, recordService, runDir, runningServices } from '../run-state.ts';
import { availableServices, needsRoot, REPO_ROOT, serviceEntry, type ServiceName } from '../workspace.ts';
import { ensureSigningKey } from './keys.ts';
import { serviceEnvironment } from './service.ts';

export interface UpOptions {
  readonly config: StingerConfig;
  readonly logger: Logger;
  readonly detach: boolean;
  readonly out: (line: string) => void;
}

interface StartedService {
  readonly name: ServiceName;
  readonly child: ChildProcess;
}

async function obtainBroker(options: UpOptions): Promise<{ brokers: string; owned: LocalBroker | null }> {
  const { config, logger, detach, out } = options;
  if (config.kafka.brokers) {
    out(`using the Kafka brokers in KAFKA_BROKERS: ${config.kafka.brokers.join(',')}`);
    return { brokers: config.kafka.brokers.join(','), owned: null };
  }
  const running = await readRunningBroker(runDir(config));
  if (running) {
    out(`a local broker is already running (pid ${running.pid}) on ${running.brokers}`);
    return { brokers: running.brokers, owned: null };
  }
  ensurePrerequisites(BROKER_PREREQUISITES, logger);
  out('starting a local Apache Kafka broker (the first start resolves its jars with Maven) ...');
  const broker = await startLocalBroker({
    cacheDir: config.cacheDir,
    dataDir: brokerDataDir(config),
    stateDir: runDir(config),
    detached: detach,
    logger,
  });
  if (broker.portFellBack) out(`port 9092 is in use, so the local broker listens on ${broker.brokers} instead`);
  out(`local broker ready on ${broker.brokers} in ${(broker.startupMs / 1000).toFixed(1)} s (log: ${broker.logFile})`);
  return { brokers: broker.brokers, owned: broker };
}

/** Builds the eBPF objects and the native drain helper the agent loads (make: a no-op when current). */
export function buildBpf(logger: Logger): void {
  ensurePrerequisites(BPF_PREREQUISITES, logger);
  const result = spawnSync('npm', ['run', '-s', '-w', '@stinger/bpf', 'build:bpf'], { cwd: REPO_ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0) throw new CliError(`building the eBPF programs failed (npm run -w @stinger/bpf build:bpf exited ${result.status})`);
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
  const log = openSync(logFile, 'a');
  const child = spawn(process.execPath, [serviceEntry(name)], { stdio: ['ignore', log, log], env, detached: true });
  closeSync(log);
  if (detach) child.unref();
  if (child.pid !== undefined) recordService(config, name, child.pid);
  return { name, child };
}

/**
 * Tells the terminal, one line each, when a service says it is running (its `<name> running` log line) or exits
 * while `stinger up` runs (with the last error of its log). Returns a function that stops watching.
 */
function reportServices(config: StingerConfig, started: readonly StartedService[], out: (line: string) => void): () => void {
  const waiting = new Set(started.map((s) => s.name));
  let stopping = false;
  for (const { name, child } of started) {
    child.once('exit', (code, signal) => {
      if (stopping) return;
      const lastError = readLogLines(serviceLogFile(config, name)).filter((line) => /"level":(50|60)/.test(line)).at(-1);
      const message = lastError === undefined ? '' : `: ${(JSON.parse(lastError) as { msg?: string }).msg ?? ''}`;
      out(`${name}: exited (${code ?? signal})${message}; log: ${serviceLogFile(config, name)}`);
    });
  }
  const timer = setInterval(() => {
    for (const name of [...waiting]) {
      if (!readLogLines(serviceLogFile(config, name)).some((line) => line.includes(`"msg":"${name} running"`))) continue;
      waiting.delete(name);
      out(`${name}: running`);
    }
    if (waiting.size === 0) {
      clearInterval(timer);
      out(`all running; logs in ${join(runDir(config), 'logs')}, \`stinger alerts\` shows alerts as they come`);
    }
  }, 250);
  return () => {
    stopping = true;
    clearInterval(timer);
  };
}

function readLogLines(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').split('\n');
  } catch {
    return [];
  }
}

function stopChild(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export async function up(options: UpOptions): Promise<number> {
  const { config, logger, detach, out } = options;
  const already = runningServices(config);
  const { brokers, owned } = await obtainBroker(options);
  const client = createKafkaClient({ brokers: brokers.split(','), clientId: 'stinger-cli', logger });
  const topics = await bootstrapTopics({ client, prefix: config.kafka.topicPrefix });
  out(`topics: ${topics.created.length} created, ${topics.existing.length} already there`);
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
    if (name === 'agent') buildBpf(logger);
    started.push(startService(options, name, brokers));
    out(`${name}: started`);
  }
  if (started.length === 0) out('services: none in this build yet (the broker and topics are up)');
  out(`KAFKA_BROKERS=${brokers}`);

  if (detach) {
    out('running in the background; `stinger down` stops it');
    return 0;
  }
  out('Stinger is up. Press Ctrl-C to stop.');
  const stopReporting = reportServices(config, started, out);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  stopReporting();
  out('stopping ...');
  await Promise.all(started.map((s) => stopChild(s.child, 10_000)));
  for (const s of started) forgetService(config, s.name);
  await owned?.stop();
  out('stopped');
  return 0;
}
