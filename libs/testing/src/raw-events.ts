/**
 * Sample records for tests: a RawEvent with every required field set, as an agent on `node` would
 * publish its `seq`-th event. Shared here so tests do not each spell out the schema.
 */
import type { RawEvent } from '@stinger/events';

export interface SampleRawEventOptions {
  readonly node: string;
  readonly seq: bigint;
  readonly binary?: string;
  readonly args?: readonly string[];
  readonly pid?: number;
}

export function sampleRawEvent(options: SampleRawEventOptions): RawEvent {
  const { node, seq, binary = '/usr/bin/true', args = [], pid = 4242 } = options;
  const startTime = 1_000_000_000n + seq;
  return {
    id: `${node}-${seq}`,
    time: 1_732_900_000_000_000_000n + seq,
    node,
    agent_id: `agent-${node}`,
    boot_id: null,
    seq,
    kind: 'exec',
    process: {
      exec_id: `${node}:${startTime}:${pid}`,
      pid,
      tid: pid,
      uid: 0n,
      gid: 0n,
      binary,
      args: [...args],
      cwd: '/',
      start_time: startTime,
      cgroup_id: null,
      cgroup_path: null,
      container_id: null,
      parent_exec_id: null,
    },
    parent: null,
    payload: { group: 'exec', filename: binary, euid: 0n, egid: 0n, secure_exec: false, args_truncated: false },
    action: null,
  };
}
