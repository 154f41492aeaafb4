/**
 * The dev cluster's processes (etcd, kube-apiserver, and with a node containerd, kubelet, kube-controller-manager,
 * kube-scheduler): launched with their output appended to a log file, stopped SIGTERM-then-SIGKILL, and waited on
 * until a readiness probe passes or the process exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@stinger/log';
import { settlesWithin } from '@stinger/processes';
import { DevClusterError, DevClusterStopError, type DevClusterComponent } from './errors.ts';

export interface LaunchOptions {
  readonly component: DevClusterComponent;
  readonly binary: string;
  readonly args: readonly string[];
  readonly logFile: string;
  readonly cwd: string;
  readonly detached: boolean;
  readonly stopTimeoutMs: number;
  readonly logger: Logger;
}

export interface Launched {
  readonly pid: number;
  readonly hasExited: () => boolean;
  /** SIGTERM, SIGKILL after stopTimeoutMs; resolves once the process is gone. Idempotent. */
  readonly stop: () => Promise<void>;
}

export function launch(options: LaunchOptions): Launched {
  const { component, binary, args, logFile, cwd, detached, stopTimeoutMs, logger } = options;
  const logFd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(binary, args, { cwd, detached, stdio: ['ignore', logFd, logFd] });
  } finally {
    closeSync(logFd);
  }
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  // A spawn failure (ENOENT, EACCES) arrives as 'error' followed by no 'exit': count it as exited.
  let spawnError: Error | null = null;
  child.once('error', (error) => {
    spawnError = error;
  });
  const hasExited = (): boolean => spawnError !== null || child.exitCode !== null || child.signalCode !== null;
  const killOnExit = (): void => {
    if (!hasExited()) child.kill('SIGKILL');
  };
  if (detached) child.unref();
  else process.once('exit', killOnExit);
  const pid = child.pid ?? -1;
  logger.info({ component, pid, detached }, `${component} launched`);

  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (!hasExited()) {
        child.kill('SIGTERM');
        if (!(await settlesWithin(exited, stopTimeoutMs))) {
          logger.warn({ component, pid, stopTimeoutMs }, `${component} ignored SIGTERM; sending SIGKILL`);
          child.kill('SIGKILL');
          if (!(await settlesWithin(exited, 10_000))) {
            throw new DevClusterStopError(`${component} pid ${pid} did not exit after SIGKILL`, { component, pid });
          }
        }
      }
      process.removeListener('exit', killOnExit);
    })();
    return stopping;
  };
  return { pid, hasExited, stop };
}

export interface WaitOptions {
  readonly component: DevClusterComponent;
  readonly hasExited: () => boolean;
  readonly timeoutMs: number;
  /** Resolves null when ready, else a reason; may reject (connection refused while starting). */
  readonly probe: () => Promise<string | null>;
}

export async function waitUntil(options: WaitOptions): Promise<void> {
  const { component, hasExited, timeoutMs, probe } = options;
  const deadline = Date.now() + timeoutMs;
  let last = 'no attempt yet';
  for (;;) {
    if (hasExited()) throw new DevClusterError(`${component} exited before it was ready (last: ${last})`);
    try {
      const reason = await probe();
      if (reason === null) return;
      last = reason;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() >= deadline) {
      throw new DevClusterError(`${component} was not ready within ${timeoutMs} ms (last: ${last})`, { retriable: true });
    }
    await sleep(250);
  }
}
