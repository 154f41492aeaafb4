/**
 * Every value of event_header.kind (the EVENT_KIND_* macros of bpf/lib/stinger_event.h), each with the sensor
 * whose records carry it. This is the one place a kind number is written in TypeScript: each sensor's constant
 * (EVENT_KIND in process/records.ts, FILE_EVENT_KIND, NET_EVENT_KIND, PRIV_EVENT_KIND) is derived from it with
 * sensorEventKinds. event-kinds.layout.test.ts compiles the C header and fails when a number differs, when the
 * header defines a kind missing here, or when a kind leaves its sensor's range.
 */

export type SensorName = 'process' | 'file' | 'network' | 'privilege';

/** The kind numbers each sensor owns, first..last inclusive (the ranges stinger_event.h comments on). */
export const SENSOR_KIND_RANGES: Readonly<Record<SensorName, { readonly first: number; readonly last: number }>> = {
  process: { first: 1, last: 9 },
  file: { first: 10, last: 19 },
  network: { first: 20, last: 29 },
  privilege: { first: 30, last: 49 },
};

/**
 * Each sensor's slot of the lost_records and shed_records maps (the LOSS_SLOT_* macros of bpf/lib/stinger_loss.h): a
 * program that finds the shared ring buffer full, or sheds an audit-only record while it fills, counts the record in
 * its sensor's slot. event-kinds.layout.test.ts holds the two tables equal.
 */
export const SENSOR_LOSS_SLOTS: Readonly<Record<SensorName, number>> = { process: 0, file: 1, network: 2, privilege: 3 };

/** Size of the shared ring buffer `events` (EVENTS_RINGBUF_BYTES of stinger_loss.h). */
export const EVENTS_RING_BYTES = 8 << 20;

/**
 * Unconsumed bytes in the ring above which the kernel sheds audit-only records (SHED_AUDIT_ABOVE_BYTES of
 * stinger_loss.h): the last quarter is kept for records of kills, denials and process life cycle.
 */
export const SHED_AUDIT_ABOVE_BYTES = (EVENTS_RING_BYTES / 4) * 3;

/**
 * The bit of a rule's flags word (file_rule.flags, net_rule_value.flags; KEEP_RECORDS_RULE_FLAG of stinger_loss.h)
 * that puts the records the rule causes in the kept tier whatever its action: never shed, lost only to a full ring.
 * The agent sets it on the watch of a rule whose kill the pipeline carries out (a rule's `keepRecords`).
 */
export const KEEP_RECORDS_RULE_FLAG = 1 << 14;

/** The flag bits of a rule's `keepRecords` (absent: false); throws what `invalid` makes for anything but a boolean. */
export function keepRecordsFlags(keepRecords: unknown, invalid: (message: string) => Error): number {
  if (keepRecords === undefined || keepRecords === false) return 0;
  if (keepRecords === true) return KEEP_RECORDS_RULE_FLAG;
  throw invalid(`must be a boolean, got ${typeof keepRecords}`);
}

export function isSensorName(name: string): name is SensorName {
  return Object.hasOwn(SENSOR_LOSS_SLOTS, name);
}

interface EventKindEntry {
  readonly value: number;
  readonly sensor: SensorName;
  /** The decoder's name for the kind: a key of the sensor's constant and, for most, the record's `kind`. */
  readonly name: string;
}

/** C macro -> its number, its sensor and its TypeScript name. */
export const EVENT_KINDS = {
  EVENT_KIND_EXEC: { value: 1, sensor: 'process', name: 'exec' },
  EVENT_KIND_EXIT: { value: 2, sensor: 'process', name: 'exit' },
  EVENT_KIND_FORK: { value: 3, sensor: 'process', name: 'fork' },
  EVENT_KIND_FILE: { value: 10, sensor: 'file', name: 'file' },
  EVENT_KIND_EXEC_RULE: { value: 11, sensor: 'file', name: 'execRule' },
  EVENT_KIND_FILE_CLOSE: { value: 12, sensor: 'file', name: 'close' },
  EVENT_KIND_CONNECT: { value: 20, sensor: 'network', name: 'connect' },
  EVENT_KIND_ACCEPT: { value: 21, sensor: 'network', name: 'accept' },
  EVENT_KIND_BIND: { value: 22, sensor: 'network', name: 'bind' },
  EVENT_KIND_LISTEN: { value: 23, sensor: 'network', name: 'listen' },
  EVENT_KIND_EGRESS: { value: 24, sensor: 'network', name: 'egress' },
  EVENT_KIND_FLOW: { value: 25, sensor: 'network', name: 'flow' },
  EVENT_KIND_PRIVILEGE: { value: 30, sensor: 'privilege', name: 'privilege' },
  EVENT_KIND_CAPSET: { value: 31, sensor: 'privilege', name: 'capset' },
  EVENT_KIND_NAMESPACE: { value: 32, sensor: 'privilege', name: 'namespace' },
  EVENT_KIND_MODULE: { value: 33, sensor: 'privilege', name: 'module' },
  EVENT_KIND_BPF: { value: 34, sensor: 'privilege', name: 'bpf' },
  EVENT_KIND_PTRACE: { value: 35, sensor: 'privilege', name: 'ptrace' },
  EVENT_KIND_MOUNT: { value: 36, sensor: 'privilege', name: 'mount' },
} as const satisfies Readonly<Record<string, EventKindEntry>>;

type Table = typeof EVENT_KINDS;

/** One sensor's kinds, name -> number, with the literal numbers as types (so a switch on them narrows). */
export type SensorEventKinds<S extends SensorName> = {
  readonly [M in keyof Table as Table[M]['sensor'] extends S ? Table[M]['name'] : never]: Table[M]['value'];
};

/** The kinds of one sensor, name -> number, taken from EVENT_KINDS. */
export function sensorEventKinds<S extends SensorName>(sensor: S): SensorEventKinds<S> {
  const kinds = Object.values(EVENT_KINDS)
    .filter((entry) => entry.sensor === sensor)
    .map((entry) => [entry.name, entry.value]);
  return Object.freeze(Object.fromEntries(kinds)) as SensorEventKinds<S>;
}
