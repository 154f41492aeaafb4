/**
 * The file sensor: bpf/file/bpf_file.c (watched opens, unlinks, renames, chmods, chowns; every chdir/fchdir),
 * bpf/file/bpf_exec_policy.c (exec rules) and bpf/file/bpf_file_io.c (the descriptors of watched opens, from open
 * to the last close: one close record with the bytes read, written and mapped), loaded as one sensor. Records:
 * decodeFileRecord (or the dispatcher with FILE_RECORD_DECODERS). Rules: `filePolicy` and `execPolicy`.
 *
 * Descriptor tracking costs every read, write, mmap, dup, fcntl and close on the node a hash lookup, so
 * bpf_file_io is attached only while `filePolicy` holds at least one path, and detached (its maps emptied) when the
 * last one is removed: opens still tracked then get no close record.
 *
 * Nothing is watched until rules are added: an unwatched path costs a few map lookups in the kernel and never
 * reaches the ring buffer. Syscalls this kernel does not have (fchmodat2 before 6.6, the legacy open/chmod/…
 * on arm64) are skipped at load, and logged.
 *
 * Modes (core/sensor-modes.ts chooses): `tracepoint` is the above, everywhere. `lsm` adds bpf/file/bpf_file_lsm.c
 * (the file_open LSM hook), bpf/file/bpf_file_path_lsm.c (path_unlink, path_rmdir, path_rename, path_chmod,
 * path_chown) and bpf/file/bpf_exec_lsm.c (bprm_check_security): opens, unlinks, renames, chmods, chowns and execs
 * are matched on the path the kernel resolved (symlinks, `//`, relative and dirfd-relative paths, a bind mount of a
 * prefix's directory), a deny rule fails the operation with EPERM, a kill rule also fails it, and the records carry
 * the resolved path (FileRecord.resolvedPath and resolvedPath2, ExecRuleRecord.resolved). Where an LSM object cannot
 * load, the sensor logs why and loads in tracepoint mode: `mode` says which it runs in.
 */
import { existsSync } from 'node:fs';
import type { Logger } from '@stinger/log';
import { namespaced, silentLogger } from '@stinger/log';
import type { BpfObject } from '../core/bpf-object.ts';
import { BpfLoadError } from '../core/errors.ts';
import { createExecPolicyMaps, type ExecPolicyMaps } from './exec-rules.ts';
import { FILE_RULE_OP_BITS, createPathRuleMaps, resolvedRuleMaps, type PathRuleMaps } from './path-rules.ts';
import { FILE_IO_LOSS, type FileIoLoss } from './records.ts';
import { readPerCpuCounter } from '../core/ring-buffer-reader.ts';
import { tgidKey } from '../core/map-keys.ts';
import { loadSensor, type Sensor } from '../core/sensor.ts';

/** Object files of the file sensor, bpf/file/. */
export const FILE_SENSOR_OBJECTS = ['bpf_file', 'bpf_exec_policy', 'bpf_file_io'] as const;
/**
 * The objects the lsm mode adds: the file_open LSM hook, the path_unlink/rmdir/rename/chmod/chown hooks and
 * bprm_check_security.
 */
export const FILE_LSM_OBJECTS = ['bpf_file_lsm', 'bpf_file_path_lsm', 'bpf_exec_lsm'] as const;

/** The operations the lsm mode's hooks refuse with EPERM for a deny rule (bpf_file_lsm.c, bpf_file_path_lsm.c). */
export const FILE_LSM_DENY_OPS = ['open', 'unlink', 'rename', 'chmod', 'chown'] as const;

/** The modes the file sensor has programs for (SENSOR_MODES.file). */
export type FileSensorMode = 'lsm' | 'tracepoint';

/**
 * Maps the sensor's objects share: bpf_file (which starts tracking an open) and bpf_file_io (which follows it),
 * bpf/file/file_io.h; bpf_file and the LSM hooks (the parked open, the ignored processes: bpf/file/file_state.h;
 * each rule set's filter: bpf/file/lsm_match.h).
 */
const FILE_SENSOR_MAPS = [
  'file_io_fds',
  'file_io_opens',
  'file_io_tgids',
  'file_io_open_seq',
  'file_io_losses',
  'file_by_tid',
  'file_by_tid_bound',
  'file_io_fds_bound',
  'file_ignored_tgids',
  'file_rules_filter',
  'exec_rules_filter',
  // The file rules' hash copies and work area, shared by the file_open hook and the path_* hooks (lsm_match.h).
  'file_rules_resolved_exact',
  'file_rules_resolved_prefix',
  'file_rules_resolved_dirs',
  'file_lsm_scratch',
] as const;

/** The descriptor tracking of watched opens (bpf_file_io). */
export interface FileIoTracking {
  /** Whether its programs are attached: while filePolicy holds at least one path. */
  readonly attached: boolean;
  /** Tracking the kernel gave up since the sensor loaded, by reason (FILE_IO_LOSS). */
  losses(): Record<FileIoLoss, bigint>;
}

export interface FileSensor extends Sensor {
  /** Watched paths and file rules (file_rules_* maps). Adding the first path attaches `io`; removing the last detaches it. */
  readonly filePolicy: PathRuleMaps;
  /** Exec rules (exec_rules_* maps). */
  readonly execPolicy: ExecPolicyMaps;
  readonly io: FileIoTracking;
  /** The mode it runs in; null when it did not load (unavailableFileSensor). */
  readonly mode: FileSensorMode | null;
}

export interface LoadFileSensorOptions {
  readonly objectDir?: string;
  readonly logger?: Logger;
  /** Share this sensor's ring buffer and process table (e.g. the process sensor's). */
  readonly join?: Sensor;
  /**
   * Processes whose file operations are never reported nor killed (file_ignored_tgids, at most 16). Default: this
   * process: the agent must not report (or be killed for) its own file work.
   */
  readonly ignoredProcesses?: readonly number[];
  /**
   * 'lsm' where chooseSensorMode('file', features) says so (the kernel runs BPF LSM programs); default
   * 'tracepoint'. An lsm load the kernel refuses falls back to tracepoint (logged; `mode` says it).
   */
  readonly mode?: FileSensorMode;
}

const TRACEFS_EVENTS = ['/sys/kernel/tracing/events', '/sys/kernel/debug/tracing/events'];

function tracepointExists(category: string, name: string): boolean {
  return TRACEFS_EVENTS.some((dir) => existsSync(`${dir}/${category}/${name}`));
}

export function loadFileSensor(options: LoadFileSensorOptions = {}): FileSensor {
  const logger = namespaced(options.logger ?? silentLogger(), 'FileSensor');
  if (options.mode === 'lsm') {
    try {
      return loadInMode(options, 'lsm', logger);
    } catch (error) {
      logger.warn({ err: error }, 'file_open LSM hook refused by this kernel: the file sensor runs on tracepoints');
    }
  }
  return loadInMode(options, 'tracepoint', logger);
}

function loadInMode(options: LoadFileSensorOptions, mode: FileSensorMode, logger: Logger): FileSensor {
  const skipMissingSyscalls = (object: BpfObject): void => {
    for (const program of object.programs) {
      const match = /^tracepoint\/(syscalls)\/(sys_(?:enter|exit)_\w+)$/.exec(program.sectionName);
      if (match?.[1] === undefined || match[2] === undefined || tracepointExists(match[1], match[2])) continue;
      program.autoload = false;
      logger.info({ program: program.name, tracepoint: match[2] }, 'syscall not on this kernel: not attached');
    }
  };
  const sensor = loadSensor({
    ...options,
    name: 'file',
    objects: mode === 'lsm' ? [...FILE_SENSOR_OBJECTS, ...FILE_LSM_OBJECTS] : FILE_SENSOR_OBJECTS,
    prepare: skipMissingSyscalls,
    sensorMaps: FILE_SENSOR_MAPS,
    detached: ['bpf_file_io'],
  });
  try {
    const objectNamed = (suffix: string): BpfObject => {
      const object = sensor.objects.find((o) => o.path.endsWith(`/${suffix}.bpf.o`));
      if (!object) throw new BpfLoadError(`file sensor: object ${suffix} not loaded`);
      return object;
    };
    const file = objectNamed('bpf_file');
    const io = createFileIoTracking(objectNamed('bpf_file_io'), logger);
    const lsm = mode === 'lsm' ? objectNamed('bpf_file_lsm') : null;
    const rules = createPathRuleMaps({
      maps: {
        exact: file.map('file_rules_exact'),
        prefix: file.map('file_rules_prefix'),
        prefixAll: file.map('file_rules_prefix_all'),
        name: file.map('file_rules_name'),
        filter: file.map('file_rules_filter'),
        ...(lsm && { resolved: resolvedRuleMaps(lsm, 'file') }),
      },
      opBits: FILE_RULE_OP_BITS,
      // Only the LSM hooks can refuse an operation: without them a deny rule would be a silent audit.
      denyOps: lsm ? FILE_LSM_DENY_OPS : [],
    });
    const execPolicy = createExecPolicyMaps(objectNamed('bpf_exec_policy'), mode === 'lsm' ? objectNamed('bpf_exec_lsm') : null);
    const ignored = file.map('file_ignored_tgids');
    for (const tgid of options.ignoredProcesses ?? [process.pid]) ignored.update(tgidKey(tgid), Uint8Array.of(1));
    logger.info({ mode }, 'file sensor mode');
    return { ...sensor, filePolicy: attachingWhileWatched(rules, io), execPolicy, io, mode };
  } catch (error) {
    sensor.close();
    throw error;
  }
}

interface AttachableFileIo extends FileIoTracking {
  /** Attaches or detaches (emptying the tracking maps); idempotent. */
  setAttached(on: boolean): void;
}

function createFileIoTracking(object: BpfObject, logger: Logger): AttachableFileIo {
  let attached = false;
  const losses = object.map('file_io_losses');
  return {
    get attached() {
      return attached;
    },
    setAttached(on) {
      if (on === attached) return;
      if (on) {
        object.attach();
      } else {
        object.detach();
        // Entries left behind would name descriptors whose close went unseen: a later reuse of the number
        // would be counted to the old open.
        for (const name of ['file_io_fds', 'file_io_opens', 'file_io_tgids', 'file_io_pending']) object.map(name).clear();
      }
      attached = on;
      logger.info({ attached: on }, on ? 'descriptor tracking attached (a path is watched)' : 'descriptor tracking detached (no path is watched)');
    },
    losses() {
      const entries = Object.entries(FILE_IO_LOSS) as [FileIoLoss, number][];
      return Object.fromEntries(entries.map(([reason, slot]) => [reason, readPerCpuCounter(losses, slot)])) as Record<FileIoLoss, bigint>;
    },
  };
}

/** `rules` whose every change attaches descriptor tracking while a path is watched, and detaches it when none is. */
function attachingWhileWatched(rules: PathRuleMaps, io: AttachableFileIo): PathRuleMaps {
  const sync = <T>(result: T): T => {
    io.setAttached(rules.list().length > 0);
    return result;
  };
  return {
    addExact: (path, rule) => sync(rules.addExact(path, rule)),
    addPrefix: (prefix, rule) => sync(rules.addPrefix(prefix, rule)),
    removeExact: (path) => sync(rules.removeExact(path)),
    removePrefix: (prefix) => sync(rules.removePrefix(prefix)),
    clear: () => sync(rules.clear()),
    list: () => rules.list(),
  };
}
