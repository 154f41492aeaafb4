/**
 * The Rego modules of the policies `stinger policy apply` is given, compiled to WebAssembly before anything is applied
 * (opa from the cache, built by `stinger setup` or here on first use): a module that does not compile refuses the
 * whole apply, each problem named by file, policy and the module's line.
 */
import { policyKey } from '@stinger/policy';
import { buildOpa, compileRego } from '@stinger/rego';
import { CliError } from '../errors.ts';
import type { PolicyCommandOptions } from './policy.ts';
import type { PolicyDocument } from './policy-documents.ts';

/** `documents` with each Rego module's wasm; throws CliError listing every module that does not compile. */
export async function withCompiledRego(options: Pick<PolicyCommandOptions, 'config' | 'logger'>, documents: readonly PolicyDocument[]): Promise<PolicyDocument[]> {
  if (documents.every((d) => d.policy.spec.rego === null)) return [...documents];
  const opa = await buildOpa({ cacheDir: options.config.cacheDir, logger: options.logger });
  const problems: string[] = [];
  const compiled: PolicyDocument[] = [];
  for (const document of documents) {
    const { rego } = document.policy.spec;
    if (rego === null) {
      compiled.push(document);
      continue;
    }
    const result = await compileRego(rego, { opaPath: opa.path });
    if (result.wasm !== undefined) compiled.push({ ...document, regoWasm: result.wasm });
    for (const problem of result.problems ?? []) {
      problems.push(`${document.source}: ${policyKey(document.policy)}: spec.rego.module${problem.line === null ? '' : ` line ${problem.line}`}: ${problem.message}`);
    }
  }
  if (problems.length > 0) {
    for (const problem of problems) process.stderr.write(`${problem}\n`);
    throw new CliError(`${problems.length} Rego problem(s); nothing was applied`);
  }
  return compiled;
}
