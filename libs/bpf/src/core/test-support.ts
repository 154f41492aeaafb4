/**
 * Shared by the tests of this package (not exported): builds the objects and native helper, collects decoded
 * records from a running sensor with any decoder, and compares the C structs of bpf/lib with the TypeScript
 * layout tables. Kernel tests run as root, one file at a time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRingBufferReader, forEachRecord, type RingBufferReader } from './ring-buffer-reader.ts';
import type { RecordSlice } from './record-header.ts';
import type { Sensor } from './sensor.ts';

const PACKAGE_DIR = fileURLToPath(new URL('../..', import.meta.url));
const BPF_LIB = fileURLToPath(new URL('../../../../bpf/lib/', import.meta.url));

/** Runs the package's build:bpf (make: a no-op when up to date). */
export function buildBpf(): void {
  execFileSync('npm', ['run', '-s', 'build:bpf'], { cwd: PACKAGE_DIR, stdio: 'inherit' });
}

/**
 * Runs every cleanup step in order, each even when an earlier one throws (nothing may stay attached or
 * created), then throws an AggregateError of the failures, if any.
 */
export async function runCleanup(steps: readonly (() => unknown)[]): Promise<void> {
  const errors: unknown[] = [];
  for (const step of steps) {
    try {
      await step();
    } catch (error) {
      errors.push(error);
    }
  }
  if (errors.length > 0) throw new AggregateError(errors, 'cleanup failed');
}

export interface Collector<T> {
  readonly records: T[];
  readonly reader: RingBufferReader;
  /** Resolves with the first record matching `predicate` (already received or arriving within timeoutMs). */
  waitFor<U extends T>(predicate: (r: T) => r is U, timeoutMs?: number): Promise<U>;
  /** Drains what is in the ring now and returns how many records (of any kind) the ring held. */
  drain(): number;
  /** Drains the ring now and returns every record received so far. */
  settle(): T[];
  stop(): Promise<void>;
}

/**
 * Decodes every record of sensor's ring buffer with decode (a sensor's decoder, or a dispatcher's `decode`);
 * undefined results are counted by the reader but not kept. `start` false leaves the reader to be started later.
 */
export function collect<T>(sensor: Sensor, decode: (slice: RecordSlice) => T | undefined, start = true): Collector<T> {
  const records: T[] = [];
  const reader = createRingBufferReader({
    map: sensor.events,
    onBatch: (batch) =>
      forEachRecord(batch, (offset, length) => {
        const record = decode({ buffer: batch.buffer, view: batch.view, offset, length });
        if (record !== undefined) records.push(record);
      }),
  });
  if (start) reader.start();
  return {
    records,
    reader,
    drain: () => reader.drainNow(),
    settle() {
      reader.drainNow();
      return records;
    },
    stop: () => reader.stop(),
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

/** How a child process of a test ended, and what it printed. */
export interface RunResult {
  readonly pid: number;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
}

/** A TypeScript layout table: sizeof and the offsetof of every field named (the names are the C field names). */
export interface Layout {
  readonly size: number;
  readonly offsets: Readonly<Record<string, number>>;
}

interface CLayout {
  readonly structs: Record<string, { size: number; offsets: Record<string, number> }>;
  readonly constants: Record<string, number>;
}

/** Compiles and runs a host C program printing sizeof/offsetof of `structs` and the values of `constants`. */
function cLayout(headers: readonly string[], structs: Readonly<Record<string, Layout>>, constants: readonly string[]): CLayout {
  const lines: string[] = ['#include <stdio.h>', '#include <stddef.h>', ...headers.map((h) => `#include "${h}"`), 'int main(void) {'];
  lines.push('printf("{\\"structs\\":{");');
  Object.entries(structs).forEach(([name, layout], i) => {
    lines.push(`printf("%s\\"${name}\\":{\\"size\\":%zu,\\"offsets\\":{", ${i === 0 ? '""' : '","'}, sizeof(struct ${name}));`);
    Object.keys(layout.offsets).forEach((field, j) => {
      lines.push(`printf("%s\\"${field}\\":%zu", ${j === 0 ? '""' : '","'}, offsetof(struct ${name}, ${field}));`);
    });
    lines.push('printf("}}");');
  });
  lines.push('printf("},\\"constants\\":{");');
  constants.forEach((name, i) => {
    lines.push(`printf("%s\\"${name}\\":%lld", ${i === 0 ? '""' : '","'}, (long long)(${name}));`);
  });
  lines.push('printf("}}\\n");', 'return 0;', '}');
  const dir = mkdtempSync(join(tmpdir(), 'stinger-layout-'));
  try {
    writeFileSync(join(dir, 'layout.c'), lines.join('\n'));
    execFileSync('cc', ['-Wall', '-Werror', '-I', BPF_LIB, '-o', join(dir, 'layout'), join(dir, 'layout.c')]);
    return JSON.parse(execFileSync(join(dir, 'layout'), { encoding: 'utf8' })) as CLayout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface CLayoutTestOptions {
  /** Headers of bpf/lib to include, e.g. ['stinger_event.h']. */
  readonly headers: readonly string[];
  /** C struct name (without `struct`) -> its TypeScript table. */
  readonly structs: Readonly<Record<string, Layout>>;
  /** C macro name -> the TypeScript value. */
  readonly constants: Readonly<Record<string, number>>;
  /** Name of the test comparing the constants. */
  readonly constantsTest: string;
}

/**
 * Registers one test per struct (size and every field offset equal the C compiler's) and one for the constants.
 * The C program is compiled once, when this is called; a field missing from the C struct fails the compile.
 */
export function testCLayout(options: CLayoutTestOptions): void {
  const { structs, constants } = options;
  const c = cLayout(options.headers, structs, Object.keys(constants));
  for (const [name, layout] of Object.entries(structs)) {
    void test(`struct ${name}: the decoder's offsets and size match the C layout`, () => {
      assert.deepEqual({ size: layout.size, offsets: { ...layout.offsets } }, c.structs[name]);
    });
  }
  void test(options.constantsTest, () => {
    assert.deepEqual({ ...constants }, c.constants);
  });
}
