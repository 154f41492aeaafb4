/** `stinger down`: stops what `stinger up --detach` started (services first, then the broker). */
import type { StingerConfig } from '@stinger/config';
import { stopRunningBroker } from '@stinger/local-broker';
import { forgetService, runDir, runningServices } from '../run-state.ts';
import { stopTimeoutMs } from '../workspace.ts';

async function waitGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      return true;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

/** Signals a process that may have exited meanwhile (a service that stops on its own, or just after the wait). */
function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

export async function down(config: StingerConfig, out: (line: string) => void): Promise<number> {
  // All at once: each service's graceful shutdown takes seconds (consumers leave their groups), the agent's longest.
  const services = runningServices(config);
  for (const { pid } of services) signal(pid, 'SIGTERM');
  await Promise.all(
    services.map(async ({ name, pid }) => {
      const timeoutMs = stopTimeoutMs(name);
      const gone = await waitGone(pid, timeoutMs);
      if (!gone) signal(pid, 'SIGKILL');
      forgetService(config, name);
      out(gone ? `${name}: stopped (pid ${pid})` : `${name}: killed (pid ${pid}); it had not stopped ${timeoutMs / 1000} s after SIGTERM`);
    }),
  );
  let stopped = services.length;
  if (await stopRunningBroker(runDir(config))) {
    out('local broker: stopped');
    stopped += 1;
  }
  if (stopped === 0) out('nothing was running');
  return 0;
}
