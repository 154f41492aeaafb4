/**
 * How a process reached a file the guard acted on, from the path it passed to the syscall: the FilePayload /
 * ExecPayload `reached_by` values. Pure; the worker supplies the file system lookups.
 */
import { normalizeAbsolutePath } from '@stinger/process-cache';

export type ReachedBy = 'path' | 'non_canonical' | 'relative' | 'dirfd' | 'symlink' | 'hard_link' | 'bind_mount' | 'fd_link' | 'unknown';

export const AT_FDCWD = -100;

export interface ReachInput {
  /** The path string the process passed; null when it could not be read. */
  readonly given: string | null;
  readonly dirfd: number;
  /** The directory a relative path starts from (cwd or the dirfd's path), in the process's namespace; null: unknown. */
  readonly baseDirectory: string | null;
  /** The file's path as the rule names it (the marked target), in the process's namespace. */
  readonly target: string;
  /** Follows symlinks in an absolute path of the process's namespace; null when it cannot. */
  readonly realpath: (path: string) => string | null;
  /** The file's link count. */
  readonly links: number;
  /** Whether the path, or a directory above it, is a bind mount (a mount of something other than a file system's root). */
  readonly underBindMount: (path: string) => boolean;
}

export function reachedBy(input: ReachInput): ReachedBy {
  const { given, target } = input;
  if (given === null) return 'unknown';
  if (/^\/proc\/(self|thread-self|\d+)\/fd\/\d+$/.test(given) || /^\/dev\/fd\/\d+$/.test(given)) return 'fd_link';
  const relative = !given.startsWith('/');
  if (relative && input.baseDirectory === null) return 'unknown';
  const joined = relative ? `${input.baseDirectory}/${given}` : given;
  const lexical = normalizeAbsolutePath(joined);
  if (lexical === target) {
    if (relative) return input.dirfd === AT_FDCWD ? 'relative' : 'dirfd';
    return lexical === given ? 'path' : 'non_canonical';
  }
  if (input.realpath(lexical) === target) return 'symlink';
  if (input.underBindMount(lexical)) return 'bind_mount';
  return input.links > 1 ? 'hard_link' : 'unknown';
}

/**
 * Bind mounts in a mountinfo text (proc_pid_mountinfo(5)): mount points whose root is not their file system's
 * root, i.e. a directory or file mounted elsewhere. Octal escapes (`\040` for a space) are decoded.
 */
export function bindMountPoints(mountinfo: string): Set<string> {
  const points = new Set<string>();
  for (const line of mountinfo.split('\n')) {
    const fields = line.split(' ');
    if (fields.length < 5 || fields[3] === '/') continue;
    points.add((fields[4] ?? '').replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))));
  }
  return points;
}

/** Whether `path` is one of `points` or lies below one. */
export function isUnder(points: ReadonlySet<string>, path: string): boolean {
  for (let current = path; ; current = current.slice(0, current.lastIndexOf('/')) || '/') {
    if (points.has(current)) return true;
    if (current === '/') return false;
  }
}
