/**
 * Whether a Docker engine answers, decided fast and quietly so machines without one (the project's own) lose no
 * time: no socket file means no, at once; otherwise one `GET /_ping` with a short timeout.
 * Looks at DOCKER_HOST (unix:// or tcp://), then the rootless socket in XDG_RUNTIME_DIR, then /var/run/docker.sock.
 */
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { processEnvironment } from '@stinger/config';

export type DockerEndpoint = { readonly socketPath: string } | { readonly host: string; readonly port: number };

/** The endpoint a Docker client would use, or null when none is configured and no socket file exists. */
export function dockerEndpoint(env: Readonly<Record<string, string | undefined>> = processEnvironment()): DockerEndpoint | null {
  const dockerHost = env['DOCKER_HOST'];
  if (dockerHost !== undefined && dockerHost !== '') {
    if (dockerHost.startsWith('unix://')) {
      const socketPath = dockerHost.slice('unix://'.length);
      return existsSync(socketPath) ? { socketPath } : null;
    }
    const tcp = /^tcp:\/\/([^:/]+):(\d+)\/?$/.exec(dockerHost);
    return tcp?.[1] !== undefined ? { host: tcp[1], port: Number(tcp[2]) } : null;
  }
  const runtimeDir = env['XDG_RUNTIME_DIR'];
  for (const socketPath of [runtimeDir ? `${runtimeDir}/docker.sock` : null, '/var/run/docker.sock']) {
    if (socketPath !== null && existsSync(socketPath)) return { socketPath };
  }
  return null;
}

/** True when the engine at `endpoint` (default: `dockerEndpoint()`) answers `_ping` with OK within `timeoutMs`. */
export async function dockerEngineAnswers(endpoint: DockerEndpoint | null = dockerEndpoint(), timeoutMs = 800): Promise<boolean> {
  if (endpoint === null) return false;
  return new Promise((resolve) => {
    const req = request({ ...endpoint, path: '/_ping', method: 'GET', timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve(res.statusCode === 200 && body.trim() === 'OK'));
      res.on('error', () => resolve(false));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(false));
    req.end();
  });
}
