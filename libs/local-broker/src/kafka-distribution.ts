/**
 * The pinned Apache Kafka, as a directory of jars resolved from the Maven registry by the machine's `mvn`, using
 * the pom.xml beside this library's src/ (kafka_2.13 + kafka-tools + the log4j2 SLF4J binding, runtime scope).
 *
 * Contract: `resolveKafkaDistribution({ cacheDir })` returns `<cacheDir>/kafka-<version>/libs`, complete. A marker
 * file holding the pom's SHA-256 is written last, so a run that was interrupted, or a changed pom, resolves again.
 * Concurrent resolutions (parallel test processes) each download into their own temporary folder and the first to
 * finish renames it into place; the others discard theirs.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { Logger } from '@stinger/log';
import { MavenResolveError } from './errors.ts';

/** Must equal `kafka.version` in ../pom.xml (a unit test checks). */
export const KAFKA_VERSION = '4.1.1';

export const KAFKA_POM_PATH = fileURLToPath(new URL('../pom.xml', import.meta.url));

export interface KafkaDistribution {
  readonly version: string;
  /** Folder holding every runtime jar; the JVM class path is `<libsDir>/*`. */
  readonly libsDir: string;
  /** True when this call ran Maven, false when the cache was already complete. */
  readonly resolved: boolean;
}

export interface ResolveKafkaOptions {
  /** Shared cache of downloaded tools (callers pass `loadConfig().cacheDir`). */
  readonly cacheDir: string;
  readonly logger: Logger;
  readonly mavenCommand?: string;
  /** Upper bound for the Maven run; a cold ~/.m2 downloads ~54 MB. */
  readonly timeoutMs?: number;
}

const MARKER = '.resolved';

export async function resolveKafkaDistribution(options: ResolveKafkaOptions): Promise<KafkaDistribution> {
  const { cacheDir, logger, mavenCommand = 'mvn', timeoutMs = 10 * 60_000 } = options;
  const home = join(cacheDir, `kafka-${KAFKA_VERSION}`);
  const libsDir = join(home, 'libs');
  const pom = await readFile(KAFKA_POM_PATH);
  const pomHash = createHash('sha256').update(pom).digest('hex');
  const marker = join(home, MARKER);
  if ((await readFile(marker, 'utf8').catch(() => '')).trim() === pomHash) {
    return { version: KAFKA_VERSION, libsDir, resolved: false };
  }

  const staging = join(home, `libs.partial-${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(staging, { recursive: true });
  const started = Date.now();
  logger.info({ version: KAFKA_VERSION, libsDir }, 'resolving Kafka jars with mvn');
  try {
    await runMaven(mavenCommand, [
      '-q',
      '-B',
      '-Dstyle.color=never',
      '-f',
      KAFKA_POM_PATH,
      'dependency:copy-dependencies',
      '-DincludeScope=runtime',
      `-DoutputDirectory=${staging}`,
    ], timeoutMs);
    const jars = (await readdir(staging)).filter((name) => name.endsWith('.jar'));
    if (!jars.some((name) => name.startsWith(`kafka_2.13-${KAFKA_VERSION}`))) {
      throw new MavenResolveError(`mvn finished but ${staging} holds no kafka_2.13-${KAFKA_VERSION}.jar`);
    }
    // Another process may have completed meanwhile: its marker wins and our copy is dropped.
    if ((await readFile(marker, 'utf8').catch(() => '')).trim() !== pomHash) {
      await rm(marker, { force: true });
      await rm(libsDir, { recursive: true, force: true });
      try {
        await rename(staging, libsDir);
      } catch (error) {
        // Another process renamed its complete copy into place between our rm and rename: keep that one.
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
      }
      await writeFile(marker, `${pomHash}\n`);
    }
    logger.info({ jars: jars.length, ms: Date.now() - started }, 'Kafka jars resolved');
    return { version: KAFKA_VERSION, libsDir, resolved: true };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

function runMaven(command: string, args: readonly string[], timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (!error) {
        resolve();
        return;
      }
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        reject(new MavenResolveError(`"${command}" was not found on PATH; it resolves the Kafka jars (apt-get install maven)`, { cause: error }));
        return;
      }
      const output = tailLines(`${stdout}${stderr}`, 30);
      const timedOut = error.killed === true;
      reject(
        new MavenResolveError(
          timedOut ? `mvn did not finish resolving Kafka ${KAFKA_VERSION} within ${timeoutMs} ms` : `mvn could not resolve Kafka ${KAFKA_VERSION}`,
          { retriable: true, cause: error, output },
        ),
      );
    });
  });
}

export function tailLines(text: string, count: number): string {
  return text.trimEnd().split('\n').slice(-count).join('\n');
}
