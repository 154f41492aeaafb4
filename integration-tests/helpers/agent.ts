/**
 * Runs the real node agent (services/agent) as a child process for integration tests, with its own
 * topic prefix, home and ports so it cannot collide with another test or a running `stinger up`.
 * Needs root (eBPF); builds the BPF objects first (make: a no-op when current).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { processEnvironment } from '@stinger/config';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const AGENT_MAIN = join(REPO_ROOT, 'services/agent/src/main.ts');

export function buildBpf(): void {
  execFileSync('npm', ['run', '-s', '-w', '@stinger/bpf', 'build:bpf'], { cwd: REPO_ROOT, stdio: 'inherit' });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
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
    STINGER_NODE_NAME: options.nodeName ?? 'test-node',
    STINGER_LOG_LEVEL: 'info',
    STINGER_AGENT_GRPC_ADDRESS: `127.0.0.1:${await freePort()}`,
    STINGER_AGENT_METRICS_ADDRESS: `127.0.0.1:${await freePort()}`,
    ...options.extraEnv,
  };
  const child = spawn(process.execPath, ['--disable-warning=TimeoutNegativeWarning', AGENT_MAIN], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const log: string[] = [];
  let pending = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`agent not running after 30 s:\n${log.join('\n')}`)), 30_000);
    child.stderr?.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      log.push(...lines);
      if (lines.some((line) => line.includes('"agent running"'))) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`agent exited with ${code} before running:\n${log.join('\n')}`));
    });
  });
  return {
    child,
    home,
    log,
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(timer);
      rmSync(home, { recursive: true, force: true });
      return code;
    },
  };
}
