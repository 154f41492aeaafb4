/**
 * Other people's clients of the security topics, ready to run: the Java reader (Kafka client + Apicurio's Avro
 * deserializer, jars resolved by Maven), the Python reader (confluent-kafka + fastavro in a venv) and the Go reader
 * (franz-go + its registry client + hamba/avro, built with the Go module proxy). Their sources
 * are the examples docs/topics.md shows (docs/examples/consume); integration-tests/schema-registry runs them against
 * the pipeline, and `stinger setup` prepares both so CI's test run finds them cached.
 *
 * Contract: each kit lives in the cache folder under a name keyed by the SHA-256 of its dependency file (pom.xml,
 * requirements.txt; the Go reader's sources): a changed file prepares a new kit, an unchanged one returns at once (cached-build.ts).
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '@stinger/log';
import { buildCached, hashFiles, runTool } from './cached-build.ts';

export const CLIENT_EXAMPLES_DIR = fileURLToPath(new URL('../../../docs/examples/consume/', import.meta.url));

export interface JavaReaderKit {
  /** `java -cp <classPath> <source> ...` runs the reader (Java's source-file mode). */
  readonly classPath: string;
  readonly source: string;
  readonly built: boolean;
}

export interface PythonReaderKit {
  /** The venv's interpreter: `<python> <script> ...` runs the reader. */
  readonly python: string;
  readonly script: string;
  readonly built: boolean;
}

export interface GoReaderKit {
  /** The built reader: `<binary> -bootstrap ... -topic ...`. */
  readonly binary: string;
  readonly built: boolean;
}

export interface ClientKitOptions {
  readonly cacheDir: string;
  readonly logger: Logger;
  readonly timeoutMs?: number;
}

export async function prepareJavaReader(options: ClientKitOptions & { readonly mavenCommand?: string }): Promise<JavaReaderKit> {
  const pom = join(CLIENT_EXAMPLES_DIR, 'java', 'pom.xml');
  const key = await hashFiles([pom]);
  const dir = join(options.cacheDir, `java-topic-reader-${key.slice(0, 12)}`);
  const built = await buildCached(dir, key, async (staging) => {
    options.logger.info({ dir }, 'resolving the Java reader\'s jars with mvn');
    await runTool(options.mavenCommand ?? 'mvn', ['-q', '-B', '-Dstyle.color=never', '-f', pom, 'dependency:copy-dependencies', '-DincludeScope=runtime', `-DoutputDirectory=${join(staging, 'lib')}`], {
      timeoutMs: options.timeoutMs ?? 10 * 60_000,
      what: 'resolves the Java reader\'s jars (apt-get install maven)',
    });
  });
  return { classPath: `${join(dir, 'lib')}/*`, source: join(CLIENT_EXAMPLES_DIR, 'java', 'StingerTopicReader.java'), built };
}

export async function preparePythonReader(options: ClientKitOptions & { readonly pythonCommand?: string }): Promise<PythonReaderKit> {
  const requirements = join(CLIENT_EXAMPLES_DIR, 'python', 'requirements.txt');
  const key = await hashFiles([requirements]);
  const dir = join(options.cacheDir, `python-topic-reader-${key.slice(0, 12)}`);
  const timeoutMs = options.timeoutMs ?? 10 * 60_000;
  // Built in place: a venv's scripts name their own path, so it cannot be made elsewhere and moved.
  const built = await buildCached({ dir, inPlace: true }, key, async (venv) => {
    options.logger.info({ dir }, 'installing the Python reader\'s packages into a venv');
    await runTool(options.pythonCommand ?? 'python3', ['-m', 'venv', '--clear', venv], { timeoutMs, what: 'makes the Python reader\'s venv' });
    await runTool(join(venv, 'bin', 'python'), ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '-r', requirements], {
      timeoutMs,
      what: 'installs confluent-kafka and fastavro for the Python reader',
    });
  });
  return { python: join(dir, 'bin', 'python'), script: join(CLIENT_EXAMPLES_DIR, 'python', 'stinger_topic_reader.py'), built };
}

export async function prepareGoReader(options: ClientKitOptions & { readonly goCommand?: string }): Promise<GoReaderKit> {
  const sources = join(CLIENT_EXAMPLES_DIR, 'go');
  const key = await hashFiles(['go.mod', 'go.sum', 'main.go'].map((file) => join(sources, file)));
  const dir = join(options.cacheDir, `go-topic-reader-${key.slice(0, 12)}`);
  const built = await buildCached(dir, key, async (staging) => {
    options.logger.info({ dir }, 'building the Go reader');
    await runTool(options.goCommand ?? 'go', ['build', '-mod=readonly', '-o', join(staging, 'reader'), '.'], {
      timeoutMs: options.timeoutMs ?? 10 * 60_000,
      what: 'builds the Go reader (franz-go, hamba/avro)',
      cwd: sources,
    });
  });
  return { binary: join(dir, 'reader'), built };
}
