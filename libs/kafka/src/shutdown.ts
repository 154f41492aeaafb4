/**
 * Graceful shutdown for long-running consumers and producers.
 *
 * Contract: `main.ts` registers everything that must be closed; on the first SIGTERM or SIGINT the
 * closers run in reverse registration order (consumers stop before the producers they feed), then
 * the process exits 0. A second signal, or a closer that hangs past `timeoutMs`, exits 1 at once.
 * `fail` is for a fatal error found while running (a refused output schema): its message is logged as the one fatal
 * line, the closers run alike, and the process exits 1 however they went, so a supervisor sees the crash.
 */
import { namespaced, type Logger } from '@stinger/log';

export interface ShutdownOptions {
  readonly logger: Logger;
  readonly timeoutMs?: number;
  readonly signals?: readonly NodeJS.Signals[];
  /** Replaced in tests; defaults to process.exit. */
  readonly exit?: (code: number) => void;
}

export interface Shutdown {
  register(name: string, close: () => Promise<void>): void;
  /** Runs the closers as a signal would; resolves with the exit code it chose. */
  trigger(reason: string): Promise<number>;
  /** Logs `error`'s message as the fatal line, runs the closers as a signal would, and exits 1 (resolves with 1). */
  fail(error: Error): Promise<number>;
  /** True from the moment the closers start: loops that retry until done (sendUntilDelivered) give up then. */
  readonly stopping: boolean;
}

export function installShutdown(options: ShutdownOptions): Shutdown {
  const { timeoutMs = 15_000, signals = ['SIGTERM', 'SIGINT'], exit = (code: number) => process.exit(code) } = options;
  const logger = namespaced(options.logger, 'Shutdown');
  const closers: { name: string; close: () => Promise<void> }[] = [];
  let running: Promise<number> | null = null;
  let failed = false;
  // Set before the first closer runs (`running` is only assigned once closeAll returns its promise).
  let stopping = false;

  async function closeAll(reason: string): Promise<number> {
    stopping = true;
    logger.info({ reason }, 'shutting down');
    const deadline = new Promise<number>((resolve) => setTimeout(() => resolve(1), timeoutMs).unref());
    const orderly = (async () => {
      let code = 0;
      for (const { name, close } of [...closers].reverse()) {
        try {
          logger.debug({ closer: name }, 'closing');
          await close();
        } catch (error) {
          code = 1;
          logger.error({ err: error, closer: name }, 'close failed');
        }
      }
      return code;
    })();
    const code = await Promise.race([orderly, deadline]);
    if (code !== 0) logger.warn({ code }, 'shutdown was not clean');
    return code;
  }

  const shutdown: Shutdown = {
    get stopping() {
      return stopping;
    },
    register(name, close) {
      closers.push({ name, close });
    },
    trigger(reason) {
      running ??= closeAll(reason).then((closed) => {
        const code = failed ? 1 : closed;
        exit(code);
        return code;
      });
      return running;
    },
    fail(error) {
      options.logger.fatal(error.message);
      failed = true;
      return shutdown.trigger(error.name);
    },
  };
  for (const signal of signals) {
    process.on(signal, () => {
      if (running) {
        logger.warn({ signal }, 'second signal: exiting now');
        exit(1);
        return;
      }
      void shutdown.trigger(signal);
    });
  }
  return shutdown;
}
