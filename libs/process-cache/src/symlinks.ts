/**
 * followSymlinks: the path a file syscall reached, with symlinks followed the way the kernel follows
 * them, computed after the fact by the agent (docs/architecture.md: kernel-side matching sees the string
 * the process passed; this lockdown kernel allows no d_path, so the resolution is done in user space).
 *
 * How: the path is walked one component at a time under the process's root (`/proc/<pid>/root`, the kernel's
 * own handle on it): lstat each component, and readlink each symlink met, restarting an absolute target at the
 * process's root, not the agent's (as openat2's RESOLVE_IN_ROOT would; node has no openat2), and never letting
 * `..` climb above it. Only components already resolved are handed to the kernel, so it never follows a link on
 * the agent's behalf. The answer is the path in the process's own view (a container process gets its rootfs
 * path, not the node's).
 *
 * Contract (EventBuilder calls this once per file or exec-rule event):
 * - `path` is absolute but not normalised: `cwd + "/" + given` keeps `..` after a symlink correct.
 * - `followLast` false (unlink, rename, lchown, O_NOFOLLOW) resolves every component but the last.
 * - A last component that no longer exists (unlinked, renamed away) keeps its name; a dangling link
 *   resolves to its target, which is what an O_CREAT open through it creates.
 * - It is a second walk, after the syscall: a link changed in between resolves to its new target.
 *   Returns null when nothing can be said (the process is gone and was not a host process, a
 *   directory on the way is gone or not a directory, or more than 40 links); callers then fall back
 *   to lexical normalisation.
 */
import { existsSync, lstatSync, readlinkSync } from 'node:fs';

/** Links followed in one walk before giving up, as the kernel's ELOOP limit. */
const MAX_LINKS = 40;

export interface SymlinkRequest {
  /** The process whose root the path is walked under, while it lives. */
  readonly pid: number;
  /** True when the process runs in the agent's own root (a host process): used after it has exited. */
  readonly hostProcess: boolean;
  readonly path: string;
  readonly followLast: boolean;
  /**
   * Names this execution of the process (its exec_id), so that a resolver may remember its root for a moment;
   * without it the root is looked up every time.
   */
  readonly processKey?: string;
}

export type FollowSymlinks = (request: SymlinkRequest) => string | null;

/**
 * The walk. `root` is where the process's `/` is in the agent's view ('' for the agent's own root). Returns the
 * resolved path in the process's view, or null when a directory on the way is missing (or not a directory), or
 * when there are too many links.
 */
function walk(root: string, path: string, followLast: boolean): string | null {
  const resolved: string[] = [];
  const pending = path.split('/').reverse(); // a stack: the next component is at the end
  let links = 0;
  while (pending.length > 0) {
    const component = pending.pop() as string;
    if (component === '' || component === '.') continue;
    if (component === '..') {
      resolved.pop(); // at the root, `..` is the root
      continue;
    }
    const last = !pending.some((c) => c !== '' && c !== '.');
    const here = `${root}/${[...resolved, component].join('/')}`;
    let stats;
    try {
      stats = lstatSync(here, { throwIfNoEntry: false });
    } catch {
      return null;
    }
    if (stats === undefined) {
      // Gone: fine for the last component (unlinked, renamed away, a dangling link's target), not for a directory.
      if (!last) return null;
      resolved.push(component);
      continue;
    }
    // A link is followed unless it is the last component of a no-follow call (a trailing slash follows it too).
    if (stats.isSymbolicLink() && (followLast || pending.length > 0)) {
      if (++links > MAX_LINKS) return null;
      let target: string;
      try {
        target = readlinkSync(here);
      } catch {
        return null;
      }
      if (target.startsWith('/')) resolved.length = 0;
      pending.push(...target.split('/').reverse());
      continue;
    }
    if (!last && !stats.isDirectory()) return null;
    resolved.push(component);
  }
  return `/${resolved.join('/')}`;
}

function isDirectory(path: string): boolean {
  try {
    return lstatSync(path, { throwIfNoEntry: false })?.isDirectory() === true;
  } catch {
    return false;
  }
}

/**
 * The walk of one path, without memory: what a resolver does on a cache miss, and what tests call directly.
 * The resolver below gives the same answers, faster.
 */
export const followSymlinks: FollowSymlinks = (request) => {
  const root = rootFor(request);
  if (root === null) return null;
  const result = walk(root.walkFrom, request.path, request.followLast);
  if (rootAlive(root)) return result;
  // The process exited during the walk: its /proc root answered ENOENT for everything from then on.
  return request.hostProcess ? walk('', request.path, request.followLast) : null;
};

/** Whether a root taken from /proc still stands: a walk through the root of an exited process finds nothing. */
function rootAlive(root: { readonly walkFrom: string }): boolean {
  return root.walkFrom === '' || existsSync(`${root.walkFrom}/`);
}

const HOST_ROOT = { walkFrom: '', identity: '/' } as const;

let ownMountNamespaceText: string | null = null;
/** The agent's own mount namespace (`mnt:[4026531841]`), read once. */
function ownMountNamespace(): string {
  return (ownMountNamespaceText ??= readlinkSync('/proc/self/ns/mnt'));
}

/** Where to walk from: `/proc/<pid>/root` while the process lives ('' for the agent's root), and what it names. */
function rootFor(request: SymlinkRequest): { walkFrom: string; identity: string } | null {
  const { pid, hostProcess, path } = request;
  if (!path.startsWith('/')) return null;
  // existsSync first: a thrown ENOENT costs microseconds, and most processes behind file events have exited.
  if (pid > 0 && existsSync(`/proc/${pid}`)) {
    try {
      // The magic link's text names the root in the agent's view: "/" for the host's, a rootfs for a container.
      const identity = readlinkSync(`/proc/${pid}/root`);
      // A process in the agent's own root and mount namespace sees the agent's view: walk it directly. Each lookup
      // through /proc/<pid>/root costs the kernel a procfs walk (measured: most of an event's build time).
      if (identity === '/' && readlinkSync(`/proc/${pid}/ns/mnt`) === ownMountNamespace()) return HOST_ROOT;
      return { walkFrom: `/proc/${pid}/root`, identity };
    } catch {
      // gone
    }
  }
  return hostProcess ? HOST_ROOT : null;
}

export interface SymlinkResolverOptions {
  /** How long a resolved directory is reused. Default 1000 ms. */
  readonly ttlMs?: number;
  /** Directories, files (and process roots) remembered, each, least recently used dropped first. Default 4096. */
  readonly maxDirectories?: number;
  readonly now?: () => number;
}

/**
 * followSymlinks with a short memory of resolved directories, keyed by root and directory as given: the events of
 * one program mostly name files in the same few directories, and a full walk costs an lstat per component. A last
 * component seen to be a plain file is remembered the same way (a link there is followed by a full walk, every
 * time). A directory whose links changed, or a file replaced by a link, is seen resolved the old way for up to
 * `ttlMs`: the walk is after the fact anyway (see the contract).
 */
export function createSymlinkResolver(options: SymlinkResolverOptions = {}): FollowSymlinks {
  const { ttlMs = 1000, maxDirectories = 4096, now = Date.now } = options;
  const directories = new Map<string, { resolved: string | null; at: number }>();
  /**
   * Last components seen to be files, not links (key: root and resolved path), with when: the same few files are
   * opened over and over, and the lstat of the last component was most of an event's build time (measured with
   * benchmarks/agent-pipeline.ts's events stage under a CPU profile). Same staleness as the directories.
   */
  const plainFiles = new Map<string, number>();
  const remember = (map: Map<string, number>, key: string, at: number): void => {
    map.delete(key);
    map.set(key, at);
    if (map.size > maxDirectories) map.delete(map.keys().next().value as string);
  };
  const roots = new Map<string, { root: ReturnType<typeof rootFor>; at: number }>();
  const rootOf = (request: SymlinkRequest): ReturnType<typeof rootFor> => {
    if (request.processKey === undefined) return rootFor(request);
    const key = `${request.processKey}\u0000${request.hostProcess}`;
    const time = now();
    const known = roots.get(key);
    if (known !== undefined && time - known.at < ttlMs) return known.root;
    const root = rootFor(request);
    roots.delete(key);
    roots.set(key, { root, at: time });
    if (roots.size > maxDirectories) roots.delete(roots.keys().next().value as string);
    return root;
  };
  const resolveDirectory = (walkFrom: string, identity: string, directory: string): string | null => {
    const key = `${identity}\u0000${directory}`;
    const known = directories.get(key);
    const time = now();
    if (known !== undefined && time - known.at < ttlMs) {
      directories.delete(key); // refresh its place in the LRU order
      directories.set(key, known);
      return known.resolved;
    }
    let resolved = walk(walkFrom, directory, true);
    if (resolved !== null && !isDirectory(`${walkFrom}${resolved}`)) resolved = null; // a missing or non-directory parent
    if (resolved === null && !rootAlive({ walkFrom })) return null; // the process exited meanwhile: nothing learnt
    directories.delete(key);
    directories.set(key, { resolved, at: time });
    if (directories.size > maxDirectories) directories.delete(directories.keys().next().value as string);
    return resolved;
  };
  /** The answer under one root; `doubtful` when something was missing, which an exited process also explains. */
  const attempt = (root: { readonly walkFrom: string; readonly identity: string }, request: SymlinkRequest): { result: string | null; doubtful: boolean } => {
    const { path, followLast } = request;
    const slash = path.lastIndexOf('/');
    const name = path.slice(slash + 1);
    if (name === '' || name === '.' || name === '..') return { result: walk(root.walkFrom, path, followLast), doubtful: true };
    const directory = resolveDirectory(root.walkFrom, root.identity, path.slice(0, slash) || '/');
    if (directory === null) return { result: null, doubtful: true };
    const resolved = directory === '/' ? `/${name}` : `${directory}/${name}`;
    if (!followLast) return { result: resolved, doubtful: false };
    const plainKey = `${root.identity}\u0000${resolved}`;
    const plainAt = plainFiles.get(plainKey);
    if (plainAt !== undefined && now() - plainAt < ttlMs) return { result: resolved, doubtful: false };
    let stats;
    try {
      stats = lstatSync(`${root.walkFrom}${resolved}`, { throwIfNoEntry: false });
    } catch {
      return { result: null, doubtful: true };
    }
    if (stats === undefined) return { result: resolved, doubtful: true };
    if (!stats.isSymbolicLink()) {
      remember(plainFiles, plainKey, now());
      return { result: resolved, doubtful: false };
    }
    return { result: walk(root.walkFrom, resolved, true), doubtful: true };
  };
  return (request) => {
    if (!request.path.startsWith('/')) return null;
    const root = rootOf(request);
    if (root === null) return null;
    const { result, doubtful } = attempt(root, request);
    if (!doubtful || rootAlive(root)) return result;
    // The process exited during the walk: forget its root, and answer as for an exited process.
    if (request.processKey !== undefined) roots.delete(`${request.processKey}\u0000${request.hostProcess}`);
    return request.hostProcess ? attempt(HOST_ROOT, request).result : null;
  };
}
