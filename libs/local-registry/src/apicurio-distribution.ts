/**
 * The pinned Apicurio Registry as one runnable jar, built from the Maven registry by the machine's `mvn` with the
 * project in ../apicurio (pom.xml: the registry's Quarkus application module + the Quarkus Maven plugin).
 *
 * Contract: `resolveApicurioRegistry({ cacheDir })` returns `<cacheDir>/apicurio-registry-<version>/registry.jar`,
 * complete. The build runs in a copy of ../apicurio in the cache (the repository stays clean); the folder is keyed by
 * the SHA-256 of the project's files (cached-build.ts), so an interrupted build or a changed pom builds again.
 */
import { cp, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '@stinger/log';
import { buildCached, hashFiles, runTool } from './cached-build.ts';
import { LocalRegistryError } from './errors.ts';

/** Must equal `apicurio.version` in ../apicurio/pom.xml (a unit test checks). */
export const APICURIO_VERSION = '2.4.2.Final';

export const APICURIO_PROJECT_DIR = fileURLToPath(new URL('../apicurio/', import.meta.url));
const PROJECT_FILES = ['pom.xml', 'src/main/resources/application.properties'].map((file) => join(APICURIO_PROJECT_DIR, file));

export interface ApicurioRegistryJar {
  readonly version: string;
  readonly jar: string;
  /** True when this call ran Maven, false when the cache was complete. */
  readonly built: boolean;
}

export interface ResolveApicurioOptions {
  /** Shared cache of downloaded tools (callers pass `loadConfig().cacheDir`). */
  readonly cacheDir: string;
  readonly logger: Logger;
  readonly mavenCommand?: string;
  /** A cold ~/.m2 downloads ~150 MB and Quarkus then packages them: minutes on two cores. */
  readonly timeoutMs?: number;
}

/** SHA-256 over the project's files: the cache key beside the version. */
export function apicurioProjectHash(): Promise<string> {
  return hashFiles(PROJECT_FILES);
}

export async function resolveApicurioRegistry(options: ResolveApicurioOptions): Promise<ApicurioRegistryJar> {
  const { cacheDir, logger, mavenCommand = 'mvn', timeoutMs = 20 * 60_000 } = options;
  const dir = join(cacheDir, `apicurio-registry-${APICURIO_VERSION}`);
  const jar = join(dir, 'registry.jar');
  const started = Date.now();
  const built = await buildCached(dir, await apicurioProjectHash(), async (staging) => {
    logger.info({ version: APICURIO_VERSION, jar }, 'building Apicurio Registry with mvn (first time only)');
    const project = join(staging, 'project');
    await cp(APICURIO_PROJECT_DIR, project, { recursive: true });
    await runTool(mavenCommand, ['-q', '-B', '-Dstyle.color=never', '-f', join(project, 'pom.xml'), 'package', '-Dquarkus.package.type=uber-jar'], {
      timeoutMs,
      what: `builds Apicurio Registry ${APICURIO_VERSION} (apt-get install maven)`,
    });
    const target = join(project, 'target');
    const runner = (await readdir(target)).find((name) => name.endsWith('-runner.jar'));
    if (runner === undefined) throw new LocalRegistryError(`mvn finished but ${target} holds no -runner.jar`);
    await rename(join(target, runner), join(staging, 'registry.jar'));
    await rm(project, { recursive: true, force: true });
  });
  if (built) logger.info({ jar, ms: Date.now() - started }, 'Apicurio Registry built');
  return { version: APICURIO_VERSION, jar, built };
}
