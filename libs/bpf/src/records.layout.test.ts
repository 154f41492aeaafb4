// The C structs that cross the ring buffer (bpf/lib/stinger_event.h) against the TypeScript decoder's tables:
// a host-compiled program prints offsetof/sizeof of every field and the constants, and each must match.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  EVENT_HEADER_LAYOUT,
  EVENT_KIND,
  EXEC_ARGC_MAX,
  EXEC_ARGS_SIZE,
  EXEC_EVENT_LAYOUT,
  EXEC_FILENAME_SIZE,
  EXEC_FLAG,
  EXIT_EVENT_LAYOUT,
  EXIT_FLAG,
  FORK_EVENT_LAYOUT,
  TASK_COMM_SIZE,
} from './records.ts';

const BPF_LIB = fileURLToPath(new URL('../../../bpf/lib/', import.meta.url));

interface Layout {
  readonly size: number;
  readonly offsets: Readonly<Record<string, number>>;
}

const STRUCTS: Readonly<Record<string, Layout>> = {
  event_header: EVENT_HEADER_LAYOUT,
  exec_event: EXEC_EVENT_LAYOUT,
  fork_event: FORK_EVENT_LAYOUT,
  exit_event: EXIT_EVENT_LAYOUT,
};

const CONSTANTS: Readonly<Record<string, number>> = {
  EVENT_KIND_EXEC: EVENT_KIND.exec,
  EVENT_KIND_EXIT: EVENT_KIND.exit,
  EVENT_KIND_FORK: EVENT_KIND.fork,
  TASK_COMM_SIZE,
  EXEC_FILENAME_SIZE,
  EXEC_ARGS_SIZE,
  EXEC_ARGC_MAX,
  EXEC_FLAG_ARGS_TRUNCATED: EXEC_FLAG.argsTruncated,
  EXEC_FLAG_ARGS_MISSING: EXEC_FLAG.argsMissing,
  EXEC_FLAG_FILENAME_TRUNCATED: EXEC_FLAG.filenameTruncated,
  EXEC_FLAG_FILENAME_FROM_USER: EXEC_FLAG.filenameFromUser,
  EXEC_FLAG_ARGS_FAULT: EXEC_FLAG.argsFault,
  EXIT_FLAG_STATUS_KNOWN: EXIT_FLAG.statusKnown,
  EXIT_FLAG_SIGNALED: EXIT_FLAG.signaled,
};

/** Compiles and runs a C program that prints the C side of every entry of STRUCTS and CONSTANTS as JSON. */
function cLayout(): { structs: Record<string, { size: number; offsets: Record<string, number> }>; constants: Record<string, number> } {
  const lines: string[] = ['#include <stdio.h>', '#include <stddef.h>', '#include "stinger_event.h"', 'int main(void) {', 'printf("{\\"structs\\":{");'];
  Object.entries(STRUCTS).forEach(([name, layout], i) => {
    lines.push(`printf("%s\\"${name}\\":{\\"size\\":%zu,\\"offsets\\":{", ${i === 0 ? '""' : '","'}, sizeof(struct ${name}));`);
    Object.keys(layout.offsets).forEach((field, j) => {
      lines.push(`printf("%s\\"${field}\\":%zu", ${j === 0 ? '""' : '","'}, offsetof(struct ${name}, ${field}));`);
    });
    lines.push('printf("}}");');
  });
  lines.push('printf("},\\"constants\\":{");');
  Object.keys(CONSTANTS).forEach((name, i) => {
    lines.push(`printf("%s\\"${name}\\":%lld", ${i === 0 ? '""' : '","'}, (long long)(${name}));`);
  });
  lines.push('printf("}}\\n");', 'return 0;', '}');
  const dir = mkdtempSync(join(tmpdir(), 'stinger-layout-'));
  try {
    writeFileSync(join(dir, 'layout.c'), lines.join('\n'));
    execFileSync('cc', ['-Wall', '-Werror', '-I', BPF_LIB, '-o', join(dir, 'layout'), join(dir, 'layout.c')]);
    return JSON.parse(execFileSync(join(dir, 'layout'), { encoding: 'utf8' })) as ReturnType<typeof cLayout>;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const c = cLayout();

for (const [name, layout] of Object.entries(STRUCTS)) {
  test(`struct ${name}: the decoder's offsets and size match the C layout`, () => {
    assert.deepEqual({ size: layout.size, offsets: { ...layout.offsets } }, c.structs[name]);
  });
}

test('record kinds, sizes and flag bits match the C constants', () => {
  assert.deepEqual({ ...CONSTANTS }, c.constants);
});

test('every record struct starts with the 64-byte header and keeps 8-byte alignment of its size', () => {
  assert.equal(EVENT_HEADER_LAYOUT.size, 64);
  for (const layout of [EXEC_EVENT_LAYOUT, FORK_EVENT_LAYOUT, EXIT_EVENT_LAYOUT]) {
    assert.equal(layout.offsets.hdr, 0);
    assert.equal(layout.size % 8, 0);
  }
});
