/**
 * followSymlinks: the path a file syscall reached, with symlinks followed the way the kernel follows
 * them, computed after the fact by the agent (ARCHITECTURE.md: kernel-side matching sees the string
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
import { lstatSync, readlinkSync } from 'node:fs';

/** Links followed in one walk before giving up, as the kernel's ELOOP limit. */
const MAX_LINKS = 40;

export interface SymlinkRequest {
  /** The process whose root the path is walked under, while it lives. */
  readonly pid: number;
  /** True when the process runs in the agent's own root (a host process): used after it has exited. */
  readonly hostProcess: boolean;
  readonly path: string;
  readonly followLast: boolean;
}

export type FollowSymlinks = (request: SymlinkRequest) => string | null;

function isDirectory(path: string): boolean {
  try {
    return lstatSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;
  } catch {
    return false;
  }
}

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

export const followSymlinks: FollowSymlinks = (request) => {
  const { pid, hostProcess, path, followLast } = request;
  if (!path.startsWith('/')) return null;
  let root = `/proc/${pid}/root`;
  if (pid <= 0 || !isDirectory(`${root}/`)) {
    if (!hostProcess) return null;
    root = '';
  }
  return walk(root, path, followLast);
};
