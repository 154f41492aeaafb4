// The C structs that cross the ring buffer (bpf/lib/stinger_event.h) against the TypeScript decoder's tables:
// a host-compiled program prints offsetof/sizeof of every field and the constants, and each must match.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EVENT_HEADER_LAYOUT, TASK_COMM_SIZE } from '../core/record-header.ts';
import {
  EXEC_ARGC_MAX,
  EXEC_ARGS_SIZE,
  EXEC_EVENT_LAYOUT,
  EXEC_FILENAME_SIZE,
  EXEC_FLAG,
  EXIT_EVENT_LAYOUT,
  EXIT_FLAG,
  FORK_EVENT_LAYOUT,
} from './records.ts';
import { POD_ROOT_SEARCH_DEPTH } from '../core/pod-cgroup-roots.ts';
import { testCLayout, type Layout } from '../core/test-support.ts';

const STRUCTS: Readonly<Record<string, Layout>> = {
  event_header: EVENT_HEADER_LAYOUT,
  exec_event: EXEC_EVENT_LAYOUT,
  fork_event: FORK_EVENT_LAYOUT,
  exit_event: EXIT_EVENT_LAYOUT,
};

const CONSTANTS: Readonly<Record<string, number>> = {
  TASK_COMM_SIZE,
  POD_ROOT_SEARCH_DEPTH,
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

testCLayout({ headers: ['stinger_event.h'], structs: STRUCTS, constants: CONSTANTS, constantsTest: 'sizes and flag bits match the C constants' });

test('every record struct starts with the 64-byte header and keeps 8-byte alignment of its size', () => {
  assert.equal(EVENT_HEADER_LAYOUT.size, 64);
  for (const layout of [EXEC_EVENT_LAYOUT, FORK_EVENT_LAYOUT, EXIT_EVENT_LAYOUT]) {
    assert.equal(layout.offsets.hdr, 0);
    assert.equal(layout.size % 8, 0);
  }
});
