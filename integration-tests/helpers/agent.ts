/**
 * Runs the real node agent (services/agent) as a child process for integration tests, with its own
 * topic prefix, home and ports so it cannot collide with another test or a running `stinger up`.
 * Needs root (eBPF); builds the BPF objects first (make: a no-op when current).
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { processEnvironment } from '@stinger/config';
import { freePort as freeLoopbackPort } from '@stinger/processes';
import { testKeysDir } from './keys.ts';
import { startService } from './service.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export function buildBpf(): void {
  execFileSync('npm', ['run', '-s', '-w', '@stinger/bpf', 'build:bpf'], { cwd: REPO_ROOT, stdio: 'inherit' });
}

/** A free loopback port (ports for services started by tests). */
export function freePort(): Promise<number> {
  return freeLoopbackPort('127.0.0.1');
}

export interface RunningAgent {
  readonly child: ChildProcess;
  readonly home: string;
  /** Everything the agent logged (pino JSON lines on stderr). */
  readonly log: string[];
  /** SIGTERM, wait for exit; resolves with the exit code. */
  stop(): Promise<number | null>;
}

export interface StartAgentOptions {
  readonly brokers: string;
  readonly topicPrefix: string;
  readonly nodeName?: string;
  readonly extraEnv?: Readonly<Record<string, string>>;
}

export async function startAgent(options: StartAgentOptions): Promise<RunningAgent> {
  const home = mkdtempSync(join(tmpdir(), 'stinger-agent-test-'));
  const env = {
    ...processEnvironment(),
    KAFKA_BROKERS: options.brokers,
    STINGER_TOPIC_PREFIX: options.topicPrefix,
    STINGER_HOME: home,
    // The keys `runStinger` signs with: the agent trusts what the test's CLI runs publish.
    STINGER_KEYS_DIR: testKeysDir(),
    STINGER_NODE_NAME: options.nodeName ?? 'test-node',
    STINGER_LOG_LEVEL: 'info',
    STINGER_AGENT_GRPC_ADDRESS: `127.0.0.1:${await freePort()}`,
    STINGER_AGENT_METRICS_ADDRESS: `127.0.0.1:${await freePort()}`,
    ...options.extraEnv,
  };
  const { child, log, running } = startService({ service: 'agent', env, readyMessage: 'agent running', timeoutMs: 30_000 });
  try {
    await running;
  } catch (error) {
    // The caller gets no handle to stop it with: an agent that did not start in time must not stay loaded.
    child.kill('SIGKILL');
    rmSync(home, { recursive: true, force: true });
    throw error;
  }
  return {
    child,
    home,
    log,
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      // As long as the agent's own shutdown may take: detaching its programs can wait on slow RCU grace periods.
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      const code = await exited;
      clearTimeout(timer);
      rmSync(home, { recursive: true, force: true });
      return code;
    },
  };
}
