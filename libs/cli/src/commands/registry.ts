/**
 * `stinger registry up | down`: a real Apicurio Registry (built once from the Maven registry, cached) on 127.0.0.1,
 * detached, for the registry mode. `up` prints `STINGER_SCHEMA_REGISTRY_URL=<url>` as its last line; with that
 * variable set, `stinger up` and every service write the registry wire format and register their schemas. In-memory
 * storage: `down` forgets every schema, and producers register theirs again on their next start.
 */
import { join } from 'node:path';
import type { StingerConfig } from '@stinger/config';
import type { Logger } from '@stinger/log';
import { readRunningRegistry, startLocalRegistry, stopRunningRegistry } from '@stinger/local-registry';

export function registryDir(config: StingerConfig): string {
  return join(config.home, 'registry');
}

export interface RegistryCommandOptions {
  readonly config: StingerConfig;
  readonly logger: Logger;
  readonly out: (line: string) => void;
}

export async function registryUp(options: RegistryCommandOptions): Promise<number> {
  const { config, logger, out } = options;
  const stateDir = registryDir(config);
  const running = await readRunningRegistry(stateDir);
  if (running) {
    out(`a local registry is already running (pid ${running.pid})`);
    out(`STINGER_SCHEMA_REGISTRY_URL=${running.url}`);
    return 0;
  }
  out('starting Apicurio Registry (the first start builds it with Maven, minutes; later starts use the cache) ...');
  const registry = await startLocalRegistry({ cacheDir: config.cacheDir, dataDir: stateDir, logger, detached: true });
  out(`Apicurio Registry ready in ${(registry.startupMs / 1000).toFixed(1)} s (log: ${registry.logFile})`);
  out(`STINGER_SCHEMA_REGISTRY_URL=${registry.url}`);
  return 0;
}

export async function registryDown(options: Pick<RegistryCommandOptions, 'config' | 'out'>): Promise<number> {
  const stopped = await stopRunningRegistry(registryDir(options.config));
  options.out(stopped ? 'local registry stopped' : 'no local registry was running');
  return 0;
}
