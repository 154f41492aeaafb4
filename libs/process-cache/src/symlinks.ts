/**
 * followSymlinks: the path a file syscall reached, with symlinks followed the way the kernel follows
 * them, computed after the fact by the agent (ARCHITECTURE.md: kernel-side matching sees the string
 * the process passed; this lockdown kernel allows no d_path, so the resolution is done in user space).
 *
 * How: the path is opened with O_PATH (no read, no side effect on FIFOs or devices) under the
 * process's root, `/proc/<pid>/root`, so the kernel walks it exactly as it walked the process's own
 * lookup (symlinks, `..` after a symlink, mounts); /proc/self/fd/<fd> then names what it reached. The
 * root's own name in the agent's view is stripped, so a container process gets its own view's path.
 *
 * Contract (EventBuilder calls this once per file or exec-rule event):
 * - `path` is absolute but not normalised: `cwd + "/" + given` keeps `..` after a symlink correct.
 * - `followLast` false (unlink, rename, lchown, O_NOFOLLOW) resolves every component but the last.
 * - A path that no longer exists (unlinked, renamed away, a dangling link) resolves its directory and
 *   keeps its last component as given.
 * - It is a second walk, after the syscall: a link changed in between resolves to its new target.
 *   Returns null when nothing can be said (the process is gone and was not a host process, the
 *   directory is gone too, or the result left the process's root); callers fall back to lexical
 *   normalisation.
 */
import { closeSync, constants, openSync, readlinkSync } from 'node:fs';

// O_PATH and O_NOFOLLOW on Linux; node's fs.constants has no O_PATH.
const O_PATH = 0o10000000;
const O_NOFOLLOW = constants.O_NOFOLLOW ?? 0o400000;

export interface SymlinkRequest {
  /** The process whose root the path is walked under, while it lives. */
  readonly pid: number;
  /** True when the process runs in the agent's own root (a host process): used after it has exited. */
  readonly hostProcess: boolean;
  readonly path: string;
  readonly followLast: boolean;
}

/** Where a lookup runs: `/proc/<pid>/root` while the process lives; '' (the agent's root) for host processes. */
export type FollowSymlinks = (request: SymlinkRequest) => string | null;

/** What `openSync(path, O_PATH…)` reached, named by /proc/self/fd; null when the open failed. */
function reached(path: string, followLast: boolean): string | null {
  let fd: number;
  try {
    fd = openSync(path, O_PATH | (followLast ? 0 : O_NOFOLLOW));
  } catch {
    return null;
  }
  try {
    return readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

/** `target` as seen from under `root` (both as the agent sees them); null when it is outside. */
function underRoot(root: string, target: string): string | null {
  if (root === '/') return target;
  if (target === root) return '/';
  return target.startsWith(`${root}/`) ? target.slice(root.length) : null;
}

function joinLast(directory: string, name: string): string {
  return directory === '/' ? `/${name}` : `${directory}/${name}`;
}

export const followSymlinks: FollowSymlinks = (request) => {
  const { pid, hostProcess, path, followLast } = request;
  if (!path.startsWith('/')) return null;
  let prefix = `/proc/${pid}/root`;
  let root = pid > 0 ? reached(prefix, true) : null;
  if (root === null) {
    if (!hostProcess) return null;
    prefix = '';
    root = '/';
  }
  const whole = reached(`${prefix}${path}`, followLast);
  if (whole !== null && !whole.endsWith(' (deleted)')) return underRoot(root, whole);
  // Gone (or a dangling link): the directory resolves, the last component stays as given.
  const slash = path.lastIndexOf('/');
  const name = path.slice(slash + 1);
  if (name === '' || name === '.' || name === '..') return null;
  const directory = reached(`${prefix}${path.slice(0, slash) || '/'}`, true);
  if (directory === null) return null;
  const inRoot = underRoot(root, directory);
  return inRoot === null ? null : joinLast(inRoot, name);
};
