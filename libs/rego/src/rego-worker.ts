/**
 * The worker thread of RegoBatchEvaluator: holds the loaded modules and evaluates batches. Before each job it stores
 * the job's index in the shared progress cell, so the owner knows which job a module was running when it stopped it.
 */
import { parentPort } from 'node:worker_threads';
import * as opaWasm from '@open-policy-agent/opa-wasm';
import { regoAlertsOf, type RegoAlert } from './rego-alerts.ts';

// The package's ES module exports loadPolicySync only on its default export, which its type declarations leave out.
const { loadPolicySync } = (opaWasm as unknown as { readonly default: typeof opaWasm }).default;
type LoadedPolicy = ReturnType<typeof loadPolicySync>;
export type WorkerRequest =
  | { readonly type: 'set'; readonly key: string; readonly wasm: Uint8Array | null }
  | { readonly type: 'batch'; readonly id: number; readonly jobs: readonly { readonly key: string; readonly input: string }[]; readonly progress: SharedArrayBuffer };
export type JobResult = { readonly alerts: RegoAlert[]; readonly malformed: number } | { readonly error: string };
export type WorkerReply = { readonly type: 'batch'; readonly id: number; readonly results: JobResult[] } | { readonly type: 'set'; readonly key: string; readonly error: string | null };

const modules = new Map<string, LoadedPolicy>();
const encoder = new TextEncoder();
const port = parentPort;
if (port === null) throw new Error('rego-worker.ts runs as a worker thread');

port.on('message', (request: WorkerRequest) => {
  if (request.type === 'set') {
    try {
      if (request.wasm === null) modules.delete(request.key);
      else modules.set(request.key, loadPolicySync(request.wasm));
      port.postMessage({ type: 'set', key: request.key, error: null } satisfies WorkerReply);
    } catch (error) {
      modules.delete(request.key);
      port.postMessage({ type: 'set', key: request.key, error: (error as Error).message } satisfies WorkerReply);
    }
    return;
  }
  const progress = new Int32Array(request.progress);
  const results: JobResult[] = request.jobs.map((job, index) => {
    Atomics.store(progress, 0, index);
    const policy = modules.get(job.key);
    if (policy === undefined) return { error: 'module not loaded' };
    try {
      // The input is JSON text; as an ArrayBuffer opa-wasm copies its bytes into the module's memory as they are.
      return regoAlertsOf(policy.evaluate(encoder.encode(job.input).buffer));
    } catch (error) {
      return { error: (error as Error).message }; // a trap (unreachable, out of memory, a builtin that throws)
    }
  });
  port.postMessage({ type: 'batch', id: request.id, results } satisfies WorkerReply);
});
