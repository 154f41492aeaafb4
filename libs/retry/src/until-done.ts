/**
 * Retrying a step until it succeeds, for what a service must eventually do whatever the weather (connect to Kafka,
 * follow a topic): exponential back-off with jitter between attempts, so a fleet of agents restarted together does
 * not knock on the broker in step. Each failure is logged at warn with its attempt number; the success at info.
 * Who calls: the agent's start-up (libs/agent), the enforcer's sends (sendUntilDelivered). It never gives up: callers that must, use a step that throws
 * `stop` (returned as rejected).
 */
import type { Logger } from '@stinger/log';
import { backoffDelay, type BackoffOptions } from './backoff.ts';

export interface UntilDoneOptions {
  /** What is being done, for the log lines ("connect to Kafka"). */
  readonly what: string;
  readonly logger: Logger;
  readonly backoff?: BackoffOptions;
  /** Errors for which retrying is pointless (a configuration error): the promise rejects with them at once. */
  readonly isFatal?: (error: unknown) => boolean;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Log the success only when it needed retries (for a step run per batch, whose first-try success is the norm). */
  readonly quietFirstSuccess?: boolean;
}

export async function untilDone(options: UntilDoneOptions, step: () => Promise<void>): Promise<void> {
  const { what, logger, isFatal = () => false, sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms)) } = options;
  for (let attempt = 1; ; attempt += 1) {
    try {
      await step();
      if (attempt > 1 || options.quietFirstSuccess !== true) logger.info({ attempt }, `${what}: done`);
      return;
    } catch (error) {
      if (isFatal(error)) throw error;
      const delayMs = backoffDelay(attempt, options.backoff);
      logger.warn({ err: error, attempt, delayMs }, `${what}: failed; retrying`);
      await sleep(delayMs);
    }
  }
}
