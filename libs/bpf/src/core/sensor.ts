/**
 * A sensor: several BPF objects (one per attach point, bpf/<sensor>/bpf_*.c) loaded as one unit that shares its
 * maps. The first object creates the shared maps; every later object reuses their fds before it loads, so all
 * hooks write into one ring buffer (`events`), one lost-records counter, one shed-records counter and one process
 * table.
 *
 * `close()` destroys every link and object; it runs on any failure during load/attach, so a sensor never leaves
 * attachments behind. Nothing is pinned: the programs live as long as this process holds them.
 */
import { join } from 'node:path';
import type { Logger } from '@stinger/log';
import { namespaced, silentLogger } from '@stinger/log';
import { openBpfObject, type BpfMap, type BpfObject } from './bpf-object.ts';
import { BpfLoadError } from './errors.ts';
import { DEFAULT_OBJECT_DIR, assertBpfPrivileges, ensureTracefs } from './kernel-environment.ts';
import { readPerCpuCounter } from './ring-buffer-reader.ts';
import { isSensorName, SENSOR_LOSS_SLOTS } from './event-kinds.ts';

/** Maps every sensor object declares (bpf/lib/stinger_maps.h). */
export const SHARED_MAPS = ['events', 'lost_records', 'shed_records', 'ppid_by_pid', 'pod_cgroup_roots', 'cwd_by_tgid', 'pid_scope_tgids', 'pid_scope_follow', 'pid_scope_full', 'pod_scope_cgroups'] as const;

export interface LoadSensorOptions {
  /** For logs and errors, e.g. `process`. */
  readonly name: string;
  /** Object file names without `.bpf.o`, loaded in this order. */
  readonly objects: readonly string[];
  /** Directory of the compiled objects; default bpf/build. */
  readonly objectDir?: string;
  readonly logger?: Logger;
  /**
   * An already loaded sensor whose shared maps this one uses instead of creating its own (one ring buffer, one
   * lost-records counter, one process table for all sensors of an agent). The joined sensor may close first: the
   * maps live as long as any object holds them.
   */
  readonly join?: Sensor;
  /** Called on each object after it is opened, before it loads (e.g. to switch off programs this kernel cannot attach). */
  readonly prepare?: (object: BpfObject) => void;
  /**
   * Maps this sensor's objects share among themselves (not with joined sensors): the first object that declares
   * one creates it, later ones reuse it, as for SHARED_MAPS.
   */
  readonly sensorMaps?: readonly string[];
  /** Objects loaded but not attached: the caller attaches them (`object.attach()`) when it needs them. */
  readonly detached?: readonly string[];
}

export interface Sensor {
  readonly name: string;
  readonly objects: readonly BpfObject[];
  /** The shared ring buffer map (`events`): give it to createRingBufferReader. */
  readonly events: BpfMap;
  /** A shared map by name (SHARED_MAPS). */
  sharedMap(name: (typeof SHARED_MAPS)[number]): BpfMap;
  /**
   * Records of this sensor's programs the kernel dropped because the shared ring buffer was full, summed over CPUs
   * (its lost_records slot, SENSOR_LOSS_SLOTS). A sensor named other than the four sensors (a measuring script's
   * maps-only load) reads every slot.
   */
  lostRecords(): bigint;
  /**
   * Audit-only records of this sensor's programs the kernel did not write because the shared ring buffer held more
   * than SHED_AUDIT_ABOVE_BYTES unconsumed (its shed_records slot; bpf/README.md "Loss and shedding"), summed over
   * CPUs; the same slots as lostRecords().
   */
  shedRecords(): bigint;
  /** Detaches every program and frees the objects. Idempotent. */
  close(): void;
}

export function loadSensor(options: LoadSensorOptions): Sensor {
  const { name, objects: objectNames, objectDir = DEFAULT_OBJECT_DIR } = options;
  const logger = namespaced(options.logger ?? silentLogger(), 'Sensor');
  assertBpfPrivileges();
  ensureTracefs();
  const objects: BpfObject[] = [];
  const close = (): void => {
    for (const object of objects.splice(0).reverse()) object.close();
  };
  try {
    const shared = new Map<string, BpfMap>();
    const ownShared = new Map<string, BpfMap>();
    const sensorMaps = options.sensorMaps ?? [];
    for (const objectName of objectNames) {
      const object = openBpfObject({ path: join(objectDir, `${objectName}.bpf.o`) });
      objects.push(object);
      options.prepare?.(object);
      for (const mapName of SHARED_MAPS) {
        if (!object.hasMap(mapName)) continue;
        const existing = shared.get(mapName) ?? options.join?.sharedMap(mapName);
        if (existing) object.map(mapName).reuseFd(existing.fd);
      }
      for (const mapName of sensorMaps) {
        const existing = ownShared.get(mapName);
        if (existing && object.hasMap(mapName)) object.map(mapName).reuseFd(existing.fd);
      }
      object.load();
      for (const mapName of SHARED_MAPS) {
        if (object.hasMap(mapName) && !shared.has(mapName)) shared.set(mapName, object.map(mapName));
      }
      for (const mapName of sensorMaps) {
        if (object.hasMap(mapName) && !ownShared.has(mapName)) ownShared.set(mapName, object.map(mapName));
      }
    }
    for (const [index, object] of objects.entries()) {
      if (options.detached?.includes(objectNames[index] ?? '')) continue;
      const links = object.attach();
      logger.debug({ sensor: name, object: object.path, programs: links.map((l) => l.program) }, 'attached');
    }
    const sharedMap = (mapName: (typeof SHARED_MAPS)[number]): BpfMap => {
      const map = shared.get(mapName);
      if (!map) throw new BpfLoadError(`sensor ${name}: no object declares the shared map ${mapName}`);
      return map;
    };
    const events = sharedMap('events');
    const lost = sharedMap('lost_records');
    const shed = sharedMap('shed_records');
    logger.info({ sensor: name, objects: objectNames }, 'sensor loaded');
    const slots = isSensorName(name) ? [SENSOR_LOSS_SLOTS[name]] : Object.values(SENSOR_LOSS_SLOTS);
    const sumSlots = (map: BpfMap): bigint => slots.reduce((sum, slot) => sum + readPerCpuCounter(map, slot), 0n);
    return { name, objects: [...objects], events, sharedMap, lostRecords: () => sumSlots(lost), shedRecords: () => sumSlots(shed), close };
  } catch (error) {
    close();
    throw error;
  }
}

/** Object files of the process sensor (exec, fork, exit), bpf/process/. */
export const PROCESS_SENSOR_OBJECTS = ['bpf_fork', 'bpf_exec', 'bpf_exit'] as const;

export interface LoadProcessSensorOptions {
  readonly objectDir?: string;
  readonly logger?: Logger;
}

/** The process life-cycle sensor: exec, fork and exit records (decode with decodeProcessRecord). */
export function loadProcessSensor(options: LoadProcessSensorOptions = {}): Sensor {
  return loadSensor({ ...options, name: 'process', objects: PROCESS_SENSOR_OBJECTS });
}
