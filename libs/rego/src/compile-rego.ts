/**
 * A Rego module → WebAssembly, by `opa build -t wasm -e <entrypoint>` (the opa of opa-build.ts), at `stinger policy
 * apply` time (CLI) and when the policy-controller publishes a custom resource; the detector evaluates the result
 * (rego-evaluator.ts) and never runs opa itself.
 *
 * Contract: resolves `{ wasm }` (policy.wasm of the bundle opa writes) or `{ problems }`, each with the line of the
 * module opa names (1-based, in the module as written) and opa's message; rejects only when opa cannot be run.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

export interface RegoProblem {
  /** Line in the module; null when opa names none (e.g. an entrypoint that does not exist). */
  readonly line: number | null;
  readonly message: string;
}

export type RegoCompilation = { readonly wasm: Buffer; readonly problems?: undefined } | { readonly wasm?: undefined; readonly problems: readonly RegoProblem[] };

const MODULE_FILE = 'policy.rego';
const BUILD_TIMEOUT_MS = 60_000;

/** One file of a tar archive (ustar: 512-byte header, name at 0, octal size at 124, data padded to 512). */
export function tarEntry(archive: Buffer, wanted: string): Buffer | null {
  for (let offset = 0; offset + 512 <= archive.length; ) {
    const header = archive.subarray(offset, offset + 512);
    const name = header.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '');
    if (name === '') return null;
    const size = Number.parseInt(header.subarray(124, 136).toString('utf8').replace(/\0.*$/s, '').trim() || '0', 8);
    if (name.replace(/^\.?\//, '') === wanted.replace(/^\//, '')) return archive.subarray(offset + 512, offset + 512 + size);
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return null;
}

/** opa's error lines (`policy.rego:5: rego_parse_error: unexpected } token`) as problems; the whole text when none parse. */
export function regoProblemsOf(output: string): RegoProblem[] {
  const problems: RegoProblem[] = [];
  const pattern = new RegExp(`${MODULE_FILE.replace('.', '\\.')}:(\\d+): (.*)$`, 'gm');
  for (const match of output.matchAll(pattern)) problems.push({ line: Number(match[1]), message: (match[2] ?? '').trim() });
  if (problems.length > 0) return problems;
  const text = output.replace(/^error: /m, '').trim();
  return [{ line: null, message: text === '' ? 'opa build failed' : text.split('\n')[0] ?? text }];
}

export async function compileRego(spec: { readonly module: string; readonly entrypoint: string }, options: { readonly opaPath: string }): Promise<RegoCompilation> {
  const dir = await mkdtemp(join(tmpdir(), 'stinger-rego-'));
  try {
    await writeFile(join(dir, MODULE_FILE), spec.module);
    const bundle = join(dir, 'bundle.tar.gz');
    const output = await new Promise<string | null>((resolve, reject) => {
      execFile(options.opaPath, ['build', '-t', 'wasm', '-e', spec.entrypoint, '-o', bundle, MODULE_FILE], { cwd: dir, timeout: BUILD_TIMEOUT_MS }, (error, stdout, stderr) => {
        if (error === null) resolve(null);
        else if (typeof error.code === 'number') resolve(`${stderr}\n${stdout}`);
        else reject(new Error(`could not run ${options.opaPath}: ${error.message}`, { cause: error }));
      });
    });
    if (output !== null) return { problems: regoProblemsOf(output) };
    const wasm = tarEntry(gunzipSync(await readFile(bundle)), '/policy.wasm');
    if (wasm === null) return { problems: [{ line: null, message: 'opa build wrote no policy.wasm' }] };
    return { wasm: Buffer.from(wasm) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
