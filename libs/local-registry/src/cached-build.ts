/**
 * One folder of the tool cache, made once per key: `buildCached` runs `build` into a staging folder beside `dir` and
 * renames it into place, then writes the key into `<dir>.key`. A later call with the same key returns at once; a
 * changed key (a changed pom, requirements file) or an interrupted build makes it again. Concurrent callers each
 * build their own staging folder; the first to finish wins and the others discard theirs.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { LocalRegistryError } from './errors.ts';

/** SHA-256 (hex) over files, each preceded by its name: a cache key that changes with any of them. */
export async function hashFiles(files: readonly string[]): Promise<string> {
  const hash = createHash('sha256');
  for (const file of files) hash.update(file).update('\0').update(await readFile(file));
  return hash.digest('hex');
}

/**
 * Resolves true when it built `dir` now, false when `dir` was already built for `key`. `{ dir, inPlace: true }`:
 * `build` gets `dir` itself (emptied first), for what cannot be moved once made (a Python venv names its own path);
 * concurrent in-place builds of one folder are then the caller's to avoid.
 */
export async function buildCached(dir: string, key: string, build: (staging: string) => Promise<void>): Promise<boolean>;
export async function buildCached(target: { readonly dir: string; readonly inPlace: true }, key: string, build: (dir: string) => Promise<void>): Promise<boolean>;
export async function buildCached(target: string | { readonly dir: string; readonly inPlace: true }, key: string, build: (staging: string) => Promise<void>): Promise<boolean> {
  const dir = typeof target === 'string' ? target : target.dir;
  const inPlace = typeof target !== 'string';
  const keyFile = `${dir}.key`;
  const current = async (): Promise<boolean> => (await readFile(keyFile, 'utf8').catch(() => '')).trim() === key;
  if (await current()) return false;
  await mkdir(dirname(dir), { recursive: true });
  if (inPlace) {
    await rm(keyFile, { force: true });
    await rm(dir, { recursive: true, force: true });
    await build(dir);
    await writeFile(keyFile, `${key}\n`);
    return true;
  }
  const staging = `${dir}.partial-${process.pid}-${randomBytes(4).toString('hex')}`;
  await mkdir(staging, { recursive: true });
  try {
    await build(staging);
    if (!(await current())) {
      await rm(keyFile, { force: true });
      await rm(dir, { recursive: true, force: true });
      await rename(staging, dir);
      await writeFile(keyFile, `${key}\n`);
    }
    return true;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** Runs a build tool (mvn, pip); a failure is a LocalRegistryError with the tail of its output. */
export function runTool(command: string, args: readonly string[], options: { readonly timeoutMs: number; readonly what: string; readonly cwd?: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: options.timeoutMs, maxBuffer: 32 * 1024 * 1024, ...(options.cwd ? { cwd: options.cwd } : {}) }, (error, stdout, stderr) => {
      if (!error) {
        resolve();
        return;
      }
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        reject(new LocalRegistryError(`"${command}" was not found on PATH; it ${options.what}`, { cause: error }));
        return;
      }
      const detail = `${stdout}${stderr}`.trimEnd().split('\n').slice(-30).join('\n');
      const message = error.killed ? `${command} did not finish within ${options.timeoutMs} ms: it ${options.what}` : `${command} failed: it ${options.what}`;
      reject(new LocalRegistryError(message, { retriable: true, cause: error, detail }));
    });
  });
}
