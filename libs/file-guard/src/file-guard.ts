/**
 * The file guard: enforcement by file identity, for the agent. Starts the worker (guard-worker.ts) that owns the
 * fanotify groups, sends it the identity rules and the container roots in force, and hands each refused open or
 * exec to `onDecision` for the agent to report.
 *
 * Contract:
 * - `startFileGuard` resolves once the worker holds its groups, or reports the guard unavailable (no
 *   CAP_SYS_ADMIN, no fanotify in the kernel): `unavailableReason()` then says why and rules are not enforced;
 * - `setRules`/`setRoots` replace what the worker enforces; marks follow within milliseconds;
 * - should the worker end without closing its groups, the guard closes their descriptors itself, so no file is
 *   left unopenable; `close()` stops the worker and resolves when the groups are closed.
 */
import { closeDescriptor } from './fanotify.ts';
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import type { Logger } from '@stinger/log';
import type { GuardRule } from './guard-rules.ts';
import { GUARD_COUNTERS, type GuardCounter, type GuardDecision, type GuardRootSpec, type WorkerData, type WorkerMessage } from './protocol.ts';

export interface FileGuardOptions {
  readonly logger: Logger;
  readonly onDecision: (decision: GuardDecision) => void;
  /** After each change of marks: how many, and what could not be marked. */
  readonly onPlan?: (marks: number, problems: readonly string[]) => void;
}

export interface FileGuard {
  /** null while the guard enforces; else why it cannot (identity rules are then not enforced on this node). */
  unavailableReason(): string | null;
  setRules(rules: readonly GuardRule[]): void;
  setRoots(roots: readonly GuardRootSpec[]): void;
  counters(): Record<GuardCounter, number>;
  /** What the last plan could not mark. */
  problems(): readonly string[];
  close(): Promise<void>;
}

export async function startFileGuard(options: FileGuardOptions): Promise<FileGuard> {
  const logger = options.logger.child({ module: 'file-guard' });
  const counterBuffer = new SharedArrayBuffer(8 * GUARD_COUNTERS.length);
  const counters = new BigInt64Array(counterBuffer);
  const channel = new MessageChannel();
  const data = { selfPid: process.pid, counters: counterBuffer, port: channel.port2 } satisfies WorkerData & { port: unknown };
  const worker = new Worker(new URL('./guard-worker.ts', import.meta.url), { workerData: data, transferList: [channel.port2] });
  let fds: readonly number[] = [];
  let closedByWorker = false;
  let unavailable: string | null = null;
  let problems: readonly string[] = [];
  let rules: readonly GuardRule[] = [];

  let onMessage: (message: WorkerMessage) => void = () => {};
  const ready = new Promise<void>((resolve) => {
    channel.port1.on('message', (onMessage = (message: WorkerMessage) => {
      switch (message.type) {
        case 'ready':
          fds = message.fds;
          resolve();
          return;
        case 'unavailable':
          unavailable = message.reason;
          logger.warn({ reason: message.reason }, 'fanotify unavailable: rules by file identity are not enforced on this node');
          resolve();
          return;
        case 'plan':
          problems = message.problems;
          if (message.problems.length > 0) logger.warn({ marks: message.marks, problems: message.problems }, 'file guard: some targets not marked');
          else logger.info({ marks: message.marks, rules: rules.length }, 'file guard: marks in place');
          options.onPlan?.(message.marks, message.problems);
          return;
        case 'decision':
          options.onDecision(message.decision);
          return;
        case 'failed':
          logger.error({ reason: message.reason }, 'file guard worker error');
          return;
        case 'closed':
          closedByWorker = true;
          return;
      }
    }));
  });
  const exited = new Promise<void>((resolve) => {
    worker.once('exit', (code) => {
      // Messages the worker sent last may still be queued behind its exit.
      for (let left = receiveMessageOnPort(channel.port1); left !== undefined; left = receiveMessageOnPort(channel.port1)) onMessage(left.message as WorkerMessage);
      if (!closedByWorker && fds.length > 0) {
        // The worker died holding the groups: release every waiting and future open of a marked file.
        for (const fd of fds) {
          try {
            closeDescriptor(fd);
          } catch {
            // closed already
          }
        }
        logger.error({ code }, 'file guard worker ended without closing its groups; closed them: identity rules are no longer enforced');
      }
      unavailable ??= `the file guard worker ended (code ${code})`;
      channel.port1.close();
      resolve();
    });
  });
  worker.on('error', (error) => logger.error({ err: error }, 'file guard worker failed'));
  await Promise.race([ready, exited]);

  return {
    unavailableReason: () => unavailable,
    setRules(next) {
      rules = next;
      channel.port1.postMessage({ type: 'rules', rules: next });
    },
    setRoots(roots) {
      channel.port1.postMessage({ type: 'roots', roots });
    },
    counters() {
      return Object.fromEntries(GUARD_COUNTERS.map((name, index) => [name, Number(Atomics.load(counters, index))])) as Record<GuardCounter, number>;
    },
    problems: () => problems,
    async close() {
      channel.port1.postMessage({ type: 'stop' });
      await exited;
    },
  };
}
