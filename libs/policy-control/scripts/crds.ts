// Writes the TracingPolicy CRDs to k8s/crds/ (see src/crds.ts).
// Usage: node libs/policy-control/scripts/crds.ts [--check]
// --check writes nothing and exits 1 naming every file whose content differs from what would be generated, and every
// file in k8s/crds/ that would not be generated at all.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { policyCrdFiles } from '../src/crds.ts';

const REPO_DIR = resolve(fileURLToPath(new URL('../../../', import.meta.url)));
export const CRDS_DIR = join(REPO_DIR, 'k8s', 'crds');

/** Files under `dir` that differ from the generated ones, or that nothing generates (paths relative to the repo). */
export function staleCrdFiles(dir: string = CRDS_DIR): string[] {
  const files = policyCrdFiles();
  const stale = files.filter((f) => !existsSync(join(dir, f.name)) || readFileSync(join(dir, f.name), 'utf8') !== f.text).map((f) => f.name);
  const extra = existsSync(dir) ? readdirSync(dir).filter((name) => name.endsWith('.yaml') && !files.some((f) => f.name === name)) : [];
  return [...stale, ...extra].map((name) => relative(REPO_DIR, join(dir, name)));
}

if (import.meta.main) {
  if (process.argv.includes('--check')) {
    const stale = staleCrdFiles();
    if (stale.length > 0) {
      console.error(`stale CRDs (run \`npm run crds\`): ${stale.join(', ')}`);
      process.exit(1);
    }
    console.log('k8s/crds/ is current');
  } else {
    mkdirSync(CRDS_DIR, { recursive: true });
    for (const file of policyCrdFiles()) writeFileSync(join(CRDS_DIR, file.name), file.text);
    console.log(`wrote ${policyCrdFiles().map((f) => `k8s/crds/${f.name}`).join(', ')}`);
  }
}
