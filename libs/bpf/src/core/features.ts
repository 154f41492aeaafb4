/**
 * probeFeatures: which program types and attach kinds the running kernel allows, found by loading and attaching
 * the tiny programs of bpf/probe/probe_features.c one at a time (a program type the kernel knows can still be
 * refused at load or attach, e.g. by lockdown). Never throws for an unavailable feature: it reports it with the
 * errno. Leaves nothing attached.
 */
import { mkdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { openBpfObject } from './bpf-object.ts';
import { BpfError, errnoName } from './errors.ts';
import { DEFAULT_OBJECT_DIR, assertBpfPrivileges, cgroup2MountPoint, ensureTracefs } from './kernel-environment.ts';
import { ffi } from './libbpf.ts';

export const FEATURES = [
  'tracepoint',
  'raw_tracepoint',
  'kprobe',
  'fentry',
  'lsm',
  'cgroup_connect4',
  'ringbuf',
  'send_signal',
] as const;
export type FeatureName = (typeof FEATURES)[number];

export interface FeatureStatus {
  readonly available: boolean;
  /** Positive errno of the failing step when unavailable. */
  readonly errno?: number;
  /** Why it is unavailable: the step that failed and the error. */
  readonly reason?: string;
}

export type FeatureReport = Readonly<Record<FeatureName, FeatureStatus>>;

export interface ProbeFeaturesOptions {
  readonly objectDir?: string;
}

const BPF_MAP_TYPE_RINGBUF = 27;
const O_RDONLY_DIRECTORY = 0o200000;

type Step = 'load' | 'attach' | 'attach-cgroup';

const PROGRAMS: Readonly<Record<Exclude<FeatureName, 'ringbuf'>, { program: string; step: Step }>> = {
  tracepoint: { program: 'probe_tracepoint', step: 'attach' },
  raw_tracepoint: { program: 'probe_raw_tracepoint', step: 'attach' },
  kprobe: { program: 'probe_kprobe', step: 'attach' },
  fentry: { program: 'probe_fentry', step: 'attach' },
  lsm: { program: 'probe_lsm', step: 'attach' },
  cgroup_connect4: { program: 'probe_cgroup_connect4', step: 'attach-cgroup' },
  send_signal: { program: 'probe_send_signal', step: 'load' },
};

function unavailable(what: string, error: unknown): FeatureStatus {
  if (error instanceof BpfError) {
    return error.errno === undefined
      ? { available: false, reason: `${what}: ${error.message}` }
      : { available: false, errno: error.errno, reason: `${what}: ${errnoName(error.errno)}` };
  }
  return { available: false, reason: `${what}: ${String(error)}` };
}

/** Attaches `attach` to a fresh, empty cgroup so that probing affects no process. */
function withScratchCgroup(attach: (cgroupFd: number) => void): void {
  const dir = join(cgroup2MountPoint(), `stinger-probe-${process.pid}`);
  mkdirSync(dir);
  const { libc } = ffi();
  const fd = libc.open(dir, O_RDONLY_DIRECTORY);
  try {
    attach(fd);
  } finally {
    if (fd >= 0) libc.close(fd);
    rmdirSync(dir);
  }
}

function probeProgram(path: string, feature: Exclude<FeatureName, 'ringbuf'>): FeatureStatus {
  const { program, step } = PROGRAMS[feature];
  let object;
  try {
    object = openBpfObject({ path });
  } catch (error) {
    return unavailable('open', error);
  }
  try {
    for (const p of object.programs) p.autoload = p.name === program;
    try {
      object.load();
    } catch (error) {
      return unavailable('load', error);
    }
    try {
      switch (step) {
        case 'load':
          break;
        case 'attach':
          object.program(program).attach().destroy();
          break;
        case 'attach-cgroup':
          withScratchCgroup((fd) => object.program(program).attachCgroup(fd).destroy());
          break;
      }
    } catch (error) {
      return unavailable('attach', error);
    }
    return { available: true };
  } finally {
    object.close();
  }
}

/** Probes every feature; throws only when probing itself is impossible (no privileges, no libbpf). */
export function probeFeatures(options: ProbeFeaturesOptions = {}): FeatureReport {
  assertBpfPrivileges();
  ensureTracefs();
  const path = join(options.objectDir ?? DEFAULT_OBJECT_DIR, 'probe_features.bpf.o');
  const ringbufProbe = ffi().libbpf.libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, null);
  const ringbuf: FeatureStatus =
    ringbufProbe > 0
      ? { available: true }
      : ringbufProbe === 0
        ? { available: false, reason: 'map type unsupported by this kernel' }
        : { available: false, errno: -ringbufProbe, reason: `probe: ${errnoName(-ringbufProbe)}` };
  return {
    tracepoint: probeProgram(path, 'tracepoint'),
    raw_tracepoint: probeProgram(path, 'raw_tracepoint'),
    kprobe: probeProgram(path, 'kprobe'),
    fentry: probeProgram(path, 'fentry'),
    lsm: probeProgram(path, 'lsm'),
    cgroup_connect4: probeProgram(path, 'cgroup_connect4'),
    ringbuf,
    send_signal: probeProgram(path, 'send_signal'),
  };
}
