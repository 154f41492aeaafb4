import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@stinger/log';
import { GoBuildError } from './errors.ts';
import {
  areBinariesCached,
  buildKubeApiserver,
  cachedBinaryPath,
  currentMarker,
  ETCD_PACKAGE,
  ETCD_VERSION,
  findGoToolchain,
  GO_MODULE_DIR,
  goBuildArgs,
  KUBE_APISERVER_PACKAGE,
  KUBE_CONTROLLER_MANAGER_PACKAGE,
  KUBE_SCHEDULER_PACKAGE,
  KUBECTL_PACKAGE,
  KUBELET_PACKAGE,
  KUBERNETES_VERSION,
  kubernetesVersionLdflags,
} from './go-build.ts';

interface GoMod {
  readonly requires: ReadonlyMap<string, string>;
  /** module → [target module, target version] */
  readonly replaces: ReadonlyMap<string, readonly [string, string]>;
  readonly tools: readonly string[];
}

/** Just enough of go.mod's grammar for the files involved: single-line and block require/replace/tool directives. */
function parseGoMod(text: string): GoMod {
  const requires = new Map<string, string>();
  const replaces = new Map<string, readonly [string, string]>();
  const tools: string[] = [];
  let block: string | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\/\/.*$/, '').trim();
    if (line === '') continue;
    if (block !== null && line === ')') {
      block = null;
      continue;
    }
    const opening = /^(require|replace|tool) \($/.exec(line);
    if (opening) {
      block = opening[1] ?? null;
      continue;
    }
    const single = /^(require|replace|tool) (.+)$/.exec(line);
    const [directive, rest] = single ? [single[1], single[2] ?? ''] : [block, line];
    const words = rest.split(/\s+/);
    if (directive === 'require') requires.set(words[0] ?? '', words[1] ?? '');
    if (directive === 'tool') tools.push(words[0] ?? '');
    if (directive === 'replace') {
      const arrow = words.indexOf('=>');
      replaces.set(words[0] ?? '', [words[arrow + 1] ?? '', words[arrow + 2] ?? '']);
    }
  }
  return { requires, replaces, tools };
}

const goMod = parseGoMod(await readFile(join(GO_MODULE_DIR, 'go.mod'), 'utf8'));
const stagingVersion = KUBERNETES_VERSION.replace(/^v1\./, 'v0.');

test('go.mod pins k8s.io/kubernetes at KUBERNETES_VERSION and etcd at ETCD_VERSION, and builds the six binaries as tools', () => {
  assert.equal(goMod.requires.get('k8s.io/kubernetes'), KUBERNETES_VERSION);
  assert.equal(goMod.requires.get(ETCD_PACKAGE), ETCD_VERSION);
  const tools = [ETCD_PACKAGE, KUBE_APISERVER_PACKAGE, KUBECTL_PACKAGE, KUBELET_PACKAGE, KUBE_CONTROLLER_MANAGER_PACKAGE, KUBE_SCHEDULER_PACKAGE];
  assert.deepEqual([...goMod.tools].sort(), tools.sort());
});

test('every staging replace points at the same module at v0.<minor>.<patch> of the pinned Kubernetes', () => {
  assert.ok(goMod.replaces.size >= 20, `expected the staging replace list, found ${goMod.replaces.size} replaces`);
  for (const [module, [target, version]] of goMod.replaces) {
    assert.match(module, /^k8s\.io\/[a-z-]+$/, `${module} is a k8s.io staging module`);
    assert.equal(target, module, `${module} is replaced by itself, not another module`);
    assert.equal(version, stagingVersion, `${module} => ${stagingVersion}`);
  }
});

test('every k8s.io module required at the v0.0.0 placeholder is replaced (nothing could resolve it otherwise)', () => {
  const placeholders = [...goMod.requires].filter(([module, version]) => module.startsWith('k8s.io/') && version === 'v0.0.0');
  assert.ok(placeholders.length > 0, 'k8s.io/kubernetes requires its staging modules at v0.0.0');
  for (const [module] of placeholders) assert.ok(goMod.replaces.has(module), `${module} has a replace`);
});

test("the replace list is exactly the staging list of k8s.io/kubernetes's own go.mod", async (t) => {
  const go = await findGoToolchain();
  if (go === null) {
    t.skip('no Go toolchain to locate the module cache');
    return;
  }
  const modCache = await new Promise<string>((resolve) => {
    execFile(go.command, ['env', 'GOMODCACHE'], (error, stdout) => resolve(error ? '' : stdout.trim()));
  });
  const upstream = await readFile(join(modCache, 'cache', 'download', 'k8s.io', 'kubernetes', '@v', `${KUBERNETES_VERSION}.mod`), 'utf8').catch(() => null);
  if (upstream === null) {
    t.skip(`k8s.io/kubernetes ${KUBERNETES_VERSION} is not in the module cache yet (the first build downloads it)`);
    return;
  }
  const staging = [...parseGoMod(upstream).replaces]
    .filter(([, [target]]) => target.startsWith('./staging/'))
    .map(([module]) => module)
    .sort();
  assert.deepEqual([...goMod.replaces.keys()].sort(), staging);
});

test('goBuildArgs builds read-only against go.sum, trimmed and stripped, into the given file; Kubernetes binaries are version stamped', () => {
  assert.deepEqual(goBuildArgs(ETCD_PACKAGE, '/cache/x', ETCD_VERSION), ['build', '-mod=readonly', '-trimpath', '-ldflags=-s -w', '-o', '/cache/x', ETCD_PACKAGE]);
  assert.deepEqual(goBuildArgs(KUBELET_PACKAGE, '/cache/y', 'v1.37.2'), [
    'build',
    '-mod=readonly',
    '-trimpath',
    '-ldflags=-s -w -X k8s.io/component-base/version.gitVersion=v1.37.2 -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=37',
    '-o',
    '/cache/y',
    KUBELET_PACKAGE,
  ]);
  assert.throws(() => kubernetesVersionLdflags('master'), GoBuildError);
});

test('a cached binary with a current marker is returned without running go; a missing Go toolchain is a GoBuildError', async () => {
  const cacheDir = await mkdtemp(join(tmpdir(), 'stinger-dev-cluster-cache-'));
  try {
    const options = { cacheDir, logger: silentLogger(), goCommand: join(cacheDir, 'no-such-go') };
    assert.equal(await areBinariesCached(cacheDir), false);
    await assert.rejects(buildKubeApiserver(options), (error: unknown) => {
      assert.ok(error instanceof GoBuildError);
      assert.match(error.message, /no Go toolchain found/);
      return true;
    });

    // A binary and a marker left by an earlier build of the same pins: no go needed.
    const path = cachedBinaryPath(cacheDir, { name: 'kube-apiserver', version: KUBERNETES_VERSION });
    await mkdir(join(path, '..'), { recursive: true });
    await writeFile(path, '#!/bin/sh\n');
    await writeFile(join(path, '..', '.built'), `${await currentMarker('kube-apiserver')}\n`);
    assert.deepEqual(await buildKubeApiserver(options), { version: KUBERNETES_VERSION, path, built: false, buildMs: 0 });

    // A marker from other pins means the binary is stale: go is needed again.
    await writeFile(join(path, '..', '.built'), 'stale\n');
    await assert.rejects(buildKubeApiserver(options), GoBuildError);
  } finally {
    await rm(cacheDir, { recursive: true, force: true });
  }
});
