/**
 * EventBuilder: turns what the sensors decoded into RawEvent records of the Avro contract, keeping the
 * ProcessCache current on the way (fork/exec/exit change it; every event reads it). Pure apart from
 * the cache it is given; the agent's main loop calls it for each record, in ring-buffer order.
 *
 * Kernel times are CLOCK_BOOTTIME ns; events carry wall-clock ns (`bootToWallNs` is added), while
 * `start_time` stays in boot ns, as /proc reports it, so a kill command can be checked against
 * /proc/<pid>/stat.
 */
import { randomUUID } from 'node:crypto';
import type { Payload, Process, RawEvent, EventKind, Action } from '@stinger/events';
import type { ProcessCache, ProcessInfo } from '@stinger/process-cache';

/** What the agent feeds in: the sensor records, in a shape independent of the BPF struct layout. */
export type SensorRecord =
  | {
      readonly kind: 'exec';
      readonly timeNs: bigint;
      readonly pid: number;
      readonly tid: number;
      readonly uid: number;
      readonly gid: number;
      readonly cgroupId: bigint;
      readonly binary: string;
      readonly argv: readonly string[];
      readonly argsTruncated: boolean;
    }
  | { readonly kind: 'fork'; readonly timeNs: bigint; readonly pid: number; readonly tid: number; readonly childPid: number }
  | {
      readonly kind: 'exit';
      readonly timeNs: bigint;
      readonly pid: number;
      readonly tid: number;
      readonly code: number | null;
      readonly signal: number | null;
    };

/** A RawEvent before the publisher gives it its sequence number. */
export type UnsequencedEvent = Omit<RawEvent, 'seq'>;

export interface EventBuilderOptions {
  readonly nodeName: string;
  readonly agentId: string;
  readonly bootId: string | null;
  readonly bootToWallNs: bigint;
  readonly cache: ProcessCache;
}

export function toProcess(info: ProcessInfo, tid: number): Process {
  return {
    exec_id: info.execId,
    pid: info.pid,
    tid,
    uid: BigInt(info.uid),
    gid: BigInt(info.gid),
    binary: info.binary,
    args: [...info.args],
    cwd: info.cwd,
    start_time: info.startTimeNs,
    cgroup_id: info.cgroupId,
    cgroup_path: info.cgroupPath,
    container_id: info.containerId,
    parent_exec_id: info.parentExecId,
  };
}

/** A process the cache could not resolve: what the record itself says, so the event is never dropped. */
function unknownProcess(pid: number, tid: number, nodeName: string): Process {
  return {
    exec_id: `${nodeName}:0:${pid}`,
    pid,
    tid,
    uid: 0n,
    gid: 0n,
    binary: '',
    args: [],
    cwd: null,
    start_time: 0n,
    cgroup_id: null,
    cgroup_path: null,
    container_id: null,
    parent_exec_id: null,
  };
}

export class EventBuilder {
  readonly #options: EventBuilderOptions;

  constructor(options: EventBuilderOptions) {
    this.#options = options;
  }

  build(record: SensorRecord): UnsequencedEvent {
    const { cache } = this.#options;
    switch (record.kind) {
      case 'exec': {
        const info = cache.exec({
          pid: record.pid,
          timeNs: record.timeNs,
          binary: record.binary,
          argv: record.argv,
          uid: record.uid,
          gid: record.gid,
          cgroupId: record.cgroupId,
        });
        return this.#event(record, info, {
          kind: 'exec',
          payload: {
            group: 'exec',
            filename: record.binary,
            euid: BigInt(record.uid),
            egid: BigInt(record.gid),
            secure_exec: false,
            args_truncated: record.argsTruncated,
          },
        });
      }
      case 'fork': {
        const child = cache.fork({ parentPid: record.pid, childPid: record.childPid, timeNs: record.timeNs });
        const parent = cache.get(record.pid) ?? null;
        return this.#event(record, parent, {
          kind: 'fork',
          payload: { group: 'fork', child_pid: record.childPid, child_exec_id: child.execId, clone_flags: 0n },
        });
      }
      case 'exit': {
        const info = cache.get(record.pid) ?? null;
        const event = this.#event(record, info, { kind: 'exit', payload: { group: 'exit', code: record.code ?? -1, signal: record.signal ?? 0 } });
        cache.exit(record.pid, record.timeNs);
        return event;
      }
    }
  }

  #event(record: SensorRecord, info: ProcessInfo | null, what: { kind: EventKind; payload: Payload; action?: Action }): UnsequencedEvent {
    const { kind, payload, action = null } = what;
    const { nodeName, agentId, bootId, bootToWallNs, cache } = this.#options;
    const parentInfo = info ? cache.get(info.ppid) : undefined;
    return {
      id: randomUUID(),
      time: record.timeNs + bootToWallNs,
      node: nodeName,
      agent_id: agentId,
      boot_id: bootId,
      kind,
      process: info ? toProcess(info, record.tid) : unknownProcess(record.pid, record.tid, nodeName),
      parent: parentInfo ? toProcess(parentInfo, parentInfo.pid) : null,
      payload,
      action,
    };
  }
}
