// The privilege structs and constants of bpf/lib/stinger_priv.h against the TypeScript tables (host compiler).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BPF_EVENT_LAYOUT,
  BPF_PROG_NAME_SIZE,
  CAPSET_EVENT_LAYOUT,
  CAPSET_FLAG,
  CLONE_NEW,
  CLONE_NEW_MASK,
  MODULE_EVENT_LAYOUT,
  MODULE_OP,
  MODULE_PARAMS_SIZE,
  MOUNT_EVENT_LAYOUT,
  MOUNT_FLAG,
  MOUNT_FSTYPE_SIZE,
  MOUNT_SOURCE_SIZE,
  MOUNT_TARGET_SIZE,
  NS_EVENT_LAYOUT,
  NS_OP,
  PRIV_WATCH,
  PRIV_WATCH_CONFIG_LAYOUT,
  PTRACE_EVENT_LAYOUT,
  SCOPE_CGROUP_DEPTH,
  SCOPE_RULE_LAYOUT,
  SCOPE_RULE_FLAG,
  SETID_EVENT_LAYOUT,
  SETID_OP,
} from './records.ts';
import { testCLayout, type Layout } from '../core/test-support.ts';

const STRUCTS: Readonly<Record<string, Layout>> = {
  setid_event: SETID_EVENT_LAYOUT,
  capset_event: CAPSET_EVENT_LAYOUT,
  ns_event: NS_EVENT_LAYOUT,
  module_event: MODULE_EVENT_LAYOUT,
  bpf_event: BPF_EVENT_LAYOUT,
  ptrace_event: PTRACE_EVENT_LAYOUT,
  mount_event: MOUNT_EVENT_LAYOUT,
  priv_watch_config: PRIV_WATCH_CONFIG_LAYOUT,
  scope_rule: SCOPE_RULE_LAYOUT,
};

const CONSTANTS: Readonly<Record<string, number>> = {
  ...Object.fromEntries(Object.entries(SETID_OP).map(([k, v]) => [`SETID_OP_${k.toUpperCase()}`, v])),
  NS_OP_SETNS: NS_OP.setns,
  NS_OP_UNSHARE: NS_OP.unshare,
  NS_OP_CLONE: NS_OP.clone,
  NS_OP_CLONE3: NS_OP.clone3,
  NS_CLONE_NEWTIME: CLONE_NEW.time,
  NS_CLONE_NEWNS: CLONE_NEW.mnt,
  NS_CLONE_NEWCGROUP: CLONE_NEW.cgroup,
  NS_CLONE_NEWUTS: CLONE_NEW.uts,
  NS_CLONE_NEWIPC: CLONE_NEW.ipc,
  NS_CLONE_NEWUSER: CLONE_NEW.user,
  NS_CLONE_NEWPID: CLONE_NEW.pid,
  NS_CLONE_NEWNET: CLONE_NEW.net,
  NS_CLONE_NEW_MASK: CLONE_NEW_MASK,
  MODULE_OP_INIT: MODULE_OP.init,
  MODULE_OP_FINIT: MODULE_OP.finit,
  MODULE_PARAMS_SIZE,
  MOUNT_SOURCE_SIZE,
  MOUNT_TARGET_SIZE,
  MOUNT_FSTYPE_SIZE,
  BPF_PROG_NAME_SIZE,
  MOUNT_FLAG_SOURCE_TRUNCATED: MOUNT_FLAG.sourceTruncated,
  MOUNT_FLAG_TARGET_TRUNCATED: MOUNT_FLAG.targetTruncated,
  MOUNT_FLAG_FSTYPE_TRUNCATED: MOUNT_FLAG.fstypeTruncated,
  CAPSET_FLAG_DATA_READ: CAPSET_FLAG.dataRead,
  PRIV_WATCH_SETID: PRIV_WATCH.setid,
  PRIV_WATCH_CAPSET: PRIV_WATCH.capset,
  PRIV_WATCH_NAMESPACE: PRIV_WATCH.namespace,
  PRIV_WATCH_MODULE: PRIV_WATCH.module,
  PRIV_WATCH_BPF: PRIV_WATCH.bpf,
  PRIV_WATCH_PTRACE: PRIV_WATCH.ptrace,
  PRIV_WATCH_MOUNT: PRIV_WATCH.mount,
  SCOPE_CGROUP_DEPTH,
  SCOPE_RULE_FLAG_HOST_ONLY: SCOPE_RULE_FLAG.hostOnly,
  SCOPE_RULE_FLAG_PODS_ONLY: SCOPE_RULE_FLAG.podsOnly,
};

testCLayout({ headers: ['stinger_priv.h'], structs: STRUCTS, constants: CONSTANTS, constantsTest: 'privilege ops, namespace bits, sizes and flag bits match the C constants' });

test('every privilege record keeps the header first and 8-byte sizes', () => {
  for (const layout of [SETID_EVENT_LAYOUT, CAPSET_EVENT_LAYOUT, NS_EVENT_LAYOUT, MODULE_EVENT_LAYOUT, BPF_EVENT_LAYOUT, PTRACE_EVENT_LAYOUT, MOUNT_EVENT_LAYOUT]) {
    assert.equal(layout.offsets.hdr, 0);
    assert.equal(layout.size % 8, 0);
  }
});
