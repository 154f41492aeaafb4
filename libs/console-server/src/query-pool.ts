/**
 * Where the API's queries run. node:sqlite is synchronous: a query over a day of events takes seconds
 * (docs/BENCHMARKS.md), and on the server's thread it would stall ingest, the live stream and every other request.
 * So a store on disk is queried by worker threads, each with its own read-only connection (WAL: readers never wait
 * for the writer); an in-memory store, which only its own connection sees, is queried in place.
 *
 * Contract: `answer` resolves with the endpoint's answer, or rejects when the query failed (the server answers 500);
 * a worker that dies is replaced, and its pending requests are rejected.
 */
import { Worker } from 'node:worker_threads';
import type { ConsoleStore } from '@stinger/console-store';
import { namespaced, type Logger } from '@stinger/log';
import { answerEndpoint, type ApiAnswer } from './endpoints.ts';

export interface ApiRequest {
  readonly pathname: string;
  readonly search: string;
  readonly now: number;
}

export interface QueryRunner {
  answer(request: ApiRequest): Promise<ApiAnswer>;
  close(): Promise<void>;
}

/** Queries on the caller's thread: for an in-memory store and tests. */
export function inProcessQueries(store: ConsoleStore): QueryRunner {
  return {
    answer: async (request) => answerEndpoint(store, request, request.now),
    close: async () => undefined,
  };
}

/** What the worker (query-worker.ts) is started with. */
export interface QueryWorkerData {
  readonly storePath: string;
  readonly retentionMs: number;
  readonly maxEvents: number;
}

export interface QueryWorkerRequest extends ApiRequest {
  readonly id: number;
}

export type QueryWorkerReply = { readonly id: number; readonly answer: ApiAnswer } | { readonly id: number; readonly error: string };

interface Pending {
  readonly resolve: (answer: ApiAnswer) => void;
  readonly reject: (error: Error) => void;
}

interface PooledWorker {
  worker: Worker;
  readonly pending: Map<number, Pending>;
}

export function createQueryPool(options: { readonly store: QueryWorkerData; readonly workers: number; readonly logger: Logger }): QueryRunner {
  const logger = namespaced(options.logger, 'QueryPool');
  let nextId = 0;
  let closing = false;

  function start(slot: PooledWorker | null): PooledWorker {
    const worker = new Worker(new URL('./query-worker.ts', import.meta.url), { workerData: options.store });
    const pooled: PooledWorker = slot ?? { worker, pending: new Map() };
    pooled.worker = worker;
    worker.on('message', (reply: QueryWorkerReply) => {
      const pending = pooled.pending.get(reply.id);
      pooled.pending.delete(reply.id);
      if ('answer' in reply) pending?.resolve(reply.answer);
      else pending?.reject(new Error(reply.error));
    });
    worker.on('error', (error) => logger.error({ err: error }, 'query worker failed'));
    worker.on('exit', (code) => {
      for (const pending of pooled.pending.values()) pending.reject(new Error(`query worker exited (${code})`));
      pooled.pending.clear();
      if (!closing) {
        logger.warn({ code }, 'query worker exited; starting another');
        start(pooled);
      }
    });
    worker.unref();
    return pooled;
  }

  const pool = Array.from({ length: Math.max(1, options.workers) }, () => start(null));
  return {
    answer(request) {
      // The least busy worker: a long query does not hold up the short ones behind it when another is free.
      const pooled = pool.reduce((best, candidate) => (candidate.pending.size < best.pending.size ? candidate : best));
      const id = nextId++;
      return new Promise<ApiAnswer>((resolve, reject) => {
        pooled.pending.set(id, { resolve, reject });
        pooled.worker.postMessage({ id, ...request } satisfies QueryWorkerRequest);
      });
    },
    async close() {
      closing = true;
      await Promise.all(pool.map((pooled) => pooled.worker.terminate()));
    },
  };
}
