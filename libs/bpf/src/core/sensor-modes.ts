/**
 * Which mode each sensor runs in, chosen from the probed kernel features (probeFeatures): the best mode the sensor
 * has programs for and the kernel allows. BPF LSM hooks see the file the kernel resolved and can refuse with EPERM;
 * kprobes see the kernel's own arguments; syscall tracepoints see what the process passed and are allowed
 * everywhere. The file sensor has an lsm mode (bpf/file/bpf_file_lsm.c, the file_open hook beside its
 * tracepoints: loadFileSensor's `mode`), chosen where probeFeatures found BPF LSM programs allowed; every other BPF
 * sensor is built for tracepoints only (cgroup hooks beside them for the network sensor). `kernelAllows` says
 * which richer modes this kernel would take, so a node's health shows what a stock kernel offers. The file guard
 * is fanotify, not BPF. A sensor given LSM or kprobe programs adds the mode to SENSOR_MODES, best first.
 */
import type { FeatureName, FeatureReport } from './features.ts';

export const SENSOR_MODE_NAMES = ['lsm', 'kprobe', 'tracepoint', 'fanotify'] as const;
export type SensorMode = (typeof SENSOR_MODE_NAMES)[number];

/** The kernel feature each mode needs (null: none a BPF probe can tell). */
const MODE_FEATURE: Readonly<Record<SensorMode, FeatureName | null>> = {
  lsm: 'lsm',
  kprobe: 'kprobe',
  tracepoint: 'tracepoint',
  fanotify: null,
};

/** The modes each sensor has programs for, best first. */
export const SENSOR_MODES: Readonly<Record<string, readonly SensorMode[]>> = {
  process: ['tracepoint'],
  file: ['lsm', 'tracepoint'],
  network: ['tracepoint'],
  privilege: ['tracepoint'],
  'flow-counters': ['tracepoint'],
  'egress-parser': ['tracepoint'],
  'file-guard': ['fanotify'],
};

/** The modes the kernel could give a sensor of this kind: where it sees, not what is built yet. */
const KERNEL_MODES: Readonly<Record<string, readonly SensorMode[]>> = {
  process: ['lsm', 'kprobe', 'tracepoint'],
  file: ['lsm', 'kprobe', 'tracepoint'],
  network: ['lsm', 'kprobe', 'tracepoint'],
  privilege: ['lsm', 'kprobe', 'tracepoint'],
};

export interface SensorModeChoice {
  /** The mode the sensor runs in; null when the kernel allows none of its modes (or the sensor is unknown). */
  readonly mode: SensorMode | null;
  /** Every mode of its kind this kernel allows, best first, built or not (lsm and kprobe on most stock kernels). */
  readonly kernelAllows: readonly SensorMode[];
}

type Availability = Readonly<Partial<Record<string, { readonly available: boolean }>>>;

function allowed(mode: SensorMode, features: Availability): boolean {
  const feature = MODE_FEATURE[mode];
  return feature === null || features[feature]?.available === true;
}

/** The mode `sensor` runs in on a kernel with `features`, given the modes each sensor is built for. Pure. */
export function chooseSensorMode(sensor: string, features: FeatureReport | Availability, modes: Readonly<Record<string, readonly SensorMode[]>> = SENSOR_MODES): SensorModeChoice {
  const built = modes[sensor] ?? [];
  const kinds = KERNEL_MODES[sensor] ?? built;
  return {
    mode: built.find((mode) => allowed(mode, features)) ?? null,
    kernelAllows: kinds.filter((mode) => allowed(mode, features)),
  };
}
