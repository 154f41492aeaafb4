/**
 * @stinger/bpf — the only place that talks to libbpf (through koffi): BPF objects, maps and links, sensors
 * (groups of objects sharing their maps), the batched ring-buffer reader, record decoders and feature probing.
 * Build the kernel objects and the native helper first: `npm run -w @stinger/bpf build:bpf`.
 */
export {
  BpfError,
  BpfPermissionError,
  BpfEnvironmentError,
  BpfLoadError,
  BpfAttachError,
  BpfMapError,
  RingBufferError,
  errnoName,
  type BpfErrorOptions,
} from './errors.ts';
export {
  openBpfObject,
  BpfObject,
  BpfProgram,
  BpfMap,
  BpfLink,
  BPF_ANY,
  BPF_NOEXIST,
  BPF_EXIST,
  type OpenBpfObjectOptions,
} from './bpf-object.ts';
export { boottimeNs, bootToWallOffsetNs } from './clock.ts';
export {
  createRingBufferReader,
  forEachRecord,
  readPerCpuCounter,
  type RingBufferReader,
  type RingBufferReaderOptions,
  type RingBufferStats,
  type RecordBatch,
} from './ring-buffer-reader.ts';
export {
  loadSensor,
  loadProcessSensor,
  SHARED_MAPS,
  PROCESS_SENSOR_OBJECTS,
  type Sensor,
  type LoadSensorOptions,
  type LoadProcessSensorOptions,
} from './sensor.ts';
export {
  decodeProcessRecord,
  recordKind,
  EVENT_KIND,
  EXEC_FLAG,
  EXIT_FLAG,
  EVENT_HEADER_LAYOUT,
  EXEC_EVENT_LAYOUT,
  FORK_EVENT_LAYOUT,
  EXIT_EVENT_LAYOUT,
  TASK_COMM_SIZE,
  EXEC_FILENAME_SIZE,
  EXEC_ARGS_SIZE,
  EXEC_ARGC_MAX,
  type ProcessRecord,
  type ProcessRecordKind,
  type ExecRecord,
  type ForkRecord,
  type ExitRecord,
  type RecordHeader,
  type RecordSlice,
} from './records.ts';
export { probeFeatures, FEATURES, type FeatureName, type FeatureStatus, type FeatureReport, type ProbeFeaturesOptions } from './features.ts';
export { assertBpfPrivileges, ensureTracefs, cgroup2MountPoint, DEFAULT_OBJECT_DIR } from './kernel-environment.ts';
