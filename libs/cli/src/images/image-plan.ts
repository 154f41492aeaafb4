/**
 * What the container images of `stinger images build` are made of, as data and pure functions (image-build.ts runs
 * the tools). Every image is `stinger/<service>:<version>` and has the same three shared layers, then one of its own:
 *
 *   1. debian    — a minimal Debian root file system extracted by mmdebstrap from images/debian-packages.txt (no
 *                  shell, no dpkg, no apt), plus Node.js 24 from the npm registry package (debug info stripped)
 *   2. modules   — the workspace's production node_modules (`npm ci --omit=dev --ignore-scripts`)
 *   3. workspace — the root package.json and libs/ (tests left out)
 *   4. service   — services/<name>; the agent adds the eBPF objects and the native helper built by this build
 *                  (clang runs at build time, never in the image), the console its built page
 *
 * Layers are tars with sorted entries, every mtime set to SOURCE_DATE_EPOCH and owner 0:0, so the same inputs give
 * the same layer digests. Every service but the agent runs as uid 65532; the agent runs as root (it loads eBPF).
 */
import { createHash } from 'node:crypto';
import type { ServiceName } from '../workspace.ts';

/** Changes whenever the recipe below changes in a way the input hashes cannot see (it is hashed into every key). */
export const IMAGE_RECIPE_VERSION = 2;

/** The uid and gid of every service but the agent (distroless's "nonroot"). */
export const NONROOT_ID = 65532;
/** Where the workspace lives in an image. */
export const APP_DIR = '/app';
/** HOME and STINGER_HOME of a service in an image: world-writable with the sticky bit, like /tmp. */
export const STATE_DIR = '/var/lib/stinger';
export const NODE_PATH = '/usr/local/bin/node';
/** The Debian package versions of the base layer, inside every image. */
export const PACKAGES_FILE_IN_IMAGE = '/usr/share/stinger/debian-packages.txt';

export type LayerName = 'debian' | 'modules' | 'workspace' | ServiceName;

export interface ServiceImage {
  readonly service: ServiceName;
  /** `stinger/<service>:<version>` (podman stores it as localhost/stinger/<service>:<version>). */
  readonly reference: string;
  /** The tag inside the OCI layout. */
  readonly tag: string;
  /** `uid:gid` the entrypoint runs as. */
  readonly user: string;
  readonly entrypoint: readonly string[];
  readonly env: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
  /**
   * Workspace-relative paths of the service layer: files or folders, copied to the same path under APP_DIR.
   * Those in `builtPaths` are build outputs (made by this build before the layer is packed), the rest are sources.
   */
  readonly layerPaths: readonly string[];
  readonly builtPaths: readonly string[];
}

export function imageReference(service: ServiceName, version: string): string {
  return `stinger/${service}:${version}`;
}

/** The image of one service at `version`; `created` is the RFC 3339 form of SOURCE_DATE_EPOCH. */
export function serviceImage(service: ServiceName, version: string, created: string): ServiceImage {
  const main = `services/${service}/src/main.ts`;
  const builtPaths = builtPathsOf(service);
  return {
    service,
    reference: imageReference(service, version),
    tag: service,
    user: service === 'agent' ? '0:0' : `${NONROOT_ID}:${NONROOT_ID}`,
    // The flag matches childNodeOptions (workspace.ts): kafkajs 2.2.4's negative timeouts are not worth a warning.
    entrypoint: [NODE_PATH, '--disable-warning=TimeoutNegativeWarning', `${APP_DIR}/${main}`],
    env: ['PATH=/usr/local/bin:/usr/bin:/bin', 'NODE_ENV=production', `HOME=${STATE_DIR}`, `STINGER_HOME=${STATE_DIR}`],
    labels: {
      'org.opencontainers.image.title': `stinger-${service}`,
      'org.opencontainers.image.version': version,
      'org.opencontainers.image.created': created,
      'org.opencontainers.image.licenses': 'Apache-2.0',
    },
    layerPaths: [`services/${service}/package.json`, `services/${service}/src`, ...builtPaths],
    builtPaths,
  };
}

function builtPathsOf(service: ServiceName): string[] {
  switch (service) {
    case 'agent':
      return ['bpf/build', 'libs/bpf/build'];
    case 'console':
      return ['services/console/web/package.json', 'services/console/web/dist'];
    case 'policy-controller':
    case 'enricher':
    case 'detector':
    case 'enforcer':
      return [];
  }
}

/**
 * Which workspace files (repository-relative, as `git ls-files` prints them) go into the workspace layer and which
 * are inputs of the service layer of `service` (its sources and the sources of what is built for it). Tests stay out
 * of the images; they change the hashes all the same, which costs a rebuild, never a stale image.
 */
export function isWorkspaceLayerFile(path: string): boolean {
  if (path.endsWith('.test.ts')) return false;
  if (path === 'package.json') return true;
  return path.startsWith('libs/') && !path.includes('/node_modules/');
}

export function serviceInputPrefixes(service: ServiceName): string[] {
  switch (service) {
    case 'agent':
      return ['services/agent/', 'bpf/', 'libs/bpf/native/'];
    case 'console':
      return ['services/console/'];
    case 'policy-controller':
    case 'enricher':
    case 'detector':
    case 'enforcer':
      return [`services/${service}/`];
  }
}

/**
 * The files whose content decides npm's production install: the lock, the root package.json and the package.json of
 * every workspace package the lock knows (`lockText`'s `packages` keys such as "libs/kafka"). A package added to the
 * tree but not yet to the lock is left out rather than failing `npm ci`; its files still go into the images.
 */
export function modulesInputFilter(lockText: string): (path: string) => boolean {
  const lock = JSON.parse(lockText) as { packages?: Record<string, unknown> };
  const workspaces = new Set(Object.keys(lock.packages ?? {}).filter((key) => key !== '' && !key.includes('node_modules/')));
  return (path) => path === 'package-lock.json' || path === 'package.json' || (path.endsWith('/package.json') && workspaces.has(path.slice(0, -'/package.json'.length)));
}

/** `images/debian-packages.txt`'s package names (comments and blank lines dropped), in file order. */
export function parseDebianPackageList(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.replace(/#.*/, '').trim())
    .filter((line) => line !== '');
}

export interface DebianPackage {
  readonly name: string;
  readonly version: string;
  readonly architecture: string;
}

/**
 * The packages apt downloaded, from the names of its archives (`<name>_<version>_<arch>.deb`, with the epoch's colon
 * written `%3a`), sorted by name: what the base layer was made of, recorded beside each build.
 */
export function debianPackagesOfArchives(fileNames: readonly string[]): DebianPackage[] {
  return fileNames
    .filter((name) => name.endsWith('.deb'))
    .map((name) => {
      const [packageName, version, architecture] = name.slice(0, -'.deb'.length).split('_');
      if (packageName === undefined || version === undefined || architecture === undefined) throw new Error(`not a Debian archive name: ${name}`);
      return { name: packageName, version: decodeURIComponent(version), architecture };
    })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export function formatDebianPackages(packages: readonly DebianPackage[]): string {
  return packages.map((p) => `${p.name} ${p.version} ${p.architecture}\n`).join('');
}

/**
 * Whether an apt sources file of this machine (one-line `.list` or deb822 `.sources`) names Debian's own archive:
 * those are handed to mmdebstrap as they are, so the images come from the mirror this machine already uses. Other
 * repositories (a vendor's) are left out: their keys are not Debian's and their packages are not wanted.
 */
export function isDebianSourcesFile(text: string): boolean {
  const active = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  if (active.some((line) => line.includes('debian-archive-keyring'))) return true;
  return active.some((line) => /^(deb\s|URIs:)/.test(line) && /\/debian(-security)?\/?(\s|$)/.test(line));
}

/** SOURCE_DATE_EPOCH (seconds) from its environment value; 0 when unset, an error when not a whole number. */
export function sourceDateEpoch(value: string | undefined): number {
  if (value === undefined || value === '') return 0;
  if (!/^\d+$/.test(value)) throw new Error(`SOURCE_DATE_EPOCH must be whole seconds since 1970, not "${value}"`);
  return Number(value);
}

export function rfc3339(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace('.000Z', 'Z');
}

/** SHA-256 (hex) over labelled parts, each length-prefixed so that no two different lists hash alike. */
export function hashParts(parts: readonly (readonly [string, string | Buffer])[]): string {
  const hash = createHash('sha256');
  for (const [label, value] of parts) {
    const bytes = typeof value === 'string' ? Buffer.from(value) : value;
    hash.update(`${label}\0${bytes.length}\0`);
    hash.update(bytes);
  }
  return hash.digest('hex');
}

/** The cache folder of one build: `<cacheDir>/images/<version>-<first 16 hex of the key>`. */
export function buildDirName(version: string, key: string): string {
  return `${version}-${key.slice(0, 16)}`;
}

/**
 * GNU tar's arguments for a reproducible layer of the entries `names` of `root`: sorted entries, pax format without
 * atime/ctime, every mtime `epoch`, owner and group 0, no xattrs.
 */
export function layerTarArgs(layer: { readonly root: string; readonly output: string; readonly epoch: number; readonly names: readonly string[] }): string[] {
  const { root, output, epoch, names } = layer;
  return [
    '--create',
    `--file=${output}`,
    '--sort=name',
    '--format=pax',
    '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime',
    `--mtime=@${epoch}`,
    '--owner=0',
    '--group=0',
    '--numeric-owner',
    '--no-acls',
    '--no-xattrs',
    '--no-selinux',
    `--directory=${root}`,
    '--',
    ...names,
  ];
}

/** `umoci config` arguments that make a tagged image run `image` (every created time is `created`). */
export function umociConfigArgs(layout: string, image: ServiceImage, created: string): string[] {
  return [
    'config',
    `--image=${layout}:${image.tag}`,
    `--config.user=${image.user}`,
    `--config.workingdir=${APP_DIR}`,
    ...image.entrypoint.map((part) => `--config.entrypoint=${part}`),
    '--clear=config.env',
    ...image.env.map((entry) => `--config.env=${entry}`),
    ...Object.entries(image.labels).flatMap(([key, value]) => [`--config.label=${key}=${value}`, `--manifest.annotation=${key}=${value}`]),
    `--created=${created}`,
    '--author=stinger images build',
    '--os=linux',
    '--architecture=amd64',
    '--no-history',
  ];
}
