/**
 * Podman's Docker-compatible API on a unix socket of the caller's, for testcontainers where no Docker engine runs (the
 * project's machines). `startPodmanService({ dir })` writes a containers.conf (runtime runc: crun fails here without
 * CAP_SYS_RESOURCE, for the same reason `default_ulimits = []`), starts `podman system service --time=0` on
 * `<dir>/podman.sock` and resolves once `_ping` answers; `stop()` ends the service (containers it ran are the caller's
 * to remove first). Needs root (podman's root storage holds the locally built images).
 */
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { processEnvironment } from '@stinger/config';
import { settlesWithin } from '@stinger/processes';
import { dockerEngineAnswers } from './docker-engine.ts';

export interface PodmanService {
  /** `unix://<dir>/podman.sock`: what DOCKER_HOST should say. */
  readonly dockerHost: string;
  /** The containers.conf the service runs with (podman commands beside it should use it too: CONTAINERS_CONF). */
  readonly containersConf: string;
  stop(): Promise<void>;
}

export interface StartPodmanServiceOptions {
  /** A folder of the caller's for the socket and containers.conf. */
  readonly dir: string;
  readonly startTimeoutMs?: number;
}

export const PODMAN_CONTAINERS_CONF = '[containers]\ndefault_ulimits = []\n\n[engine]\nruntime = "runc"\n';

export async function startPodmanService(options: StartPodmanServiceOptions): Promise<PodmanService> {
  const socketPath = join(options.dir, 'podman.sock');
  const containersConf = join(options.dir, 'containers.conf');
  await writeFile(containersConf, PODMAN_CONTAINERS_CONF);
  const child = spawn('podman', ['system', 'service', '--time=0', `unix://${socketPath}`], {
    env: { ...processEnvironment(), CONTAINERS_CONF: containersConf },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4096)));
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  child.once('error', (error) => (stderr += `\n${error.message}`));
  const deadline = Date.now() + (options.startTimeoutMs ?? 20_000);
  while (!(await dockerEngineAnswers({ socketPath }, 1000))) {
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`podman system service did not answer on ${socketPath}: ${stderr.trim() || 'no output'}`);
    }
    await sleep(100);
  }
  return {
    dockerHost: `unix://${socketPath}`,
    containersConf,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      if (!(await settlesWithin(exited, 10_000))) child.kill('SIGKILL');
    },
  };
}
