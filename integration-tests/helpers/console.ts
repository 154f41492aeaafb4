/**
 * Runs the web console (services/console) as a child process for one test's topic prefix, on a free loopback port
 * with its store in a temporary directory, and waits until it serves. Shared by the console's API tests and the
 * front end's browser tests: `url` is the page's base address (no trailing slash); with `token` set, every /api
 * request must carry `Authorization: Bearer <token>` (the page takes it from `?token=`).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processEnvironment } from '@stinger/config';
import { startService, stopService } from './service.ts';

export interface StartConsoleOptions {
  readonly brokers: string;
  readonly topicPrefix: string;
  /** Bearer token the API requires (at least 16 characters); none by default (loopback). */
  readonly token?: string;
  readonly extraEnv?: Readonly<Record<string, string>>;
}

export interface RunningConsole {
  /** e.g. http://127.0.0.1:41234 */
  readonly url: string;
  readonly child: ChildProcess;
  /** Everything the console logged (pino JSON lines). */
  readonly log: string[];
  /** SIGTERM, wait for exit, remove the store; resolves with the exit code. */
  stop(): Promise<number | null>;
}

export async function startConsole(options: StartConsoleOptions): Promise<RunningConsole> {
  const home = mkdtempSync(join(tmpdir(), 'stinger-console-test-'));
  const env: NodeJS.ProcessEnv = {
    ...processEnvironment(),
    KAFKA_BROKERS: options.brokers,
    STINGER_TOPIC_PREFIX: options.topicPrefix,
    STINGER_HOME: home,
    STINGER_NODE_NAME: 'console-test',
    STINGER_LOG_LEVEL: 'info',
    STINGER_CONSOLE_ADDRESS: '127.0.0.1:0',
    STINGER_CONSOLE_TOKEN: options.token ?? '',
    ...options.extraEnv,
  };
  const { child, log, running } = startService({ service: 'console', env, readyMessage: 'console running', timeoutMs: 60_000 });
  try {
    await running;
  } catch (error) {
    rmSync(home, { recursive: true, force: true });
    throw error;
  }
  const line = log.find((l) => l.includes('"msg":"console running"')) ?? '';
  const url = (JSON.parse(line) as { url?: string }).url;
  if (url === undefined) throw new Error(`the console logged no url: ${line}`);
  return {
    url,
    child,
    log,
    async stop() {
      const code = await stopService(child);
      rmSync(home, { recursive: true, force: true });
      return code;
    },
  };
}
