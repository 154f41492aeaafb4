/**
 * `stinger images build [SERVICE...]`: one OCI image per service, `stinger/<service>:<version>`, built without a
 * Docker engine (images/image-build.ts) into the cache and copied into podman's local storage. Prints one line per
 * image (reference, manifest digest, compressed size) and where the OCI layout is; a cached build returns in seconds.
 */
import { processEnvironment, type StingerConfig } from '@stinger/config';
import { importIntoNode, normalizedImageName } from '@stinger/dev-cluster';
import type { Logger } from '@stinger/log';
import { CliError } from '../errors.ts';
import { buildImages, ImageBuildError, loadIntoPodman } from '../images/image-build.ts';
import { sourceDateEpoch } from '../images/image-plan.ts';
import { buildKafkaImage } from '../images/kafka-image.ts';
import { ensurePrerequisites, IMAGE_PREREQUISITES } from '../prerequisites.ts';
import { createProgress } from '../progress.ts';
import { availableServices, isServiceName, REPO_ROOT, stingerVersion, type ServiceName } from '../workspace.ts';
import { runningNodeSocket } from './dev-cluster.ts';
import { prepareService } from './up.ts';

export interface ImagesBuildOptions {
  readonly config: StingerConfig;
  readonly logger: Logger;
  /** Services to build; empty: every service of this build. */
  readonly services: readonly string[];
  readonly out: (line: string) => void;
  /** Also import the images into the running dev cluster's node (`stinger dev-cluster up --with-node`). */
  readonly intoNode?: boolean;
}

export async function imagesBuild(options: ImagesBuildOptions): Promise<number> {
  const { config, logger, out } = options;
  const services = selectedServices(options.services);
  if (process.getuid?.() !== 0) throw new CliError('images build must run as root (mmdebstrap and podman\'s storage need it; try: sudo npx stinger images build)');
  ensurePrerequisites(IMAGE_PREREQUISITES, logger);
  const started = Date.now();
  // One time-only progress line per long step (silent when stderr is not a terminal).
  const step: { progress: ReturnType<typeof createProgress> | null } = { progress: null };
  const onStep = (label: string): void => {
    step.progress?.finish();
    step.progress = createProgress({ label, unit: null, total: null });
  };
  try {
    const build = await buildImages({
      repoRoot: REPO_ROOT,
      cacheDir: config.cacheDir,
      version: stingerVersion(),
      epoch: sourceDateEpoch(processEnvironment()['SOURCE_DATE_EPOCH']),
      services,
      prepare: (service) => prepareService(service, logger),
      logger,
      onStep,
    });
    onStep('podman: copying the images into its storage');
    const copied = await loadIntoPodman(build);
    step.progress?.finish();
    step.progress = null;
    for (const image of build.images) {
      out(`${image.reference} ${image.manifestDigest} ${(image.compressedBytes / 1e6).toFixed(1)} MB (own layer ${(image.ownLayerBytes / 1e6).toFixed(1)} MB)${copied.includes(image.reference) ? '' : ', already in podman'}`);
    }
    out(`OCI layout: ${build.layout} (Debian packages: ${build.debianPackagesFile})`);
    if (options.intoNode === true) {
      const began = Date.now();
      const containerdSocket = await runningNodeSocket(config);
      for (const image of build.images) {
        await importIntoNode({ containerdSocket, layout: build.layout, tag: image.tag, name: normalizedImageName(image.reference) });
      }
      out(`imported into the dev cluster's node as ${build.images.map((image) => normalizedImageName(image.reference)).join(', ')} in ${((Date.now() - began) / 1000).toFixed(1)} s`);
    }
    out(`${build.built ? 'built' : 'cached'} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return 0;
  } catch (error) {
    if (error instanceof ImageBuildError) throw new CliError(`images build: ${error.message}`);
    throw error;
  } finally {
    step.progress?.finish();
  }
}

function selectedServices(names: readonly string[]): ServiceName[] {
  const available = availableServices();
  if (names.length === 0) return available;
  for (const name of names) {
    if (!isServiceName(name) || !available.includes(name)) throw new CliError(`images build: no service "${name}" (services: ${available.join(', ')})`, 2);
  }
  return available.filter((name) => names.includes(name));
}

/**
 * `stinger images kafka`: the Apache Kafka image `stinger/kafka:<kafka version>` (images/kafka-image.ts) into the
 * cache and podman's storage, for the three-broker container cluster of the tests. Prints its reference and digest.
 */
export async function imagesKafka(options: Pick<ImagesBuildOptions, 'config' | 'logger' | 'out'>): Promise<number> {
  const { config, logger, out } = options;
  if (process.getuid?.() !== 0) throw new CliError('images kafka must run as root (mmdebstrap and podman\'s storage need it)');
  ensurePrerequisites(IMAGE_PREREQUISITES, logger);
  const started = Date.now();
  try {
    const build = await buildKafkaImage({ cacheDir: config.cacheDir, epoch: sourceDateEpoch(processEnvironment()['SOURCE_DATE_EPOCH']), logger });
    const copied = await loadIntoPodman({ layout: build.layout, images: [build] });
    out(`${build.reference} ${build.configDigest}${copied.length === 0 ? ', already in podman' : ''}`);
    out(`${build.built ? 'built' : 'cached'} in ${((Date.now() - started) / 1000).toFixed(1)} s (OCI layout: ${build.layout})`);
    return 0;
  } catch (error) {
    if (error instanceof ImageBuildError) throw new CliError(`images kafka: ${error.message}`);
    throw error;
  }
}
