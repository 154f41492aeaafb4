/** `stinger registry up` as a user runs it, for the tests of the registry mode. */
import { startStinger, type CliResult } from './cli.ts';

/** `stinger registry up` under `env`, allowed the registry's start on a loaded machine (runStinger gives a command 60 s). */
export async function registryUp(env: Readonly<Record<string, string>>): Promise<CliResult> {
  const started = startStinger(['registry', 'up'], env);
  const timer = setTimeout(() => started.stop(), 180_000);
  try {
    return await started.exited;
  } finally {
    clearTimeout(timer);
  }
}
