// The file sensor's C structs and constants (bpf/lib/stinger_file.h, kinds in stinger_event.h) against the
// TypeScript tables: a host-compiled program prints offsetof/sizeof of every field and every constant.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ACTION_TAKEN,
  EXEC_RULE_EVENT_LAYOUT,
  FILE_EVENT_LAYOUT,
  FILE_FLAG,
  FILE_OP,
  FILE_PATH_SIZE,
  NAME_LENGTHS_MAX,
  FILE_RULE_LAYOUT,
  PATH_FILTER_LAYOUT,
  PATH_KEY_LAYOUT,
  PATH_PREFIX_KEY_LAYOUT,
  RULE_ACTION,
  RULE_FLAG,
  CWD_ENTRY_LAYOUT,
  DIR_IDENTITY_KEY_LAYOUT,
  FD_FLAG,
  FILE_CLOSE_EVENT_LAYOUT,
  FILE_CLOSE_FLAG,
  FILE_FD_ENTRY_LAYOUT,
  FILE_FD_KEY_LAYOUT,
  FILE_IO_LOSS,
  FILE_IO_LOSS_SLOTS,
  FILE_IO_TOTALS_LAYOUT,
} from './records.ts';
import { testCLayout, type Layout } from '../core/test-support.ts';

const STRUCTS: Readonly<Record<string, Layout>> = {
  path_key: PATH_KEY_LAYOUT,
  path_prefix_key: PATH_PREFIX_KEY_LAYOUT,
  file_rule: FILE_RULE_LAYOUT,
  path_filter: PATH_FILTER_LAYOUT,
  dir_identity_key: DIR_IDENTITY_KEY_LAYOUT,
  file_event: FILE_EVENT_LAYOUT,
  exec_rule_event: EXEC_RULE_EVENT_LAYOUT,
  cwd_entry: CWD_ENTRY_LAYOUT,
  file_fd_key: FILE_FD_KEY_LAYOUT,
  file_fd_entry: FILE_FD_ENTRY_LAYOUT,
  file_io_totals: FILE_IO_TOTALS_LAYOUT,
  file_close_event: FILE_CLOSE_EVENT_LAYOUT,
};

const CONSTANTS: Readonly<Record<string, number>> = {
  FD_FLAG_CLOEXEC: FD_FLAG.cloexec,
  FILE_CLOSE_AT_EXIT: FILE_CLOSE_FLAG.atExit,
  FILE_CLOSE_AT_EXEC: FILE_CLOSE_FLAG.atExec,
  FILE_CLOSE_REPLACED: FILE_CLOSE_FLAG.replaced,
  FILE_IO_LOSS_EVICTED: FILE_IO_LOSS.evicted,
  FILE_IO_LOSS_STALE_FD: FILE_IO_LOSS.staleFd,
  FILE_IO_LOSS_SWEEP_FULL: FILE_IO_LOSS.sweepFull,
  FILE_IO_LOSS_UNTRACKED: FILE_IO_LOSS.untracked,
  FILE_IO_LOSS_SLOTS,
  FILE_PATH_SIZE,
  NAME_LENGTHS_MAX,
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
  RULE_ACTION_DENY: RULE_ACTION.deny,
  RULE_FLAG_KILL_ON_NAME: RULE_FLAG.killOnName,
  RULE_FLAG_HOST_ONLY: RULE_FLAG.hostOnly,
  RULE_FLAG_PODS_ONLY: RULE_FLAG.podsOnly,
  ACTION_TAKEN_NONE: ACTION_TAKEN.none,
  ACTION_TAKEN_AUDIT: ACTION_TAKEN.audit,
  ACTION_TAKEN_KILLED: ACTION_TAKEN.killed,
  ACTION_TAKEN_DENIED: ACTION_TAKEN.denied,
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
  FILE_FLAG_MATCH_CWD: FILE_FLAG.matchCwd,
  FILE_FLAG_RESOLVED: FILE_FLAG.resolved,
  FILE_FLAG_KEPT: FILE_FLAG.kept,
};

testCLayout({ headers: ['stinger_file.h'], structs: STRUCTS, constants: CONSTANTS, constantsTest: 'file record ops, actions and flag bits match the C constants' });

test('records start with the 64-byte header and keep 8-byte alignment; a one-path record ends at path2, a two-path one at path3', () => {
  for (const layout of [FILE_EVENT_LAYOUT, EXEC_RULE_EVENT_LAYOUT, FILE_CLOSE_EVENT_LAYOUT]) {
    assert.equal(layout.offsets.hdr, 0);
    assert.equal(layout.size % 8, 0);
  }
  assert.equal(FILE_EVENT_LAYOUT.offsets.path2 % 8, 0);
  assert.equal(FILE_EVENT_LAYOUT.offsets.path2 + FILE_PATH_SIZE, FILE_EVENT_LAYOUT.offsets.path3);
  assert.equal(FILE_EVENT_LAYOUT.offsets.path3 + FILE_PATH_SIZE, FILE_EVENT_LAYOUT.size);
});
