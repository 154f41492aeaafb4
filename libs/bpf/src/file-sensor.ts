/**
 * The file sensor: bpf/file/bpf_file.c (watched opens, unlinks, renames, chmods, chowns; every chdir/fchdir) and
 * bpf/file/bpf_exec_policy.c (exec rules), loaded as one sensor. Records: decodeFileRecord (or the dispatcher
 * with FILE_RECORD_DECODERS). Rules: `filePolicy` and `execPolicy`.
 *
 * Nothing is watched until rules are added: an unwatched path costs a few map lookups in the kernel and never
 * reaches the ring buffer. Syscalls this kernel does not have (fchmodat2 before 6.6, the legacy open/chmod/…
 * on arm64) are skipped at load, and logged.
 */
import { existsSync } from 'node:fs';
import type { Logger } from '@stinger/log';
import { namespaced, silentLogger } from '@stinger/log';
import type { BpfObject } from './bpf-object.ts';
import { BpfLoadError } from './errors.ts';
import { createExecPolicyMaps, type ExecPolicyMaps } from './exec-policy.ts';
import { FILE_RULE_OP_BITS, createPathRuleMaps, type PathRuleMaps } from './file-policy.ts';
import { tgidKey } from './map-keys.ts';
import { loadSensor, type Sensor } from './sensor.ts';

/** Object files of the file sensor, bpf/file/. */
export const FILE_SENSOR_OBJECTS = ['bpf_file', 'bpf_exec_policy'] as const;

export interface FileSensor extends Sensor {
  /** Watched paths and file rules (file_rules_* maps). */
  readonly filePolicy: PathRuleMaps;
  /** Exec rules (exec_rules_* maps). */
  readonly execPolicy: ExecPolicyMaps;
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
}

const TRACEFS_EVENTS = ['/sys/kernel/tracing/events', '/sys/kernel/debug/tracing/events'];

function tracepointExists(category: string, name: string): boolean {
  return TRACEFS_EVENTS.some((dir) => existsSync(`${dir}/${category}/${name}`));
}

export function loadFileSensor(options: LoadFileSensorOptions = {}): FileSensor {
  const logger = namespaced(options.logger ?? silentLogger(), 'FileSensor');
  const skipMissingSyscalls = (object: BpfObject): void => {
    for (const program of object.programs) {
      const match = /^tracepoint\/(syscalls)\/(sys_(?:enter|exit)_\w+)$/.exec(program.sectionName);
      if (match?.[1] === undefined || match[2] === undefined || tracepointExists(match[1], match[2])) continue;
      program.autoload = false;
      logger.info({ program: program.name, tracepoint: match[2] }, 'syscall not on this kernel: not attached');
    }
  };
  const sensor = loadSensor({ ...options, name: 'file', objects: FILE_SENSOR_OBJECTS, prepare: skipMissingSyscalls });
  try {
    const objectNamed = (suffix: string): BpfObject => {
      const object = sensor.objects.find((o) => o.path.endsWith(`/${suffix}.bpf.o`));
      if (!object) throw new BpfLoadError(`file sensor: object ${suffix} not loaded`);
      return object;
    };
    const file = objectNamed('bpf_file');
    const filePolicy = createPathRuleMaps({
      maps: {
        exact: file.map('file_rules_exact'),
        prefix: file.map('file_rules_prefix'),
        prefixAll: file.map('file_rules_prefix_all'),
        name: file.map('file_rules_name'),
      },
      opBits: FILE_RULE_OP_BITS,
    });
    const execPolicy = createExecPolicyMaps(objectNamed('bpf_exec_policy'));
    const ignored = file.map('file_ignored_tgids');
    for (const tgid of options.ignoredProcesses ?? [process.pid]) ignored.update(tgidKey(tgid), Uint8Array.of(1));
    return { ...sensor, filePolicy, execPolicy };
  } catch (error) {
    sensor.close();
    throw error;
  }
}
