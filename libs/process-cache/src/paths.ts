/**
 * Path normalisation for what processes pass to syscalls (docs/architecture.md: kernel-side matching sees
 * the string the process passed; user space normalises what can be normalised). Pure string logic:
 * symlinks are not followed here: that needs the file system (symlinks.ts), and these are the fallback when it cannot be walked.
 */

/** Collapses repeated slashes, `.` and `..` of an absolute path; `..` above the root stays at the root. */
export function normalizeAbsolutePath(path: string): string {
  if (!path.startsWith('/')) throw new RangeError(`not an absolute path: ${JSON.stringify(path)}`);
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return `/${parts.join('/')}`;
}

/**
 * The absolute, normalised path for `given` as seen by a process whose working directory is `cwd`.
 * Returns null when `given` is relative and the cwd is unknown.
 */
export function resolvePath(cwd: string | null, given: string): string | null {
  if (given.startsWith('/')) return normalizeAbsolutePath(given);
  if (cwd === null || !cwd.startsWith('/')) return null;
  return normalizeAbsolutePath(`${cwd}/${given}`);
}
