/**
 * EventBuilder: turns what the sensors decoded (libs/bpf records) into RawEvent records of the Avro
 * contract, keeping the ProcessCache current on the way (fork/exec/exit/chdir change it; every event
 * reads it). The agent's main loop calls `build` for each record, in ring-buffer order.
 *
 * Contract:
 * - Kernel times are CLOCK_BOOTTIME ns; events carry wall-clock ns (`bootToWallNs` is added), while
 *   `start_time` stays in boot ns, as /proc reports it, so a kill command can be checked against
 *   /proc/<pid>/stat.
 * - File paths: `path_as_given` is the string the process passed; `path` is absolute, made so against
 *   the process's tracked cwd (relative paths) or its dirfd (from /proc, while the process lives),
 *   then walked with symlinks followed as the syscall followed them (`createSymlinkResolver`: under
 *   /proc/<pid>/root while the process lives, in the agent's root for an exited host process). When
 *   that walk cannot be made, `path` is normalised lexically (`.`, `..`, repeated slashes), and counted
 *   in `stats().lexicalPaths`. When neither cwd nor dirfd can be known, `path` is the given string,
 *   flagged by not starting with '/'. The cwd tracked from chdir is resolved the same way.
 * - `action` is set when the kernel acted (killed, denied), naming the policy and rule behind the
 *   record's rule id (`ruleOrigin`).
 * - Each kernel record's cgroup id (the task's cgroup when the record was made) is handed to the cache with the
 *   pid, so a process moved into a container's cgroup without an exec (runc init of `kubectl exec`) is reported in
 *   that container from its next record on, its kill at execve included. The file guard's records are not: their
 *   id is the cache's own, read before the delay.
 * - A chdir/fchdir only updates the cache (the event model has no chdir event); `build` returns null.
 * - A close record (the last descriptor of a watched open went) becomes a file event with op close, the
 *   open's path, path as given and flags, remembered from its open record by open id (at most
 *   OPEN_PATHS_MAX opens, the oldest forgotten first), and `io` with the totals. A close whose open
 *   was not seen (its record lost, or forgotten) is dropped and counted in `stats().closesWithoutOpen`.
 */
import { randomUUID } from 'node:crypto';
import { readlinkSync } from 'node:fs';
import type {
  EgressRecord,
  ExecRuleRecord,
  FlowRecord,
  FileCloseRecord,
  FileRecord,
  FileSensorRecord,
  NetworkRecord,
  PrivilegeSensorRecord,
  ProcessRecord,
  SetidRecord,
} from '@stinger/bpf';
import { NO_FLOW, type Action, type ActionKind, type EventKind, type Payload, type Process, type RawEvent } from '@stinger/events';
import { egressPayload, flowPayload } from './egress-payload.ts';
import type { GuardRecord } from './guard-records.ts';
import {
  createSymlinkResolver,
  normalizeAbsolutePath,
  type FollowSymlinks,
  type ProcessCache,
  type ProcessInfo,
} from '@stinger/process-cache';

/** Every record the agent's sensors produce. */
export type SensorRecord = ProcessRecord | FileSensorRecord | NetworkRecord | EgressRecord | FlowRecord | PrivilegeSensorRecord | GuardRecord;

/** A RawEvent before the publisher gives it its sequence number. */
export type UnsequencedEvent = Omit<RawEvent, 'seq'>;

export interface RuleOrigin {
  readonly policy: string;
  readonly rule: string;
}

export interface EventBuilderOptions {
  readonly nodeName: string;
  readonly agentId: string;
  readonly bootId: string | null;
  readonly bootToWallNs: bigint;
  readonly cache: ProcessCache;
  /** Names the policy and rule of a kernel rule id; undefined when unknown (then the action names the id). */
  readonly ruleOrigin?: (ruleId: number) => RuleOrigin | undefined;
  /** The target of /proc/<pid>/fd/<fd>, null when gone; replaced in tests. */
  readonly readFdPath?: (pid: number, fd: number) => string | null;
  /** Follows the symlinks of a path as a process reached it; replaced in tests. */
  readonly followSymlinks?: FollowSymlinks;
  /**
   * Called with a process's new working directory after an fchdir, which the kernel cannot learn (it sees only a
   * descriptor): the agent writes it into the kernel's cwd table (libs/bpf createCwdTable).
   */
  readonly onFchdir?: (pid: number, cwd: string) => void;
}

/** How the absolute paths of file events and executed binaries were made, since the builder was created. */
export interface EventBuilderStats {
  /** Walked on the file system with symlinks followed. */
  readonly followedPaths: number;
  /** Normalised as strings only: the walk could not be made (see the contract above). */
  readonly lexicalPaths: number;
  /** Close records dropped because their open was not known (see the contract above). */
  readonly closesWithoutOpen: number;
}

/** Opens remembered for their close event; one entry is ~200 bytes. */
const OPEN_PATHS_MAX = 16384;

/** What a close event repeats of its open. */
interface OpenedFile {
  readonly path: string;
  readonly pathAsGiven: string;
  readonly flags: number;
}

const AT_FDCWD = -100;
const O_NOFOLLOW = 0o400000;
const AT_SYMLINK_NOFOLLOW = 0x100;

/** Whether the syscall behind a file record followed a symlink in the last path component. */
function followsLastComponent(record: FileRecord): boolean {
  switch (record.op) {
    case 'open':
      return (record.openFlags & O_NOFOLLOW) === 0;
    case 'chmod':
    case 'chown':
      return (record.openFlags & AT_SYMLINK_NOFOLLOW) === 0;
    case 'chdir':
      return true;
    case 'unlink': // acts on the link itself
    case 'rename':
    case 'fchdir':
      return false;
  }
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

/** Whether `process` is what toProcess(info, tid) would make now: every field compared, args element by element. */
export function processMatches(process: Process, info: ProcessInfo, tid: number): boolean {
  if (
    process.tid !== tid ||
    process.exec_id !== info.execId ||
    process.pid !== info.pid ||
    process.uid !== BigInt(info.uid) ||
    process.gid !== BigInt(info.gid) ||
    process.binary !== info.binary ||
    process.cwd !== info.cwd ||
    process.start_time !== info.startTimeNs ||
    process.cgroup_id !== info.cgroupId ||
    process.cgroup_path !== info.cgroupPath ||
    process.container_id !== info.containerId ||
    process.parent_exec_id !== info.parentExecId ||
    process.args.length !== info.args.length
  ) {
    return false;
  }
  for (let i = 0; i < info.args.length; i++) if (process.args[i] !== info.args[i]) return false;
  return true;
}

/** Threads of one process whose last Process object is kept; past it the process's kept objects are dropped. */
const MAX_REUSED_THREADS = 64;

/** A process the cache could not resolve: what the record itself says, so the event is never dropped. */
function unknownProcess(record: SensorRecord, nodeName: string): Process {
  return {
    exec_id: `${nodeName}:0:${record.pid}`,
    pid: record.pid,
    tid: record.tid,
    uid: BigInt(record.uid),
    gid: BigInt(record.gid),
    binary: '',
    args: [],
    cwd: null,
    start_time: 0n,
    cgroup_id: record.cgroupId,
    cgroup_path: null,
    container_id: null,
    parent_exec_id: null,
  };
}

function defaultReadFdPath(pid: number, fd: number): string | null {
  try {
    return readlinkSync(`/proc/${pid}/fd/${fd}`);
  } catch {
    return null;
  }
}

const UNCHANGED_ID = 0xffffffff; // (uid_t)-1: "leave this id as it is"

function id(value: number | undefined): bigint | null {
  return value === undefined || value === UNCHANGED_ID ? null : BigInt(value);
}

/** The uid/gid triple a set*id call asked for, in the PrivilegePayload's fields. */
export function privilegeIds(record: SetidRecord): { ruid: bigint | null; euid: bigint | null; suid: bigint | null; rgid: bigint | null; egid: bigint | null; sgid: bigint | null } {
  const [a, b, c] = record.args;
  const none = { ruid: null, euid: null, suid: null, rgid: null, egid: null, sgid: null };
  switch (record.op) {
    case 'setuid':
    case 'setfsuid':
      return { ...none, euid: id(a) };
    case 'setgid':
    case 'setfsgid':
      return { ...none, egid: id(a) };
    case 'setreuid':
      return { ...none, ruid: id(a), euid: id(b) };
    case 'setregid':
      return { ...none, rgid: id(a), egid: id(b) };
    case 'setresuid':
      return { ...none, ruid: id(a), euid: id(b), suid: id(c) };
    case 'setresgid':
      return { ...none, rgid: id(a), egid: id(b), sgid: id(c) };
  }
}

const PROTOCOLS: Readonly<Record<number, 'tcp' | 'udp' | 'icmp' | 'raw'>> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 255: 'raw' };

const PTRACE_REQUESTS: Readonly<Record<number, string>> = {
  0: 'PTRACE_TRACEME', 1: 'PTRACE_PEEKTEXT', 2: 'PTRACE_PEEKDATA', 4: 'PTRACE_POKETEXT', 5: 'PTRACE_POKEDATA',
  7: 'PTRACE_CONT', 8: 'PTRACE_KILL', 9: 'PTRACE_SINGLESTEP', 12: 'PTRACE_GETREGS', 13: 'PTRACE_SETREGS',
  16: 'PTRACE_ATTACH', 17: 'PTRACE_DETACH', 24: 'PTRACE_SYSCALL', 0x4200: 'PTRACE_SETOPTIONS', 0x4206: 'PTRACE_SEIZE',
  0x4207: 'PTRACE_INTERRUPT',
};

const BPF_COMMANDS = [
  'BPF_MAP_CREATE', 'BPF_MAP_LOOKUP_ELEM', 'BPF_MAP_UPDATE_ELEM', 'BPF_MAP_DELETE_ELEM', 'BPF_MAP_GET_NEXT_KEY',
  'BPF_PROG_LOAD', 'BPF_OBJ_PIN', 'BPF_OBJ_GET', 'BPF_PROG_ATTACH', 'BPF_PROG_DETACH', 'BPF_PROG_TEST_RUN',
  'BPF_PROG_GET_NEXT_ID', 'BPF_MAP_GET_NEXT_ID', 'BPF_PROG_GET_FD_BY_ID', 'BPF_MAP_GET_FD_BY_ID', 'BPF_OBJ_GET_INFO_BY_FD',
  'BPF_PROG_QUERY', 'BPF_RAW_TRACEPOINT_OPEN', 'BPF_BTF_LOAD', 'BPF_BTF_GET_FD_BY_ID', 'BPF_TASK_FD_QUERY',
  'BPF_MAP_LOOKUP_AND_DELETE_ELEM', 'BPF_MAP_FREEZE', 'BPF_BTF_GET_NEXT_ID', 'BPF_MAP_LOOKUP_BATCH',
  'BPF_MAP_LOOKUP_AND_DELETE_BATCH', 'BPF_MAP_UPDATE_BATCH', 'BPF_MAP_DELETE_BATCH', 'BPF_LINK_CREATE', 'BPF_LINK_UPDATE',
  'BPF_LINK_GET_FD_BY_ID', 'BPF_LINK_GET_NEXT_ID', 'BPF_ENABLE_STATS', 'BPF_ITER_CREATE', 'BPF_LINK_DETACH', 'BPF_PROG_BIND_MAP',
  'BPF_TOKEN_CREATE',
];

export class EventBuilder {
  readonly #options: EventBuilderOptions;
  readonly #readFdPath: (pid: number, fd: number) => string | null;
  readonly #followSymlinks: FollowSymlinks;
  #followedPaths = 0;
  #lexicalPaths = 0;
  #closesWithoutOpen = 0;
  /** Open id -> the open, in insertion order (the first key is the oldest). */
  readonly #openedFiles = new Map<bigint, OpenedFile>();
  /**
   * Per ProcessInfo, the last Process object made for each thread id. Reused while every field still matches, so the
   * encoder (RawEventEncoder) reuses its bytes: published Process objects are never mutated, here or downstream.
   */
  readonly #processes = new WeakMap<ProcessInfo, Map<number, Process>>();

  constructor(options: EventBuilderOptions) {
    this.#options = options;
    this.#readFdPath = options.readFdPath ?? defaultReadFdPath;
    this.#followSymlinks = options.followSymlinks ?? createSymlinkResolver();
  }

  stats(): EventBuilderStats {
    return { followedPaths: this.#followedPaths, lexicalPaths: this.#lexicalPaths, closesWithoutOpen: this.#closesWithoutOpen };
  }

  build(record: SensorRecord): UnsequencedEvent | null {
    const { cache } = this.#options;
    switch (record.kind) {
      case 'exec': {
        // The binary as the kernel found it (symlinks followed, relative to the cwd before the exec); the payload's
        // filename keeps the string given to execve.
        const binary = this.resolveFilePath(cache.get(record.pid, record.cgroupId) ?? null, { pid: record.pid, path: record.binary, dirfd: AT_FDCWD }, true);
        const info = cache.exec({
          pid: record.pid,
          timeNs: record.timeNs,
          binary,
          argv: record.args,
          uid: record.uid,
          gid: record.gid,
          cgroupId: record.cgroupId,
        });
        return this.#event(record, info, {
          kind: 'exec',
          payload: { group: 'exec', filename: record.binary, euid: BigInt(record.uid), egid: BigInt(record.gid), secure_exec: false, args_truncated: record.argsTruncated, sha256: null, reached_by: null },
        });
      }
      case 'fork': {
        const child = cache.fork({ parentPid: record.pid, childPid: record.childPid, timeNs: record.timeNs, parentCgroupId: record.cgroupId });
        return this.#event(record, cache.get(record.pid) ?? null, {
          kind: 'fork',
          payload: { group: 'fork', child_pid: record.childPid, child_exec_id: child.execId, clone_flags: 0n },
        });
      }
      case 'exit': {
        const event = this.#event(record, cache.get(record.pid, record.cgroupId) ?? null, {
          kind: 'exit',
          payload: { group: 'exit', code: record.code ?? -1, signal: record.signal ?? 0 },
        });
        cache.exit(record.pid, record.timeNs);
        return event;
      }
      case 'file':
        return this.#file(record);
      case 'file-close':
        return this.#fileClose(record);
      case 'exec-rule':
        return this.#execRule(record);
      case 'file-guard':
        return this.#guard(record);
      case 'connect':
      case 'accept':
      case 'bind':
      case 'listen':
        return this.#network(record);
      case 'egress':
        // The record names the socket's owner as recorded at connect/sendmsg, not the task the packet left from.
        return this.#event(record, cache.lookup(record.pid), { kind: 'egress', payload: egressPayload(record) });
      case 'flow':
        // Like egress: the socket's owner. flow_start is converted with the same boot-to-wall offset as the time.
        return this.#event(record, cache.lookup(record.pid), { kind: 'flow', payload: flowPayload(record, this.#options.bootToWallNs) });
      case 'privilege':
        return this.#event(record, cache.lookup(record.pid, record.cgroupId), {
          kind: 'privilege',
          payload: { group: 'privilege', syscall: record.op, ...privilegeIds(record), result: record.result },
        });
      case 'capset':
        return this.#event(record, cache.lookup(record.pid, record.cgroupId), {
          kind: 'capset',
          payload: { group: 'capset', effective: record.effective, permitted: record.permitted, inheritable: record.inheritable, result: record.result },
        });
      case 'namespace':
        return this.#event(record, cache.lookup(record.pid, record.cgroupId), {
          kind: 'namespace',
          payload: {
            group: 'namespace',
            op: record.op === 'clone3' ? 'clone' : record.op,
            flags: record.flags,
            namespaces: [...record.namespaces],
            fd: record.op === 'setns' ? record.fd : null,
            result: record.result,
          },
          action: this.#action(record.action, record.ruleId),
        });
      case 'module':
        return this.#event(record, cache.lookup(record.pid, record.cgroupId), {
          kind: 'module',
          payload: { group: 'module', op: 'load', name: null, path: record.op === 'finit' ? this.#readFdPath(record.pid, record.fd) : null, result: record.result },
          action: this.#action(record.action, record.ruleId),
        });
      case 'bpf':
        return this.#event(record, cache.lookup(record.pid, record.cgroupId), {
          kind: 'bpf',
          payload: {
            group: 'bpf',
            cmd: record.cmd,
            cmd_name: BPF_COMMANDS[record.cmd] ?? `BPF_CMD_${record.cmd}`,
            prog_type: record.cmd === 5 ? record.progType : null,
            name: record.progName === '' ? null : record.progName,
            result: record.result,
          },
        });
      case 'ptrace': {
        const request = Number(record.request);
        return this.#event(record, cache.lookup(record.pid, record.cgroupId), {
          kind: 'ptrace',
          payload: { group: 'ptrace', request, request_name: PTRACE_REQUESTS[request] ?? `PTRACE_${request}`, target_pid: record.targetPid, result: record.result },
        });
      }
      case 'mount':
        return this.#event(record, cache.lookup(record.pid, record.cgroupId), {
          kind: 'mount',
          payload: {
            group: 'mount',
            op: 'mount',
            source: record.source === '' ? null : record.source,
            target: record.target,
            fstype: record.fstype === '' ? null : record.fstype,
            flags: record.mountFlags,
            result: record.result,
          },
        });
    }
  }

  /** The absolute path a file syscall reached, as far as it can be known (see the contract above). */
  resolveFilePath(info: ProcessInfo | null, record: { pid: number; path: string; dirfd: number }, followLast: boolean): string {
    let directory: string | null = null;
    if (!record.path.startsWith('/')) {
      directory = record.dirfd === AT_FDCWD ? (info?.cwd ?? null) : this.#readFdPath(record.pid, record.dirfd);
      if (directory === null || !directory.startsWith('/')) return record.path;
    }
    // Not normalised before the walk: `..` after a symlink leaves the link's target, not the link.
    const absolute = directory === null ? record.path : `${directory}/${record.path}`;
    const hostProcess = info !== null && info.containerId === null;
    const followed = this.#followSymlinks({ pid: record.pid, hostProcess, path: absolute, followLast, processKey: info?.execId });
    if (followed !== null) {
      this.#followedPaths += 1;
      return followed;
    }
    this.#lexicalPaths += 1;
    return normalizeAbsolutePath(absolute);
  }

  #file(record: FileRecord): UnsequencedEvent | null {
    const { cache } = this.#options;
    const info = cache.lookup(record.pid, record.cgroupId);
    switch (record.op) {
      case 'chdir':
        if (record.result === 0) cache.chdir(record.pid, this.resolveFilePath(info, record, true));
        return null;
      case 'fchdir': {
        const cwd = record.result === 0 ? this.#readFdPath(record.pid, record.dirfd) : null;
        if (cwd) {
          cache.chdir(record.pid, cwd);
          this.#options.onFchdir?.(record.pid, cwd);
        }
        return null;
      }
      case 'open':
      case 'unlink':
      case 'rename':
      case 'chmod':
      case 'chown': {
        // An operation an LSM hook saw carries the path the kernel resolved (the file sensor's lsm mode).
        const path = record.resolvedPath ?? this.resolveFilePath(info, record, followsLastComponent(record));
        if (record.openId !== null) this.#rememberOpen(record.openId, { path, pathAsGiven: record.path, flags: record.openFlags });
        return this.#event(record, info, {
          kind: 'file',
          payload: {
            group: 'file',
            op: record.op,
            path,
            path_as_given: record.path,
            new_path:
              record.resolvedPath2 ??
              (record.path2 === null ? null : this.resolveFilePath(info, { pid: record.pid, path: record.path2, dirfd: record.dirfd2 }, false)),
            flags: record.openFlags,
            mode: record.op === 'open' || record.op === 'chmod' ? record.mode : null,
            result: record.result ?? 0,
            reached_by: null,
            io: null,
          },
          action: this.#action(record.action, record.ruleId),
        });
      }
    }
  }

  #rememberOpen(openId: bigint, opened: OpenedFile): void {
    this.#openedFiles.set(openId, opened);
    if (this.#openedFiles.size > OPEN_PATHS_MAX) {
      const oldest = this.#openedFiles.keys().next();
      if (!oldest.done) this.#openedFiles.delete(oldest.value);
    }
  }

  /** The last descriptor of a watched open went: a file event op close with what went through it. */
  #fileClose(record: FileCloseRecord): UnsequencedEvent | null {
    const opened = this.#openedFiles.get(record.openId);
    if (opened === undefined) {
      this.#closesWithoutOpen += 1;
      return null;
    }
    this.#openedFiles.delete(record.openId);
    return this.#event(record, this.#options.cache.lookup(record.pid, record.cgroupId), {
      kind: 'file',
      payload: {
        group: 'file',
        op: 'close',
        path: opened.path,
        path_as_given: opened.pathAsGiven,
        new_path: null,
        flags: opened.flags,
        mode: null,
        result: 0,
        reached_by: null,
        io: {
          bytes_read: record.bytesRead,
          bytes_written: record.bytesWritten,
          reads: BigInt(record.reads),
          writes: BigInt(record.writes),
          bytes_mapped: record.bytesMapped,
          closed_by: record.reason,
        },
      },
    });
  }

  #execRule(record: ExecRuleRecord): UnsequencedEvent {
    const info = this.#options.cache.lookup(record.pid, record.cgroupId);
    return this.#event(record, info, {
      kind: 'exec',
      payload: {
        group: 'exec',
        filename: this.resolveFilePath(info, record, true),
        euid: BigInt(record.uid),
        egid: BigInt(record.gid),
        secure_exec: false,
        args_truncated: false,
        sha256: null,
        reached_by: null,
      },
      action: this.#action(record.action, record.ruleId),
    });
  }

  /** An open or exec the file guard refused: the file as the rule names it, the name the process used, how. */
  #guard(record: GuardRecord): UnsequencedEvent {
    const { decision } = record;
    // Without the record's cgroup id: it is the cache's own at the refusal, older than the records since.
    const info = this.#options.cache.lookup(record.pid);
    const action: Action = { kind: decision.action === 'kill' ? 'sigkill' : 'deny', policy: decision.policy, rule: decision.rule };
    if (decision.event === 'exec') {
      return this.#event(record, info, {
        kind: 'exec',
        payload: {
          group: 'exec',
          filename: decision.path,
          euid: BigInt(record.uid),
          egid: BigInt(record.gid),
          secure_exec: false,
          args_truncated: false,
          sha256: decision.sha256,
          reached_by: decision.reachedBy,
        },
        action,
      });
    }
    return this.#event(record, info, {
      kind: 'file',
      payload: {
        group: 'file',
        op: 'open',
        path: decision.path,
        path_as_given: decision.pathAsGiven,
        new_path: null,
        flags: decision.flags,
        mode: null,
        result: -1, // EPERM
        reached_by: decision.reachedBy,
        io: null,
      },
      action,
    });
  }

  #network(record: NetworkRecord): UnsequencedEvent {
    const remote = record.kind === 'connect' || record.kind === 'accept';
    return this.#event(record, this.#options.cache.lookup(record.pid, record.cgroupId), {
      kind: record.kind,
      payload: {
        group: 'network',
        family: record.family ?? 'other',
        protocol: PROTOCOLS[record.protocol] ?? (record.protocol === 0 ? 'tcp' : 'other'),
        saddr: remote ? null : record.address,
        sport: remote ? null : record.port,
        daddr: remote ? record.address : null,
        dport: remote ? record.port : null,
        result: record.result,
        bytes: null,
        ...NO_FLOW,
      },
      action: this.#action(record.action, record.ruleId),
    });
  }

  /** The event's action for what the kernel did; null for none and audit (an audit is an ordinary event). */
  #action(taken: string, ruleId: number): Action | null {
    let kind: ActionKind;
    if (taken === 'killed') kind = 'sigkill';
    else if (taken === 'denied') kind = 'deny';
    else return null;
    const origin = this.#options.ruleOrigin?.(ruleId);
    return { kind, policy: origin?.policy ?? `rule-id:${ruleId}`, rule: origin?.rule ?? String(ruleId) };
  }

  /** toProcess(info, tid), or the same object as last time when none of its fields changed. */
  #processOf(info: ProcessInfo, tid: number): Process {
    let byThread = this.#processes.get(info);
    const last = byThread?.get(tid);
    if (last !== undefined && processMatches(last, info, tid)) return last;
    const made = toProcess(info, tid);
    if (byThread === undefined) {
      byThread = new Map();
      this.#processes.set(info, byThread);
    } else if (byThread.size >= MAX_REUSED_THREADS && last === undefined) {
      byThread.clear();
    }
    byThread.set(tid, made);
    return made;
  }

  #event(record: SensorRecord, info: ProcessInfo | null, what: { kind: EventKind; payload: Payload; action?: Action | null }): UnsequencedEvent {
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
      process: info ? this.#processOf(info, record.tid) : unknownProcess(record, nodeName),
      parent: parentInfo ? this.#processOf(parentInfo, parentInfo.pid) : null,
      payload,
      action,
    };
  }
}
