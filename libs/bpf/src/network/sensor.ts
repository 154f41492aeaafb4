/**
 * The network sensor and the connect policy.
 *
 * - `loadNetworkSensor`: bpf/network/bpf_socket.c (connect, accept/accept4, bind, listen on syscall
 *   tracepoints). Nothing is reported until `watch({...})` names syscalls to report for every destination, or
 *   `auditDestinations.add({...})` names destinations whose connects are reported with a rule id.
 * - `attachFlowCounters`: bpf/network/bpf_flow.c (cgroup_skb ingress/egress) on a cgroup v2 directory (default:
 *   the root of the cgroup v2 mount from /proc/mounts); bytes and packets per (cgroup id, direction) in a
 *   per-CPU hash read with `read()` — no ring-buffer traffic.
 * - `loadConnectPolicy` / `attachConnectPolicy`: bpf/network/bpf_connect_policy.c (cgroup/connect4|6) on cgroup
 *   v2 directories; `rules.addDeny({ cidr, port, ruleId })` makes connects from that subtree to the destination
 *   fail with EPERM and writes a record (kind connect, action denied) into the given sensor's ring buffer.
 *
 * cgroup programs are attached with BPF links (multi-attach): they run alongside programs others attached to
 * the same cgroups and go away when their link is destroyed (close()) or this process exits — nothing is pinned.
 */
import koffi from 'koffi';
import { closeSync, openSync, constants as fsConstants } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '@stinger/log';
import { namespaced, silentLogger } from '@stinger/log';
import { openBpfObject, type BpfLink, type BpfObject } from '../core/bpf-object.ts';
import { BpfAttachError, BpfLoadError, BpfMapError, errnoName } from '../core/errors.ts';
import { DEFAULT_OBJECT_DIR, assertBpfPrivileges, cgroup2MountPoint } from '../core/kernel-environment.ts';
import { ffi } from '../core/libbpf.ts';
import { FLOW_DIRECTION, FLOW_KEY_LAYOUT, FLOW_VALUE_LAYOUT, NET_WATCH, NET_WATCH_CONFIG_LAYOUT, STINGER_ACTION } from './records.ts';
import { createDestinationRuleMap, type DestinationRule, type DestinationRuleEntry, type DestinationRuleMap } from './rules.ts';
import { SHARED_MAPS, loadSensor, type Sensor } from '../core/sensor.ts';
import { u32Key } from '../core/map-keys.ts';

/** Object files of the network sensor, bpf/network/ (the cgroup objects are loaded by their own functions). */
export const NETWORK_SENSOR_OBJECTS = ['bpf_socket'] as const;

/** Syscalls reported for every destination; absent = false. */
export interface NetworkWatch {
  readonly connect?: boolean;
  readonly accept?: boolean;
  readonly bind?: boolean;
  readonly listen?: boolean;
}

export interface NetworkSensor extends Sensor {
  /** Replaces the set of syscalls reported for every destination (all false = only audit destinations). */
  watch(watch: NetworkWatch): void;
  /** Destinations whose connects are reported (action audit, with the rule id) even when connect is not watched. */
  readonly auditDestinations: DestinationRuleMap;
}

export interface LoadNetworkSensorOptions {
  readonly objectDir?: string;
  readonly logger?: Logger;
  /** Share this sensor's ring buffer and process table (e.g. the process sensor's). */
  readonly join?: Sensor;
}

function objectNamed(sensor: Sensor, name: string): BpfObject {
  const object = sensor.objects.find((o) => o.path.endsWith(`/${name}.bpf.o`));
  if (!object) throw new BpfLoadError(`sensor ${sensor.name}: object ${name} not loaded`);
  return object;
}

export function loadNetworkSensor(options: LoadNetworkSensorOptions = {}): NetworkSensor {
  const sensor = loadSensor({ ...options, name: 'network', objects: NETWORK_SENSOR_OBJECTS });
  try {
    const socket = objectNamed(sensor, 'bpf_socket');
    const config = socket.map('net_watch');
    let watchBits = 0;
    let rulesBit = 0;
    const write = (): void => {
      const value = new Uint8Array(NET_WATCH_CONFIG_LAYOUT.size);
      new DataView(value.buffer).setUint32(NET_WATCH_CONFIG_LAYOUT.offsets.watch, watchBits | rulesBit, true);
      config.update(u32Key(0), value);
    };
    const auditDestinations = createDestinationRuleMap({
      map: socket.map('connect_watch_dest'),
      mapAll: socket.map('connect_watch_dest_all'),
      action: STINGER_ACTION.audit,
      onEmptyChange: (empty) => {
        rulesBit = empty ? 0 : NET_WATCH.connectRules;
        write();
      },
    });
    return {
      ...sensor,
      auditDestinations,
      watch(watch) {
        watchBits =
          (watch.connect ? NET_WATCH.connect : 0) |
          (watch.accept ? NET_WATCH.accept : 0) |
          (watch.bind ? NET_WATCH.bind : 0) |
          (watch.listen ? NET_WATCH.listen : 0);
        write();
      },
    };
  } catch (error) {
    sensor.close();
    throw error;
  }
}

/** Opens a cgroup v2 directory for attaching (the link keeps its own reference; the fd is closed after). */
function withCgroupFd<T>(cgroupPath: string, use: (fd: number) => T): T {
  let fd: number;
  try {
    fd = openSync(cgroupPath, fsConstants.O_RDONLY | fsConstants.O_DIRECTORY);
  } catch (cause) {
    throw new BpfAttachError(`cgroup ${cgroupPath}: cannot open the directory`, { cause });
  }
  try {
    return use(fd);
  } finally {
    closeSync(fd);
  }
}

/** Opens and loads a cgroup-program object, reusing `sensor`'s shared maps when given. Programs are not attached. */
export function loadCgroupObject(objectPath: string, sensor: Sensor | undefined): BpfObject {
  assertBpfPrivileges();
  const object = openBpfObject({ path: objectPath });
  try {
    if (sensor) {
      for (const mapName of SHARED_MAPS) if (object.hasMap(mapName)) object.map(mapName).reuseFd(sensor.sharedMap(mapName).fd);
    }
    object.load();
    return object;
  } catch (error) {
    object.close();
    throw error;
  }
}

/** Attaches every program of a loaded object to a cgroup v2 directory; on failure nothing stays attached. */
export function attachAll(object: BpfObject, cgroupPath: string): BpfLink[] {
  return withCgroupFd(cgroupPath, (fd) => {
    const links: BpfLink[] = [];
    try {
      for (const program of object.programs) links.push(program.attachCgroup(fd));
    } catch (error) {
      for (const link of links) link.destroy();
      throw error;
    }
    return links;
  });
}

// ---- connect policy ----

/** Deny rules of the connect policy (LPM trie connect_deny). */
export interface ConnectPolicyMaps {
  /** Adds or replaces a deny rule: connects to cidr (and port; absent = any) fail with EPERM. */
  addDeny(rule: DestinationRule): DestinationRuleEntry;
  /** Removes the rule for this cidr and port; false when there was none. */
  remove(rule: Pick<DestinationRule, 'cidr' | 'port'>): boolean;
  /** Removes every rule added through this object. */
  clear(): void;
  list(): readonly DestinationRuleEntry[];
}

export interface ConnectPolicy {
  readonly rules: ConnectPolicyMaps;
  /** Attaches connect4 and connect6 to a cgroup v2 directory (the rules apply to its whole subtree). */
  attach(cgroupPath: string): void;
  /** Detaches from one directory; false when not attached there. */
  detach(cgroupPath: string): boolean;
  readonly attachedTo: readonly string[];
  /** Removes the rules, detaches everywhere and frees the object. Idempotent. */
  close(): void;
}

export interface LoadConnectPolicyOptions {
  /** The sensor whose ring buffer receives the denied-connect records (any sensor: they share the layout). */
  readonly sensor: Sensor;
  readonly objectDir?: string;
  readonly logger?: Logger;
}

export function loadConnectPolicy(options: LoadConnectPolicyOptions): ConnectPolicy {
  const { sensor, objectDir = DEFAULT_OBJECT_DIR } = options;
  const logger = namespaced(options.logger ?? silentLogger(), 'ConnectPolicy');
  const object = loadCgroupObject(join(objectDir, 'bpf_connect_policy.bpf.o'), sensor);
  const rules = createDestinationRuleMap({ map: object.map('connect_deny'), mapAll: object.map('connect_deny_all'), action: STINGER_ACTION.denied });
  const links = new Map<string, BpfLink[]>();
  let closed = false;
  return {
    rules: {
      addDeny: (rule) => rules.add(rule),
      remove: (rule) => rules.remove(rule),
      clear: () => rules.clear(),
      list: () => rules.list(),
    },
    attach(cgroupPath) {
      if (closed) throw new BpfAttachError('connect policy is closed');
      if (links.has(cgroupPath)) return;
      links.set(cgroupPath, attachAll(object, cgroupPath));
      logger.info({ cgroupPath }, 'connect policy attached');
    },
    detach(cgroupPath) {
      const attached = links.get(cgroupPath);
      if (!attached) return false;
      for (const link of attached) link.destroy();
      links.delete(cgroupPath);
      return true;
    },
    get attachedTo() {
      return [...links.keys()];
    },
    close() {
      if (closed) return;
      closed = true;
      try {
        rules.clear();
      } finally {
        for (const attached of links.values()) for (const link of attached) link.destroy();
        links.clear();
        object.close();
      }
    },
  };
}

export interface AttachConnectPolicyOptions extends LoadConnectPolicyOptions {
  readonly cgroupPath: string;
}

/** loadConnectPolicy + attach(cgroupPath). */
export function attachConnectPolicy(options: AttachConnectPolicyOptions): ConnectPolicy {
  const policy = loadConnectPolicy(options);
  try {
    policy.attach(options.cgroupPath);
    return policy;
  } catch (error) {
    policy.close();
    throw error;
  }
}

// ---- flow counters ----

export interface FlowCount {
  readonly cgroupId: bigint;
  readonly direction: keyof typeof FLOW_DIRECTION;
  readonly bytes: bigint;
  readonly packets: bigint;
}

export interface FlowCounters {
  readonly cgroupPath: string;
  /** Every (cgroup, direction) counted so far, summed over CPUs. Counters only grow; rates are differences. */
  read(): FlowCount[];
  /** One cgroup's counters (0 when it sent/received nothing). */
  readCgroup(cgroupId: bigint): { readonly ingress: FlowCount; readonly egress: FlowCount };
  /** Drops a cgroup's counters (e.g. after the cgroup was removed); the map holds 16384 entries. */
  forget(cgroupId: bigint): void;
  /** Detaches and frees the map. Idempotent. */
  close(): void;
}

export interface AttachFlowCountersOptions {
  /** cgroup v2 directory whose subtree is counted; default the root of the cgroup v2 mount. */
  readonly cgroupPath?: string;
  readonly objectDir?: string;
  readonly logger?: Logger;
}

type GetNextKey = (fd: number, key: Uint8Array | null, next: Uint8Array) => number;
let getNextKey: GetNextKey | undefined;

/** bpf_map_get_next_key (not among the shared bindings): bound here on first use. */
export function mapGetNextKey(): GetNextKey {
  ffi(); // fails with the library's environment error when libbpf is missing
  getNextKey ??= koffi.load('libbpf.so.1').func('int bpf_map_get_next_key(int fd, const void *key, _Out_ void *next_key)') as GetNextKey;
  return getNextKey;
}

export function attachFlowCounters(options: AttachFlowCountersOptions = {}): FlowCounters {
  const { objectDir = DEFAULT_OBJECT_DIR } = options;
  const cgroupPath = options.cgroupPath ?? cgroup2MountPoint();
  const logger = namespaced(options.logger ?? silentLogger(), 'FlowCounters');
  const object = loadCgroupObject(join(objectDir, 'bpf_flow.bpf.o'), undefined);
  let links: BpfLink[];
  try {
    links = attachAll(object, cgroupPath);
  } catch (error) {
    object.close();
    throw error;
  }
  logger.info({ cgroupPath }, 'flow counters attached');
  const map = object.map('flow_bytes');
  const cpus = ffi().libbpf.libbpf_num_possible_cpus();
  const stride = (FLOW_VALUE_LAYOUT.size + 7) & ~7;
  const values = new Uint8Array(stride * cpus);
  const valuesView = new DataView(values.buffer);

  const key = (cgroupId: bigint, direction: number): Uint8Array => {
    const k = new Uint8Array(FLOW_KEY_LAYOUT.size);
    const v = new DataView(k.buffer);
    v.setBigUint64(FLOW_KEY_LAYOUT.offsets.cgroup_id, cgroupId, true);
    v.setUint32(FLOW_KEY_LAYOUT.offsets.direction, direction, true);
    return k;
  };
  const sum = (k: Uint8Array): { bytes: bigint; packets: bigint } => {
    if (!map.lookup(k, values)) return { bytes: 0n, packets: 0n };
    let bytes = 0n;
    let packets = 0n;
    for (let cpu = 0; cpu < cpus; cpu++) {
      bytes += valuesView.getBigUint64(cpu * stride + FLOW_VALUE_LAYOUT.offsets.bytes, true);
      packets += valuesView.getBigUint64(cpu * stride + FLOW_VALUE_LAYOUT.offsets.packets, true);
    }
    return { bytes, packets };
  };
  const count = (cgroupId: bigint, direction: keyof typeof FLOW_DIRECTION): FlowCount => ({
    cgroupId,
    direction,
    ...sum(key(cgroupId, FLOW_DIRECTION[direction])),
  });
  let closed = false;
  return {
    cgroupPath,
    read() {
      const next = mapGetNextKey();
      const out: FlowCount[] = [];
      let previous: Uint8Array | null = null;
      for (;;) {
        const current = new Uint8Array(FLOW_KEY_LAYOUT.size);
        const err = next(map.fd, previous, current);
        if (err === -2) break; // ENOENT: no more keys
        if (err < 0) throw new BpfMapError(`map flow_bytes: iteration failed: ${errnoName(-err)}`, { errno: -err });
        const v = new DataView(current.buffer);
        const direction = v.getUint32(FLOW_KEY_LAYOUT.offsets.direction, true) === FLOW_DIRECTION.egress ? 'egress' : 'ingress';
        out.push({ cgroupId: v.getBigUint64(FLOW_KEY_LAYOUT.offsets.cgroup_id, true), direction, ...sum(current) });
        previous = current;
      }
      return out;
    },
    readCgroup(cgroupId) {
      return { ingress: count(cgroupId, 'ingress'), egress: count(cgroupId, 'egress') };
    },
    forget(cgroupId) {
      map.delete(key(cgroupId, FLOW_DIRECTION.ingress));
      map.delete(key(cgroupId, FLOW_DIRECTION.egress));
    },
    close() {
      if (closed) return;
      closed = true;
      for (const link of links) link.destroy();
      object.close();
    },
  };
}
