/**
 * Runs a Stinger service (services/<name>/src/main.ts) as a child process for integration tests and waits
 * for the log line that says it is running. Its pino log (stderr) is kept for failure messages.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface StartedService {
  readonly child: ChildProcess;
  /** Every line the service logged so far. */
  readonly log: string[];
  /** Resolves once the ready message was logged; rejects if the service exits first or after `timeoutMs`. */
  readonly running: Promise<void>;
}

export interface StartServiceOptions {
  readonly service: 'agent' | 'enricher' | 'policy-controller' | 'detector' | 'enforcer' | 'console';
  readonly env: NodeJS.ProcessEnv;
  /** The `msg` of the log line that means the service is up, e.g. "enricher running". */
  readonly readyMessage: string;
  readonly timeoutMs?: number;
}

export function serviceMain(service: StartServiceOptions['service']): string {
  return fileURLToPath(new URL(`../../services/${service}/src/main.ts`, import.meta.url));
}

/**
 * Services still running when the test process ends (a test failed before its `after`, or the runner cancelled the
 * file with SIGTERM or SIGINT) are SIGKILLed with it, so no test leaves services behind that hold cgroups, eBPF
 * programs or ports. (A SIGKILLed test process runs nothing; its services then outlive it.)
 */
const runningServices = new Set<ChildProcess>();
function killRunningServices(): void {
  for (const child of runningServices) child.kill('SIGKILL');
}
process.once('exit', killRunningServices);
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    killRunningServices();
    process.kill(process.pid, signal); // the default action now that this handler is gone: end as the signal says
  });
}

export function startService(options: StartServiceOptions): StartedService {
  const { service, env, readyMessage, timeoutMs = 60_000 } = options;
  const child = spawn(process.execPath, ['--disable-warning=TimeoutNegativeWarning', serviceMain(service)], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  runningServices.add(child);
  child.once('exit', () => runningServices.delete(child));
  const log: string[] = [];
  let pending = '';
  const running = new Promise<void>((resolve, reject) => {
    const tail = () => log.slice(-20).join('\n');
    const timer = setTimeout(() => reject(new Error(`${service} not running after ${timeoutMs} ms:\n${tail()}`)), timeoutMs);
    child.stderr?.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      log.push(...lines);
      if (lines.some((line) => line.includes(`"msg":"${readyMessage}"`))) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${service} exited (${code ?? signal}) before running:\n${tail()}`));
    });
  });
  // The exit rejection after a successful start must not become an unhandled rejection.
  running.catch(() => undefined);
  return { child, log, running };
}

/** SIGTERM, then SIGKILL after `killAfterMs` if it is still running; resolves with the exit code (null: killed by a signal). */
export async function stopService(child: ChildProcess, killAfterMs = 15_000): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  const code = await exited;
  clearTimeout(timer);
  return code;
}
