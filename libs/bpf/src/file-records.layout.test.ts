// The file sensor's C structs and constants (bpf/lib/stinger_file.h, kinds in stinger_event.h) against the
// TypeScript tables: a host-compiled program prints offsetof/sizeof of every field and every constant.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ACTION_TAKEN,
  EXEC_RULE_EVENT_LAYOUT,
  FILE_EVENT_KIND,
  FILE_EVENT_LAYOUT,
  FILE_FLAG,
  FILE_OP,
  FILE_PATH_SIZE,
  FILE_RULE_LAYOUT,
  PATH_KEY_LAYOUT,
  PATH_PREFIX_KEY_LAYOUT,
  RULE_ACTION,
  RULE_FLAG,
} from './file-records.ts';

const BPF_LIB = fileURLToPath(new URL('../../../bpf/lib/', import.meta.url));

interface Layout {
  readonly size: number;
  readonly offsets: Readonly<Record<string, number>>;
}

const STRUCTS: Readonly<Record<string, Layout>> = {
  path_key: PATH_KEY_LAYOUT,
  path_prefix_key: PATH_PREFIX_KEY_LAYOUT,
  file_rule: FILE_RULE_LAYOUT,
  file_event: FILE_EVENT_LAYOUT,
  exec_rule_event: EXEC_RULE_EVENT_LAYOUT,
};

const CONSTANTS: Readonly<Record<string, number>> = {
  EVENT_KIND_FILE: FILE_EVENT_KIND.file,
  EVENT_KIND_EXEC_RULE: FILE_EVENT_KIND.execRule,
  FILE_PATH_SIZE,
  FILE_OP_OPEN: FILE_OP.open,
  FILE_OP_UNLINK: FILE_OP.unlink,
  FILE_OP_RENAME: FILE_OP.rename,
  FILE_OP_CHMOD: FILE_OP.chmod,
  FILE_OP_CHOWN: FILE_OP.chown,
  FILE_OP_CHDIR: FILE_OP.chdir,
  FILE_OP_FCHDIR: FILE_OP.fchdir,
  FILE_OP_EXEC: FILE_OP.exec,
  RULE_ACTION_AUDIT: RULE_ACTION.audit,
  RULE_ACTION_KILL: RULE_ACTION.kill,
  RULE_FLAG_KILL_ON_NAME: RULE_FLAG.killOnName,
  ACTION_TAKEN_NONE: ACTION_TAKEN.none,
  ACTION_TAKEN_AUDIT: ACTION_TAKEN.audit,
  ACTION_TAKEN_KILLED: ACTION_TAKEN.killed,
  FILE_FLAG_RELATIVE: FILE_FLAG.relative,
  FILE_FLAG_NEEDS_RESOLUTION: FILE_FLAG.needsResolution,
  FILE_FLAG_PATH_TRUNCATED: FILE_FLAG.pathTruncated,
  FILE_FLAG_PATH2_TRUNCATED: FILE_FLAG.path2Truncated,
  FILE_FLAG_MATCH_EXACT: FILE_FLAG.matchExact,
  FILE_FLAG_MATCH_PREFIX: FILE_FLAG.matchPrefix,
  FILE_FLAG_MATCH_NAME: FILE_FLAG.matchName,
  FILE_FLAG_MATCH_PATH2: FILE_FLAG.matchPath2,
  FILE_FLAG_RESULT_KNOWN: FILE_FLAG.resultKnown,
  FILE_FLAG_PATH_FAULT: FILE_FLAG.pathFault,
};

/** Compiles and runs a C program that prints the C side of every entry of STRUCTS and CONSTANTS as JSON. */
function cLayout(): { structs: Record<string, Layout>; constants: Record<string, number> } {
  const lines: string[] = ['#include <stdio.h>', '#include <stddef.h>', '#include "stinger_file.h"', 'int main(void) {', 'printf("{\\"structs\\":{");'];
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
  const dir = mkdtempSync(join(tmpdir(), 'stinger-file-layout-'));
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
  test(`struct ${name}: the TypeScript offsets and size match the C layout`, () => {
    assert.deepEqual({ size: layout.size, offsets: { ...layout.offsets } }, c.structs[name]);
  });
}

test('file record kinds, ops, actions and flag bits match the C constants', () => {
  assert.deepEqual({ ...CONSTANTS }, c.constants);
});

test('file record kinds stay in the file sensor range 10..19', () => {
  for (const kind of Object.values(FILE_EVENT_KIND)) assert.ok(kind >= 10 && kind <= 19, `kind ${kind}`);
});

test('records start with the 64-byte header and keep 8-byte alignment; a one-path record ends at path2', () => {
  for (const layout of [FILE_EVENT_LAYOUT, EXEC_RULE_EVENT_LAYOUT]) {
    assert.equal(layout.offsets.hdr, 0);
    assert.equal(layout.size % 8, 0);
  }
  assert.equal(FILE_EVENT_LAYOUT.offsets.path2 % 8, 0);
  assert.equal(FILE_EVENT_LAYOUT.offsets.path2 + FILE_PATH_SIZE, FILE_EVENT_LAYOUT.size);
});
