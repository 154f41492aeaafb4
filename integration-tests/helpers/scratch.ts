/**
 * A temporary directory for one test file's scratch files (policy YAML and the like), removed when the test file's
 * process exits — pass or fail — so test runs leave nothing in the temp directory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
