/**
 * Images for the dev cluster's node, which no registry reaches: made here from this machine's own binaries, and
 * imported into the node's containerd (namespace k8s.io, where the CRI looks) from an OCI layout such as the one
 * `stinger images build` writes.
 *
 * - `buildHostBinariesImage` copies a few host binaries with the shared libraries ldd names into a root file system
 *   and makes an OCI image of it with umoci (the tool `stinger images build` uses). The node's pause image is
 *   `sleep infinity` made this way: containerd stops a sandbox with SIGKILL, so the pause process needs no signal
 *   handling; the end-to-end tests' workload image holds a shell and coreutils.
 * - `importIntoNode` copies an image from an OCI layout to a docker-archive with skopeo (which names the image inside)
 *   and imports that with `ctr -n k8s.io images import`.
 */
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { run } from './host-state.ts';

/** The absolute library paths in `ldd` output, the dynamic loader included (pure). */
export function parseLddPaths(text: string): string[] {
  const paths: string[] = [];
  for (const line of text.split('\n')) {
    const match = /=>\s+(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (match?.[1]) paths.push(match[1]);
  }
  return [...new Set(paths)];
}

export interface HostBinariesImageOptions {
  /** OCI layout folder to add the image to (made if missing). */
  readonly layout: string;
  readonly tag: string;
  /** Absolute paths of host executables, copied to the same paths in the image. */
  readonly binaries: readonly string[];
  readonly entrypoint: readonly string[];
  /** Extra files: host path → path in the image. */
  readonly files?: Readonly<Record<string, string>>;
}

export async function buildHostBinariesImage(options: HostBinariesImageOptions): Promise<void> {
  const rootfs = await mkdtemp(join(tmpdir(), 'stinger-image-rootfs-'));
  try {
    const copies = new Map<string, string>(Object.entries(options.files ?? {}));
    for (const binary of options.binaries) {
      copies.set(binary, binary);
      for (const library of parseLddPaths(await run('ldd', [binary]).catch(() => ''))) copies.set(library, library);
    }
    for (const [from, to] of copies) {
      await mkdir(join(rootfs, dirname(to)), { recursive: true });
      await copyFile(from, join(rootfs, to));
    }
    await mkdir(join(rootfs, 'tmp'), { recursive: true });
    const image = `${options.layout}:${options.tag}`;
    await rm(options.layout, { recursive: true, force: true });
    await run('umoci', ['init', '--layout', options.layout]);
    await run('umoci', ['new', '--image', image]);
    await run('umoci', ['insert', '--image', image, rootfs, '/']);
    await run('umoci', ['config', '--image', image, '--config.user', '0:0', ...options.entrypoint.flatMap((arg) => ['--config.entrypoint', arg])]);
  } finally {
    await rm(rootfs, { recursive: true, force: true });
  }
}

export interface ImportIntoNodeOptions {
  readonly containerdSocket: string;
  readonly layout: string;
  readonly tag: string;
  /** The name the node knows the image by, e.g. `docker.io/stinger/agent:0.1.0` for a manifest's `stinger/agent:0.1.0`. */
  readonly name: string;
}

export async function importIntoNode(options: ImportIntoNodeOptions): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'stinger-image-import-'));
  try {
    const archive = join(dir, 'image.tar');
    await run('skopeo', ['copy', '--quiet', `oci:${options.layout}:${options.tag}`, `docker-archive:${archive}:${options.name}`]);
    await run('ctr', ['--address', options.containerdSocket, '--namespace', 'k8s.io', 'images', 'import', archive]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The name containerd gives a manifest's image reference: `stinger/agent:0.1.0` → `docker.io/stinger/agent:0.1.0` (pure). */
export function normalizedImageName(reference: string): string {
  const [first = '', ...rest] = reference.split('/');
  const hasDomain = rest.length > 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (hasDomain) return reference;
  return rest.length === 0 ? `docker.io/library/${reference}` : `docker.io/${reference}`;
}
