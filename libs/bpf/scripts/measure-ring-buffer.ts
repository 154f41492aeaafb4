// Measures the batched ring-buffer drain on the real kernel (root). Not a test: prints figures.
//
// Producer: a small C program doing N fork() + _exit(0) + waitpid(), so the process sensor writes 2N records
// (fork 72 B, exit 72 B). Two measurements:
//  1. drain cost: the ring is filled first with no reader running, then drained by drainNow() in batches;
//     reported per record for framing only (forEachRecord) and with decodeProcessRecord on every record.
//  2. live: the reader runs (worker-thread wait + main-thread drain) while the producer runs; reports records/s
//     delivered and records lost (kernel counter + user space).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRingBufferReader, decodeProcessRecord, forEachRecord, loadProcessSensor, type RecordBatch } from '../src/index.ts';

const FORKS = Number(process.argv[2] ?? 25_000);

const dir = mkdtempSync(join(tmpdir(), 'stinger-measure-'));
const forker = join(dir, 'forker');
writeFileSync(
  join(dir, 'forker.c'),
  `#include <stdlib.h>
#include <unistd.h>
#include <sys/wait.h>
int main(int argc, char **argv) { int n = atoi(argv[1]);
  for (int i = 0; i < n; i++) { pid_t p = fork(); if (p == 0) _exit(0); waitpid(p, 0, 0); } return 0; }`,
);
execFileSync('cc', ['-O2', '-o', forker, join(dir, 'forker.c')]);

const sensor = loadProcessSensor();
try {
  // 1. drain cost, three rounds each (the first runs cold, before the JIT has compiled the decoder)
  const modes: Record<string, (batch: RecordBatch) => void> = {
    'native drain only (onBatch does nothing)': () => undefined,
    'drain + framing (forEachRecord)': (batch) => forEachRecord(batch, () => undefined),
    'drain + decodeProcessRecord': (batch) =>
      forEachRecord(batch, (offset, length) => void decodeProcessRecord({ buffer: batch.buffer, view: batch.view, offset, length })),
  };
  for (const [mode, onBatch] of Object.entries(modes)) {
    for (let round = 1; round <= 3; round++) {
      const reader = createRingBufferReader({ map: sensor.events, onBatch });
      reader.drainNow();
      execFileSync(forker, [String(FORKS)]);
      const t0 = process.hrtime.bigint();
      const n = reader.drainNow();
      const ns = Number(process.hrtime.bigint() - t0);
      console.log(`${mode}, round ${round}: ${n} records in ${reader.stats().batches} batches, ${(ns / n).toFixed(1)} ns/record (${((n / ns) * 1e3).toFixed(2)} M records/s)`);
      await reader.stop();
    }
  }

  // 2. live
  let live = 0;
  const reader = createRingBufferReader({ map: sensor.events, onBatch: (batch) => void (live += batch.count) });
  reader.drainNow();
  live = 0;
  const lostBefore = sensor.lostRecords();
  reader.start();
  const t0 = process.hrtime.bigint();
  const child = await import('node:child_process');
  await new Promise<void>((resolve, reject) =>
    child.execFile(forker, [String(FORKS)], (err) => (err ? reject(err) : resolve())),
  );
  await new Promise((resolve) => setTimeout(resolve, 100));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9 - 0.1;
  const stats = reader.stats();
  await reader.stop();
  console.log(
    `live: ${live} records in ${seconds.toFixed(2)} s while the producer ran = ${(live / seconds / 1e3).toFixed(0)} k records/s, ` +
      `${stats.batches} batches (${(live / stats.batches).toFixed(1)} records/batch), lost in kernel ${sensor.lostRecords() - lostBefore}, dropped in user space ${stats.droppedInUserSpace}`,
  );
} finally {
  sensor.close();
  rmSync(dir, { recursive: true, force: true });
}
