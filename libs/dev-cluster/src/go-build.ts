/**
 * kube-apiserver, etcd, kubectl and a node's kubelet, kube-controller-manager and kube-scheduler, built from their pinned Go modules by the machine's Go toolchain through the Go
 * module proxy, using the go.mod/go.sum in this library's go/ folder. kubectl is not part of the dev cluster: CI uses
 * it (`kubectl kustomize`, server-side dry runs of k8s/overlays), and it comes from the same pinned k8s.io/kubernetes
 * so client and API server are one release.
 *
 * Why a module of our own: k8s.io/kubernetes replaces its k8s.io/* staging modules with local paths, so it cannot be
 * required as a plain dependency. go/go.mod requires `k8s.io/kubernetes v1.<minor>.<patch>` and replaces every
 * staging module with the published `v0.<minor>.<patch>` of the same release (a unit test keeps the two in step). etcd
 * is built at the version that k8s.io/kubernetes itself pins (go.etcd.io/etcd/server/v3), which is also the etcd the
 * release is tested against; Debian's etcd-server (3.4) is older than the minimum this release supports (3.5.24).
 *
 * Contract: `buildKubeApiserver({ cacheDir })` returns `<cacheDir>/kube-apiserver-<version>/kube-apiserver`,
 * `buildEtcd({ cacheDir })` returns `<cacheDir>/etcd-<version>/etcd`, `buildKubectl({ cacheDir })` returns
 * `<cacheDir>/kubectl-<version>/kubectl`; likewise buildKubelet, buildKubeControllerManager and buildKubeScheduler
 * (the node of `stinger dev-cluster up --with-node`). Each is built once: a marker holding the SHA-256 of go.mod +
 * go.sum and the build flags is written after the binary, so an interrupted build or a changed pin builds again.
 * Concurrent builds each write their own temporary file and rename it into place (the last rename wins; both are the
 * same build). Flags: `-mod=readonly` (go.sum is committed: nothing is resolved that is not pinned), `-trimpath`,
 * `-ldflags=-s -w`, CGO_ENABLED=0. GOCACHE and GOMODCACHE are go's defaults under $HOME, so a second build on the
 * same machine only links.
 */
import { execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { access, chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '@stinger/log';
import { GoBuildError } from './errors.ts';

/** Must equal the `k8s.io/kubernetes` requirement in ../go/go.mod (a unit test checks). */
export const KUBERNETES_VERSION = 'v1.37.2';
/** Must equal the `go.etcd.io/etcd/server/v3` requirement in ../go/go.mod, i.e. what KUBERNETES_VERSION pins. */
export const ETCD_VERSION = 'v3.7.0';

export const GO_MODULE_DIR = fileURLToPath(new URL('../go/', import.meta.url));

export const KUBE_APISERVER_PACKAGE = 'k8s.io/kubernetes/cmd/kube-apiserver';
export const KUBECTL_PACKAGE = 'k8s.io/kubernetes/cmd/kubectl';
export const KUBELET_PACKAGE = 'k8s.io/kubernetes/cmd/kubelet';
export const KUBE_CONTROLLER_MANAGER_PACKAGE = 'k8s.io/kubernetes/cmd/kube-controller-manager';
export const KUBE_SCHEDULER_PACKAGE = 'k8s.io/kubernetes/cmd/kube-scheduler';
export const ETCD_PACKAGE = 'go.etcd.io/etcd/server/v3';

/** Where Go is looked for when no `goCommand` is given: PATH first, then the toolchain's usual install folder. */
export const GO_COMMAND_CANDIDATES: readonly string[] = ['go', '/usr/local/go/bin/go'];

export interface BuiltBinary {
  readonly version: string;
  readonly path: string;
  /** True when this call ran `go build`, false when the cache already held the binary. */
  readonly built: boolean;
  /** Milliseconds the build took (0 when cached). */
  readonly buildMs: number;
}

export interface BuildOptions {
  /** Shared cache of built tools (callers pass `loadConfig().cacheDir`). */
  readonly cacheDir: string;
  readonly logger: Logger;
  /** The `go` to run; when absent GO_COMMAND_CANDIDATES are tried in order. */
  readonly goCommand?: string;
  /** Upper bound for one `go build`; a cold build (module download + compile) takes minutes on 2 cores. */
  readonly timeoutMs?: number;
}

interface BuildTarget {
  readonly name: 'kube-apiserver' | 'etcd' | 'kubectl' | 'kubelet' | 'kube-controller-manager' | 'kube-scheduler';
  readonly version: string;
  readonly goPackage: string;
}

const KUBE_APISERVER: BuildTarget = { name: 'kube-apiserver', version: KUBERNETES_VERSION, goPackage: KUBE_APISERVER_PACKAGE };
const ETCD: BuildTarget = { name: 'etcd', version: ETCD_VERSION, goPackage: ETCD_PACKAGE };
const KUBECTL: BuildTarget = { name: 'kubectl', version: KUBERNETES_VERSION, goPackage: KUBECTL_PACKAGE };
const KUBELET: BuildTarget = { name: 'kubelet', version: KUBERNETES_VERSION, goPackage: KUBELET_PACKAGE };
const KUBE_CONTROLLER_MANAGER: BuildTarget = { name: 'kube-controller-manager', version: KUBERNETES_VERSION, goPackage: KUBE_CONTROLLER_MANAGER_PACKAGE };
const KUBE_SCHEDULER: BuildTarget = { name: 'kube-scheduler', version: KUBERNETES_VERSION, goPackage: KUBE_SCHEDULER_PACKAGE };
const MARKER = '.built';

/** Path the binary of `name` at `version` has in the cache, built or not. */
export function cachedBinaryPath(cacheDir: string, target: { readonly name: string; readonly version: string }): string {
  return join(cacheDir, `${target.name}-${target.version}`, target.name);
}

export function buildKubeApiserver(options: BuildOptions): Promise<BuiltBinary> {
  return buildOnce(KUBE_APISERVER, options);
}

export function buildEtcd(options: BuildOptions): Promise<BuiltBinary> {
  return buildOnce(ETCD, options);
}

export function buildKubectl(options: BuildOptions): Promise<BuiltBinary> {
  return buildOnce(KUBECTL, options);
}

export function buildKubelet(options: BuildOptions): Promise<BuiltBinary> {
  return buildOnce(KUBELET, options);
}

export function buildKubeControllerManager(options: BuildOptions): Promise<BuiltBinary> {
  return buildOnce(KUBE_CONTROLLER_MANAGER, options);
}

export function buildKubeScheduler(options: BuildOptions): Promise<BuiltBinary> {
  return buildOnce(KUBE_SCHEDULER, options);
}

/** True when kube-apiserver and etcd are in the cache for the current pins (nothing to build before a dev cluster starts). */
export async function areBinariesCached(cacheDir: string): Promise<boolean> {
  const hash = await pinHash();
  for (const target of [KUBE_APISERVER, ETCD]) {
    if (!(await isCached(cacheDir, target, markerOf(target, hash)))) return false;
  }
  return true;
}

/** The first working Go toolchain among `goCommand` or GO_COMMAND_CANDIDATES, with its `go version` line; null when none runs. */
export async function findGoToolchain(goCommand?: string): Promise<{ readonly command: string; readonly version: string } | null> {
  for (const command of goCommand === undefined ? GO_COMMAND_CANDIDATES : [goCommand]) {
    const version = await new Promise<string | null>((resolve) => {
      execFile(command, ['version'], { timeout: 30_000 }, (error, stdout) => resolve(error ? null : stdout.trim()));
    });
    if (version !== null) return { command, version };
  }
  return null;
}

/**
 * The `go build` argument list for one binary (pure; the command runs in GO_MODULE_DIR with CGO_ENABLED=0).
 * Kubernetes binaries get their release stamped in as `make` would: unstamped they report `v0.0.0-master`, which
 * kubectl and the kubelet's version checks cannot parse.
 */
export function goBuildArgs(goPackage: string, output: string, version?: string): string[] {
  const stamp = goPackage.startsWith('k8s.io/kubernetes/') && version !== undefined ? ` ${kubernetesVersionLdflags(version)}` : '';
  return ['build', '-mod=readonly', '-trimpath', `-ldflags=-s -w${stamp}`, '-o', output, goPackage];
}

/** `-X` flags setting k8s.io/component-base/version's gitVersion, gitMajor and gitMinor from `v<major>.<minor>.<patch>` (pure). */
export function kubernetesVersionLdflags(version: string): string {
  const match = /^v(\d+)\.(\d+)\.\d+/.exec(version);
  if (!match) throw new GoBuildError(`not a Kubernetes release version: ${version}`);
  const pkg = 'k8s.io/component-base/version';
  return [`-X ${pkg}.gitVersion=${version}`, `-X ${pkg}.gitMajor=${match[1]}`, `-X ${pkg}.gitMinor=${match[2]}`].join(' ');
}

async function buildOnce(target: BuildTarget, options: BuildOptions): Promise<BuiltBinary> {
  const { cacheDir, logger, timeoutMs = 60 * 60_000 } = options;
  const path = cachedBinaryPath(cacheDir, target);
  const dir = join(path, '..');
  const hash = markerOf(target, await pinHash());
  if (await isCached(cacheDir, target, hash)) return { version: target.version, path, built: false, buildMs: 0 };

  const go = await findGoToolchain(options.goCommand);
  if (go === null) {
    throw new GoBuildError(
      `no Go toolchain found (tried ${(options.goCommand === undefined ? GO_COMMAND_CANDIDATES : [options.goCommand]).join(', ')}); ` +
        `it builds ${target.name} ${target.version}`,
    );
  }
  await mkdir(dir, { recursive: true });
  const partial = join(dir, `${target.name}.partial-${process.pid}-${randomBytes(4).toString('hex')}`);
  const started = Date.now();
  logger.info({ binary: target.name, version: target.version, goPackage: target.goPackage, go: go.version }, 'building with go (cached afterwards)');
  try {
    await runGoBuild(go.command, goBuildArgs(target.goPackage, partial, target.version), timeoutMs);
    await chmod(partial, 0o755);
    await rm(join(dir, MARKER), { force: true });
    await rename(partial, path);
    await writeFile(join(dir, MARKER), `${hash}\n`);
  } catch (error) {
    if (error instanceof GoBuildError) throw error;
    throw new GoBuildError(`building ${target.name} ${target.version} failed`, { cause: error });
  } finally {
    await rm(partial, { force: true });
  }
  const buildMs = Date.now() - started;
  logger.info({ binary: target.name, version: target.version, path, ms: buildMs }, 'built');
  return { version: target.version, path, built: true, buildMs };
}

async function isCached(cacheDir: string, target: BuildTarget, hash: string): Promise<boolean> {
  const path = cachedBinaryPath(cacheDir, target);
  const marker = (await readFile(join(path, '..', MARKER), 'utf8').catch(() => '')).trim();
  return marker === hash && (await access(path).then(() => true, () => false));
}

/** What the marker of `name`'s cached binary holds when it is current (for tests and tools that seed the cache). */
export async function currentMarker(name: BuildTarget['name']): Promise<string> {
  const target = [KUBE_APISERVER, ETCD, KUBECTL, KUBELET, KUBE_CONTROLLER_MANAGER, KUBE_SCHEDULER].find((t) => t.name === name);
  if (!target) throw new GoBuildError(`unknown build target ${name}`);
  return markerOf(target, await pinHash());
}

/** What the marker holds: the pins' hash and the build flags, so a changed pin or flag builds again. */
function markerOf(target: BuildTarget, hash: string): string {
  return createHash('sha256').update(hash).update(goBuildArgs(target.goPackage, '', target.version).join('\0')).digest('hex');
}

/** SHA-256 over go.mod and go.sum: a changed pin invalidates the cached binaries. */
async function pinHash(): Promise<string> {
  const hash = createHash('sha256');
  for (const file of ['go.mod', 'go.sum']) hash.update(await readFile(join(GO_MODULE_DIR, file)));
  return hash.digest('hex');
}

function runGoBuild(goCommand: string, args: readonly string[], timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    // `env` adds CGO_ENABLED=0 to the inherited environment (a static binary that needs no C toolchain).
    const child = spawn('env', ['CGO_ENABLED=0', goCommand, ...args], { cwd: GO_MODULE_DIR, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-64 * 1024);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new GoBuildError(`could not run "${goCommand}"`, { cause: error }));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) {
        resolve();
        return;
      }
      const tail = output.trimEnd().split('\n').slice(-30).join('\n');
      const message = signal === 'SIGKILL' ? `go build did not finish within ${timeoutMs} ms` : `go build exited with ${code ?? signal}`;
      reject(new GoBuildError(`${message} (${args.at(-1) ?? ''})`, { retriable: true, output: tail }));
    });
  });
}
