/**
 * Shared by the file sensor's kernel tests (not exported): a record collector over the dispatcher, a child
 * process runner that reports how it ended, and a small C program that opens a file many times.
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRingBufferReader, forEachRecord, type RingBufferReader } from './ring-buffer-reader.ts';
import { FILE_RECORD_DECODERS, createRecordDispatcher } from './record-dispatch.ts';
import type { FileSensorRecord } from './file-records.ts';
import type { Sensor } from './sensor.ts';

export interface FileRecordCollector {
  readonly records: FileSensorRecord[];
  readonly reader: RingBufferReader;
  /** Resolves with the first record matching predicate (already received or arriving within timeoutMs). */
  waitFor<T extends FileSensorRecord>(predicate: (r: FileSensorRecord) => r is T, timeoutMs?: number): Promise<T>;
  /** Drains the ring now and returns every record received so far. */
  settle(): FileSensorRecord[];
}

export function collectFileRecords(sensor: Sensor): FileRecordCollector {
  const records: FileSensorRecord[] = [];
  const dispatcher = createRecordDispatcher([FILE_RECORD_DECODERS]);
  const reader = createRingBufferReader({
    map: sensor.events,
    onBatch: (batch) =>
      forEachRecord(batch, (offset, length) => {
        const record = dispatcher.decode({ buffer: batch.buffer, view: batch.view, offset, length });
        if (record) records.push(record);
      }),
  });
  reader.start();
  return {
    records,
    reader,
    settle() {
      reader.drainNow();
      return records;
    },
    async waitFor(predicate, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = records.find(predicate);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no matching record within ${timeoutMs} ms (${records.length} records seen)`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
  };
}

export interface RunResult {
  readonly pid: number;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
}

/** Runs file with args (optionally in cwd) and reports its exit and its stdout. */
export async function runChild(file: string, args: readonly string[], cwd?: string): Promise<RunResult> {
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'ignore'], cwd });
  let stdout = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => (stdout += chunk));
  const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
  if (child.pid === undefined) throw new Error(`${file} did not start`);
  return { pid: child.pid, code, signal, stdout };
}

const OPEN_LOOP_C = `
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
/* open-loop <path> <count>: opens and closes path count times; exits 1 on the first failure. */
int main(int argc, char **argv) {
  if (argc != 3) return 2;
  long count = atol(argv[2]);
  for (long i = 0; i < count; i++) {
    int fd = open(argv[1], O_RDONLY);
    if (fd < 0) { perror("open"); return 1; }
    close(fd);
  }
  return 0;
}
`;

/** Compiles the open-loop helper into dir and returns its path. */
export function buildOpenLoop(dir: string): string {
  writeFileSync(join(dir, 'open-loop.c'), OPEN_LOOP_C);
  execFileSync('cc', ['-O2', '-Wall', '-Werror', '-o', join(dir, 'open-loop'), join(dir, 'open-loop.c')]);
  return join(dir, 'open-loop');
}
