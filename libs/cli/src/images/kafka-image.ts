/**
 * `stinger images kafka`: an Apache Kafka image, `stinger/kafka:<KAFKA_VERSION>`, built without a Docker engine or a
 * registry from what this machine already has: the Kafka jars the local broker resolved with Maven
 * (`<cacheDir>/kafka-<version>/libs`) and Debian's Java runtime, extracted by mmdebstrap as `stinger images build`
 * extracts its base layer (image-build.ts's tools and conventions). The test fixture of libs/testing runs it as
 * the brokers of a three-node cluster through testcontainers on podman.
 *
 * Layers: (1) `openjdk-17-jre-headless` and `dash` with their dependencies (extracted, never configured: no dpkg or
 * apt), (2) `/opt/kafka`: the jars, a log4j2 configuration (INFO to stdout, so `podman logs` and testcontainers'
 * log wait see the broker) and the entrypoint script below.
 *
 * Running it: the server.properties at `$KAFKA_CONFIG` (default /etc/kafka/server.properties, which the caller copies
 * in) and `KAFKA_CLUSTER_ID` (every node of a cluster the same). The entrypoint formats the log directory once
 * (`--ignore-formatted`: a restarted container keeps its data) and execs the JVM, so the broker is the container's
 * PID 1 and a container kill is a kill -9 of the broker.
 *
 * Cache: `<cacheDir>/kafka-image/<kafka version>-<key>/` (an OCI layout, `image.json`, `.built` written last), keyed
 * by the recipe, the jars (names and sizes), the Debian sources and release, and SOURCE_DATE_EPOCH; other builds in
 * that folder are deleted after a build. A cached build only copies the image into podman if podman lacks it.
 */
import { copyFile, chmod, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { processEnvironment } from '@stinger/config';
import { KAFKA_VERSION, resolveKafkaDistribution } from '@stinger/local-broker';
import type { Logger } from '@stinger/log';
import { debianCodename, debianSourcesFiles, exists, packDirectory, ROOTFS_REMOVALS, run } from './image-build.ts';
import { hashParts, rfc3339 } from './image-plan.ts';

/** Changes whenever the recipe changes in a way the hashed inputs cannot see. */
export const KAFKA_IMAGE_RECIPE_VERSION = 1;
export const KAFKA_IMAGE_PACKAGES = ['openjdk-17-jre-headless', 'dash'] as const;
const KAFKA_HOME = '/opt/kafka';
const JAVA_HOME = '/usr/lib/jvm/java-17-openjdk-amd64';
/** Where the caller puts the broker's configuration (testcontainers copies it in before the start). */
export const KAFKA_IMAGE_CONFIG_PATH = '/etc/kafka/server.properties';
/** A log directory inside the container for server.properties' log.dirs (kept across a restart of the container). */
export const KAFKA_IMAGE_DATA_DIR = '/var/lib/kafka/data';

export function kafkaImageReference(version: string = KAFKA_VERSION): string {
  return `stinger/kafka:${version}`;
}

const ENTRYPOINT_SCRIPT = `# stinger/kafka entrypoint: format the KRaft log directory once, then run the broker as this process.
set -eu
: "\${KAFKA_CLUSTER_ID:?must be the cluster id every node of the cluster is formatted with}"
config="\${KAFKA_CONFIG:-${KAFKA_IMAGE_CONFIG_PATH}}"
log4j="-Dlog4j2.configurationFile=${KAFKA_HOME}/config/log4j2.properties"
java -Xmx128m "$log4j" -cp '${KAFKA_HOME}/libs/*' kafka.tools.StorageTool format --ignore-formatted -c "$config" -t "$KAFKA_CLUSTER_ID"
exec java \${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m} -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true "$log4j" -cp '${KAFKA_HOME}/libs/*' kafka.Kafka "$config"
`;

const LOG4J_CONFIG = [
  'status = warn',
  'appender.stdout.type = Console',
  'appender.stdout.name = stdout',
  'appender.stdout.layout.type = PatternLayout',
  'appender.stdout.layout.pattern = [%d] %p %m (%c)%n',
  'rootLogger.level = info',
  'rootLogger.appenderRef.stdout.ref = stdout',
  'logger.request.name = kafka.request.logger',
  'logger.request.level = warn',
  '',
].join('\n');

export interface BuildKafkaImageOptions {
  readonly cacheDir: string;
  /** SOURCE_DATE_EPOCH: every mtime and the created time. */
  readonly epoch: number;
  readonly logger: Logger;
  readonly onStep?: (label: string) => void;
}

export interface KafkaImageBuild {
  readonly dir: string;
  readonly layout: string;
  readonly reference: string;
  readonly tag: string;
  readonly configDigest: string;
  readonly built: boolean;
}

const MARKER = '.built';
const SUMMARY = 'image.json';

/** Builds the image, or finds it in the cache; see the file comment. Needs root (mmdebstrap). */
export async function buildKafkaImage(options: BuildKafkaImageOptions): Promise<KafkaImageBuild> {
  const { cacheDir, epoch, logger } = options;
  const distribution = await resolveKafkaDistribution({ cacheDir, logger });
  const jars = (await readdir(distribution.libsDir)).filter((name) => name.endsWith('.jar')).sort();
  const aptSources = await debianSourcesFiles();
  const codename = await debianCodename();
  const key = hashParts([
    ['recipe', String(KAFKA_IMAGE_RECIPE_VERSION)],
    ['kafka', KAFKA_VERSION],
    ['epoch', String(epoch)],
    ['packages', KAFKA_IMAGE_PACKAGES.join(',')],
    ['codename', codename],
    ['entrypoint', ENTRYPOINT_SCRIPT],
    ['log4j', LOG4J_CONFIG],
    ...(await Promise.all(aptSources.map(async (file) => [file, await readFile(file)] as const))),
    ...(await Promise.all(jars.map(async (jar) => [jar, String((await stat(join(distribution.libsDir, jar))).size)] as const))),
  ]);
  const root = join(cacheDir, 'kafka-image');
  const dirName = `${KAFKA_VERSION}-${key.slice(0, 16)}`;
  const dir = join(root, dirName);
  const layout = join(dir, 'oci');
  const reference = kafkaImageReference();
  const tag = 'kafka';
  if (await exists(join(dir, MARKER))) {
    const summary = JSON.parse(await readFile(join(dir, SUMMARY), 'utf8')) as { configDigest: string };
    return { dir, layout, reference, tag, configDigest: summary.configDigest, built: false };
  }
  await mkdir(root, { recursive: true });
  const work = await mkdtemp(join(root, 'work-'));
  try {
    options.onStep?.('Kafka image: Java runtime layer (mmdebstrap)');
    const rootfs = join(work, 'jre');
    logger.info({ packages: KAFKA_IMAGE_PACKAGES, codename }, 'mmdebstrap: extracting the Java runtime');
    await run('mmdebstrap', ['--quiet', '--variant=extract', `--include=${KAFKA_IMAGE_PACKAGES.join(',')}`, codename, rootfs, ...aptSources], {
      env: { ...processEnvironment(), SOURCE_DATE_EPOCH: String(epoch) },
    });
    for (const path of ROOTFS_REMOVALS) await rm(join(rootfs, path), { recursive: true, force: true });
    await mkdir(join(rootfs, 'dev'));
    await mkdir(join(rootfs, 'tmp'), { recursive: true });
    await chmod(join(rootfs, 'tmp'), 0o1777);
    await writeFile(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/usr/sbin/nologin\n');
    await writeFile(join(rootfs, 'etc/group'), 'root:x:0:\n');
    const jreLayer = join(work, 'jre.tar');
    await packDirectory(rootfs, jreLayer, epoch);

    options.onStep?.('Kafka image: Kafka layer');
    const kafka = join(work, 'kafka');
    const home = join(kafka, KAFKA_HOME.slice(1));
    await mkdir(join(home, 'libs'), { recursive: true });
    await mkdir(join(home, 'config'), { recursive: true });
    await mkdir(join(home, 'bin'), { recursive: true });
    await mkdir(join(kafka, KAFKA_IMAGE_DATA_DIR.slice(1)), { recursive: true });
    await mkdir(join(kafka, 'etc/kafka'), { recursive: true });
    for (const jar of jars) await copyFile(join(distribution.libsDir, jar), join(home, 'libs', jar));
    await writeFile(join(home, 'config/log4j2.properties'), LOG4J_CONFIG);
    await writeFile(join(home, 'bin/start'), ENTRYPOINT_SCRIPT, { mode: 0o755 });
    const kafkaLayer = join(work, 'kafka.tar');
    await packDirectory(kafka, kafkaLayer, epoch);

    options.onStep?.('Kafka image: OCI layout (umoci)');
    const partial = join(work, 'oci');
    const image = `${partial}:${tag}`;
    const created = rfc3339(epoch);
    await run('umoci', ['init', `--layout=${partial}`]);
    await run('umoci', ['new', `--image=${image}`]);
    for (const [name, tar] of [['Java runtime', jreLayer], ['Kafka', kafkaLayer]] as const) {
      await run('umoci', ['raw', 'add-layer', `--image=${image}`, `--history.created=${created}`, `--history.created_by=stinger images kafka: ${name} layer`, tar]);
    }
    await run('umoci', [
      'config',
      `--image=${image}`,
      '--config.user=0:0',
      `--config.workingdir=${KAFKA_HOME}`,
      '--config.entrypoint=/bin/dash',
      `--config.entrypoint=${KAFKA_HOME}/bin/start`,
      '--clear=config.env',
      `--config.env=PATH=${JAVA_HOME}/bin:/usr/bin:/bin`,
      `--config.env=JAVA_HOME=${JAVA_HOME}`,
      `--config.env=KAFKA_CONFIG=${KAFKA_IMAGE_CONFIG_PATH}`,
      `--config.label=org.opencontainers.image.title=stinger-kafka`,
      `--config.label=org.opencontainers.image.version=${KAFKA_VERSION}`,
      `--created=${created}`,
      '--author=stinger images kafka',
      '--os=linux',
      '--architecture=amd64',
      '--no-history',
    ]);
    await run('umoci', ['gc', `--layout=${partial}`]);
    const configDigest = await configDigestOf(partial, tag);
    const partialDir = join(work, 'done');
    await mkdir(partialDir);
    await rename(partial, join(partialDir, 'oci'));
    await writeFile(join(partialDir, SUMMARY), `${JSON.stringify({ reference, configDigest }, null, 2)}\n`);
    await rm(dir, { recursive: true, force: true });
    await rename(partialDir, dir);
    await writeFile(join(dir, MARKER), `${key}\n`);
    for (const name of await readdir(root)) {
      if (name !== dirName && !name.startsWith('work-')) await rm(join(root, name), { recursive: true, force: true });
    }
    return { dir, layout, reference, tag, configDigest, built: true };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function configDigestOf(layout: string, tag: string): Promise<string> {
  const blob = async <T>(digest: string): Promise<T> => JSON.parse(await readFile(join(layout, 'blobs', ...digest.split(':')), 'utf8')) as T;
  const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as { manifests: { digest: string; annotations?: Record<string, string> }[] };
  const entry = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
  if (entry === undefined) throw new Error(`the OCI layout ${layout} has no tag ${tag}`);
  return (await blob<{ config: { digest: string } }>(entry.digest)).config.digest;
}
