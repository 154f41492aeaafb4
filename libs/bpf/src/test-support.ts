/**
 * Shared by the kernel tests of this package (not exported): builds the objects and native helper, and collects
 * decoded process records from a running sensor. Kernel tests run as root, one file at a time.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createRingBufferReader, forEachRecord, type RingBufferReader } from './ring-buffer-reader.ts';
import { decodeProcessRecord, type ProcessRecord } from './records.ts';
import type { Sensor } from './sensor.ts';

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));

/** Runs the package's build:bpf (make: a no-op when up to date). */
export function buildBpf(): void {
  execFileSync('npm', ['run', '-s', 'build:bpf'], { cwd: PACKAGE_DIR, stdio: 'inherit' });
}

export interface RecordCollector {
  readonly records: ProcessRecord[];
  /** Resolves with the first record matching `predicate` (already received or arriving within timeoutMs). */
  waitFor<T extends ProcessRecord>(predicate: (r: ProcessRecord) => r is T, timeoutMs?: number): Promise<T>;
  readonly reader: RingBufferReader;
}

export function collectRecords(sensor: Sensor): RecordCollector {
  const records: ProcessRecord[] = [];
  const reader = createRingBufferReader({
    map: sensor.events,
    onBatch: (batch) =>
      forEachRecord(batch, (offset, length) => {
        const record = decodeProcessRecord({ buffer: batch.buffer, view: batch.view, offset, length });
        if (record) records.push(record);
      }),
  });
  reader.start();
  return {
    records,
    reader,
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
