/**
 * The opa command, built from its pinned Go module (github.com/open-policy-agent/opa, required by ../go/go.mod with its
 * go.sum) by the machine's Go toolchain through the Go module proxy, as libs/dev-cluster builds kube-apiserver.
 * `stinger setup` builds it; the CLI and the policy-controller run `opa build -t wasm` with it (compile-rego.ts).
 *
 * Contract: `buildOpa({ cacheDir })` returns `<cacheDir>/opa-<version>/opa`, built once: a marker holding the SHA-256 of
 * go.mod + go.sum is written after the binary, so an interrupted build or a changed pin builds again. Flags as the
 * other Go tools: -mod=readonly (nothing resolved that go.sum does not pin), -trimpath, CGO_ENABLED=0.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { access, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findGoToolchain, GoBuildError, type BuildOptions, type BuiltBinary } from '@stinger/dev-cluster';

/** Must equal the github.com/open-policy-agent/opa requirement in ../go/go.mod (a unit test checks). */
export const OPA_VERSION = 'v1.22.4';
export const OPA_MODULE_DIR = fileURLToPath(new URL('../go/', import.meta.url));
const OPA_PACKAGE = 'github.com/open-policy-agent/opa';
const MARKER = '.built';

export function cachedOpaPath(cacheDir: string): string {
  return join(cacheDir, `opa-${OPA_VERSION}`, 'opa');
}

async function pinHash(): Promise<string> {
  const hash = createHash('sha256');
  for (const file of ['go.mod', 'go.sum']) hash.update(await readFile(join(OPA_MODULE_DIR, file)));
  return hash.digest('hex');
}

/** The cached opa when current, else null (nothing is built). */
export async function findCachedOpa(cacheDir: string): Promise<string | null> {
  const path = cachedOpaPath(cacheDir);
  const marker = (await readFile(join(path, '..', MARKER), 'utf8').catch(() => '')).trim();
  const present = await access(path).then(() => true, () => false);
  return present && marker === (await pinHash()) ? path : null;
}

export async function buildOpa(options: BuildOptions): Promise<BuiltBinary> {
  const { cacheDir, logger, timeoutMs = 30 * 60_000 } = options;
  const path = cachedOpaPath(cacheDir);
  if ((await findCachedOpa(cacheDir)) !== null) return { version: OPA_VERSION, path, built: false, buildMs: 0 };
  const go = await findGoToolchain(options.goCommand);
  if (go === null) throw new GoBuildError(`no Go toolchain found; it builds opa ${OPA_VERSION}`);
  const dir = join(path, '..');
  await mkdir(dir, { recursive: true });
  const partial = join(dir, `opa.partial-${process.pid}-${randomBytes(4).toString('hex')}`);
  const started = Date.now();
  logger.info({ binary: 'opa', version: OPA_VERSION, go: go.version }, 'building with go (cached afterwards)');
  try {
    await new Promise<void>((resolve, reject) => {
      const args = ['build', '-mod=readonly', '-trimpath', '-ldflags=-s -w', '-o', partial, OPA_PACKAGE];
      // `env` adds CGO_ENABLED=0 to the inherited environment (a static binary that needs no C toolchain).
      execFile('env', ['CGO_ENABLED=0', go.command, ...args], { cwd: OPA_MODULE_DIR, timeout: timeoutMs, maxBuffer: 16 << 20 }, (error, _stdout, stderr) => {
        if (error === null) resolve();
        else reject(new GoBuildError(`go build of opa ${OPA_VERSION} failed`, { retriable: true, output: stderr.split('\n').slice(-30).join('\n'), cause: error }));
      });
    });
    await rename(partial, path);
    await writeFile(join(dir, MARKER), `${await pinHash()}\n`);
  } finally {
    await rm(partial, { force: true });
  }
  const buildMs = Date.now() - started;
  logger.info({ binary: 'opa', version: OPA_VERSION, path, ms: buildMs }, 'built');
  return { version: OPA_VERSION, path, built: true, buildMs };
}
