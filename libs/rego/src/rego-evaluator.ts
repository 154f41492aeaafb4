/**
 * RegoBatchEvaluator: evaluates Rego modules (compiled to WebAssembly) on batches of inputs in a worker thread, so that
 * a module that runs too long on one input is stopped without stalling the caller.
 *
 * Contract:
 *  - `set(key, wasm)` loads (or with null, drops) a module; a module that does not load is reported by `evaluate` as
 *    failed for each input naming it.
 *  - `evaluate(jobs)` resolves one result per job, in order: the alerts (checked, rego-alerts.ts), or `stopped` (the
 *    job ran longer than `budgetMs`: the worker is terminated — WebAssembly cannot be interrupted otherwise — and a new
 *    one loads every module and evaluates the other jobs again), or `failed` (the module trapped or is not loaded).
 *    A batch therefore takes at most about budgetMs per stopped job more than its evaluation time.
 *  - One batch at a time (the detector awaits each); `close()` ends the worker.
 */
import { Worker } from 'node:worker_threads';
import type { RegoAlert } from './rego-alerts.ts';
import type { JobResult, WorkerReply, WorkerRequest } from './rego-worker.ts';

export interface RegoJob {
  readonly key: string;
  /** The input document as JSON text. */
  readonly input: string;
}

export type RegoResult = { readonly kind: 'alerts'; readonly alerts: readonly RegoAlert[]; readonly malformed: number } | { readonly kind: 'stopped' } | { readonly kind: 'failed'; readonly reason: string };

export interface RegoEvaluatorStats {
  evaluations: number;
  stopped: number;
  failed: number;
  workerRestarts: number;
}

export interface RegoBatchEvaluatorOptions {
  /** Longest one evaluation may run before it is stopped. Default 50 ms. */
  readonly budgetMs?: number;
}

const WORKER_URL = new URL('./rego-worker.ts', import.meta.url);
/** A worker that has not begun a batch after this long (start-up, loading every module) is broken, not slow. */
const WORKER_START_TIMEOUT_MS = 30_000;

export class RegoBatchEvaluator {
  readonly #budgetMs: number;
  readonly #modules = new Map<string, Uint8Array>();
  readonly stats: RegoEvaluatorStats = { evaluations: 0, stopped: 0, failed: 0, workerRestarts: 0 };
  #worker: Worker | null = null;
  #batchId = 0;

  constructor(options: RegoBatchEvaluatorOptions = {}) {
    this.#budgetMs = options.budgetMs ?? 50;
  }

  set(key: string, wasm: Uint8Array | null): void {
    if (wasm === null) this.#modules.delete(key);
    else this.#modules.set(key, wasm);
    this.#worker?.postMessage({ type: 'set', key, wasm } satisfies WorkerRequest);
  }

  get size(): number {
    return this.#modules.size;
  }

  async evaluate(jobs: readonly RegoJob[]): Promise<RegoResult[]> {
    const results: RegoResult[] = new Array<RegoResult>(jobs.length);
    // Indexes of the jobs without a result yet; a stopped job leaves it, and the rest run again on a new worker.
    let pending = jobs.map((_job, index) => index);
    while (pending.length > 0) {
      const outcome = await this.#run(pending.map((index) => jobs[index] as RegoJob));
      if (outcome.stoppedAt === null) {
        outcome.results.forEach((result, position) => {
          results[pending[position] as number] = 'error' in result ? { kind: 'failed', reason: result.error } : { kind: 'alerts', alerts: result.alerts, malformed: result.malformed };
        });
        break;
      }
      results[pending[outcome.stoppedAt] as number] = { kind: 'stopped' };
      pending = pending.filter((_index, position) => position !== outcome.stoppedAt);
    }
    for (const result of results) {
      this.stats.evaluations += 1;
      if (result.kind === 'stopped') this.stats.stopped += 1;
      if (result.kind === 'failed') this.stats.failed += 1;
    }
    return results;
  }

  async close(): Promise<void> {
    const worker = this.#worker;
    this.#worker = null;
    await worker?.terminate();
  }

  #start(): Worker {
    if (this.#worker !== null) return this.#worker;
    const worker = new Worker(WORKER_URL);
    worker.unref();
    for (const [key, wasm] of this.#modules) worker.postMessage({ type: 'set', key, wasm } satisfies WorkerRequest);
    this.#worker = worker;
    return worker;
  }

  /** Runs jobs until done (stoppedAt null, every result) or one overruns (its index; results of the jobs before it). */
  #run(jobs: readonly RegoJob[]): Promise<{ results: JobResult[]; stoppedAt: number | null }> {
    const worker = this.#start();
    const progress = new SharedArrayBuffer(4);
    const cell = new Int32Array(progress);
    Atomics.store(cell, 0, -1); // -1 until the worker takes the batch: its start-up and module loading are not a job's
    const id = ++this.#batchId;
    const posted = performance.now();
    return new Promise((resolve, reject) => {
      let watched = -1;
      let since = performance.now();
      const timer = setInterval(() => {
        const index = Atomics.load(cell, 0);
        const now = performance.now();
        if (index < 0) {
          if (now - posted < WORKER_START_TIMEOUT_MS) return;
          finish();
          this.#worker = null;
          void worker.terminate();
          reject(new Error(`the Rego worker did not take a batch within ${WORKER_START_TIMEOUT_MS} ms`));
          return;
        }
        if (index !== watched) {
          watched = index;
          since = now;
          return;
        }
        if (now - since < this.#budgetMs) return;
        // The same job for a whole budget: stop it. The jobs before it are evaluated again by the next worker.
        finish();
        this.#worker = null;
        this.stats.workerRestarts += 1;
        void worker.terminate();
        resolve({ results: [], stoppedAt: index });
      }, Math.max(1, Math.floor(this.#budgetMs / 4)));
      const onMessage = (reply: WorkerReply): void => {
        if (reply.type !== 'batch' || reply.id !== id) return;
        finish();
        resolve({ results: reply.results, stoppedAt: null });
      };
      const onError = (error: Error): void => {
        finish();
        this.#worker = null;
        reject(error);
      };
      const finish = (): void => {
        clearInterval(timer);
        worker.off('message', onMessage);
        worker.off('error', onError);
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.postMessage({ type: 'batch', id, jobs, progress } satisfies WorkerRequest);
    });
  }
}
