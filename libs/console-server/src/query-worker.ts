/**
 * A query worker of query-pool.ts: one read-only connection to the console's store, answering one request at a time
 * in the order they come.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ConsoleStore } from '@stinger/console-store';
import { answerEndpoint } from './endpoints.ts';
import type { QueryWorkerData, QueryWorkerReply, QueryWorkerRequest } from './query-pool.ts';

const data = workerData as QueryWorkerData;
const store = new ConsoleStore({ path: data.storePath, retentionMs: data.retentionMs, maxEvents: data.maxEvents, readOnly: true });

parentPort?.on('message', (request: QueryWorkerRequest) => {
  let reply: QueryWorkerReply;
  try {
    reply = { id: request.id, answer: answerEndpoint(store, request, request.now) };
  } catch (error) {
    reply = { id: request.id, error: (error as Error).message };
  }
  parentPort?.postMessage(reply);
});
