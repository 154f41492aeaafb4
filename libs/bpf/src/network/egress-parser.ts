/**
 * The egress parser (bpf/network/bpf_egress.c): the DNS query name and type, TLS server name and ALPN, and HTTP/1.x
 * request line and Host of each connection's first payload and each UDP datagram to port 53, as egress records
 * (kind egress, decoded by egress-records.ts) in the joined sensor's ring buffer, for the process that owns the
 * socket (recorded at connect/sendmsg in socket-local storage).
 *
 * The same object counts each of those sockets' bytes and packets both ways and writes flow records (kind flow,
 * decodeFlowRecord) with the socket cookie of its egress records: one when the socket is released, and interim
 * ones for a socket still open `flowIntervalMs` after its last (written with its next packet).
 *
 * `attachEgressParser` loads the object with the sensor's shared maps and attaches its seven programs (connect4/6,
 * sendmsg4/6, cgroup_skb/egress and ingress, sock_release) with BPF links to one cgroup v2 directory (default: the root of the cgroup v2
 * mount, every socket of the host). Sockets made before it attached are not parsed. Nothing is pinned: close() or
 * the process's exit removes it.
 *
 * Rate limit: at most `perSecond` records per cgroup v2 id on average, `burst` at once; records over it are not
 * written, and counted (`counters().rateLimited`, and per cgroup in `rateLimited()`), so a query storm is
 * visible as a number, never lost silently. Flow records have per-cgroup buckets of their own (`flowRateLimit`, by the
 * owner's cgroup; refused ones in `counters().flowsRateLimited`), so a connection storm is cut and counted as well.
 */
import { join } from 'node:path';
import type { Logger } from '@stinger/log';
import { namespaced, silentLogger } from '@stinger/log';
import type { BpfLink } from '../core/bpf-object.ts';
import { BpfAttachError, BpfMapError, errnoName } from '../core/errors.ts';
import { DEFAULT_OBJECT_DIR, cgroup2MountPoint } from '../core/kernel-environment.ts';
import { u32Key } from '../core/map-keys.ts';
import { readPerCpuCounter } from '../core/ring-buffer-reader.ts';
import type { Sensor } from '../core/sensor.ts';
import { EGRESS_BUCKET_LAYOUT, EGRESS_CONFIG_LAYOUT, EGRESS_COUNTER } from './egress-records.ts';
import { attachAll, loadCgroupObject, mapGetNextKey } from './sensor.ts';

/** Records per cgroup: `perSecond` on average, `burst` at once. perSecond 0 = no limit. */
export interface EgressRateLimit {
  readonly perSecond: number;
  readonly burst: number;
}

/** 200 records/s per cgroup, 400 at once: far above what a pod's own lookups and connections make. */
export const DEFAULT_EGRESS_RATE_LIMIT: EgressRateLimit = Object.freeze({ perSecond: 200, burst: 400 });

/** A connection open this long since its last flow record gets an interim one (with its next packet). */
export const DEFAULT_FLOW_INTERVAL_MS = 60_000;

/**
 * Flow records per cgroup (of the socket's owner), a bucket apart from the egress records': 1000/s, 2000 at once,
 * far above the connections a pod's own work closes, low enough that a connection storm cannot flood the ring.
 */
export const DEFAULT_FLOW_RATE_LIMIT: EgressRateLimit = Object.freeze({ perSecond: 1000, burst: 2000 });

/** The flow records' settings: the interim interval and their own rate limit. */
export interface FlowSettings {
  /** Interim flow records for open connections this often (ms); 0: only when a socket is released. */
  readonly intervalMs: number;
  readonly rateLimit: EgressRateLimit;
}

const DEFAULT_FLOW_SETTINGS: FlowSettings = Object.freeze({ intervalMs: DEFAULT_FLOW_INTERVAL_MS, rateLimit: DEFAULT_FLOW_RATE_LIMIT });

export interface EgressCounters {
  /** Records written to the ring buffer. */
  readonly emitted: bigint;
  /** Records not written because their cgroup was over its rate. */
  readonly rateLimited: bigint;
  /** Egress and flow records not written because the ring buffer was full (also in the sensor's lostRecords). */
  readonly ringFull: bigint;
  /** Flow records written (final and interim). */
  readonly flows: bigint;
  /** Flow records not written because the owner's cgroup was over its flow rate (their sockets' counts are lost). */
  readonly flowsRateLimited: bigint;
}

export interface EgressParser {
  readonly cgroupPath: string;
  /** Replaces the rate limit (cgroups keep the credit they have, capped at the new burst). */
  setRateLimit(limit: EgressRateLimit): void;
  /** Totals since the parser loaded, summed over CPUs. */
  counters(): EgressCounters;
  /** Records refused by the rate limit, per cgroup v2 id, for the cgroups that had any (at most 16384 tracked). */
  rateLimited(): { readonly cgroupId: bigint; readonly dropped: bigint }[];
  /** Detaches and frees the object. Idempotent. */
  close(): void;
}

export interface AttachEgressParserOptions {
  /** The sensor whose ring buffer receives the records (the process sensor, joined by every other sensor). */
  readonly sensor: Sensor;
  /** cgroup v2 directory whose sockets are parsed; default the root of the cgroup v2 mount. */
  readonly cgroupPath?: string;
  readonly rateLimit?: EgressRateLimit;
  /** Interim flow records for open connections this often (ms); 0: only when a socket is released. */
  readonly flowIntervalMs?: number;
  /** Flow records per cgroup; default DEFAULT_FLOW_RATE_LIMIT. */
  readonly flowRateLimit?: EgressRateLimit;
  readonly objectDir?: string;
  readonly logger?: Logger;
}

/** A bucket's cost and most credit (ns) for a limit; throws on one that is not two integers >= 0 with burst >= 1. */
function bucketOf(what: string, limit: EgressRateLimit): { readonly cost: bigint; readonly maxCredit: bigint } {
  const { perSecond, burst } = limit;
  if (!Number.isInteger(perSecond) || perSecond < 0) throw new RangeError(`${what} rate limit: perSecond must be an integer >= 0, got ${perSecond}`);
  if (!Number.isInteger(burst) || burst < 1) throw new RangeError(`${what} rate limit: burst must be an integer >= 1, got ${burst}`);
  const cost = perSecond === 0 ? 0n : BigInt(Math.max(1, Math.round(1e9 / perSecond)));
  return { cost, maxCredit: cost * BigInt(burst) };
}

/**
 * The egress_config value for the egress records' limit and the flow records' settings; throws on a limit that is
 * not two non-negative integers with burst >= 1, or an interval that is not an integer >= 0.
 */
export function encodeEgressConfig(limit: EgressRateLimit, flows: FlowSettings = DEFAULT_FLOW_SETTINGS): Uint8Array {
  const egress = bucketOf('egress', limit);
  const flow = bucketOf('flow', flows.rateLimit);
  if (!Number.isInteger(flows.intervalMs) || flows.intervalMs < 0) throw new RangeError(`flow interval: must be an integer >= 0 (ms), got ${flows.intervalMs}`);
  const value = new Uint8Array(EGRESS_CONFIG_LAYOUT.size);
  const view = new DataView(value.buffer);
  const o = EGRESS_CONFIG_LAYOUT.offsets;
  view.setBigUint64(o.cost_ns, egress.cost, true);
  view.setBigUint64(o.max_credit_ns, egress.maxCredit, true);
  view.setBigUint64(o.flow_interval_ns, BigInt(flows.intervalMs) * 1_000_000n, true);
  view.setBigUint64(o.flow_cost_ns, flow.cost, true);
  view.setBigUint64(o.flow_max_credit_ns, flow.maxCredit, true);
  return value;
}

export function attachEgressParser(options: AttachEgressParserOptions): EgressParser {
  const { sensor, objectDir = DEFAULT_OBJECT_DIR } = options;
  const cgroupPath = options.cgroupPath ?? cgroup2MountPoint();
  const logger = namespaced(options.logger ?? silentLogger(), 'EgressParser');
  const object = loadCgroupObject(join(objectDir, 'bpf_egress.bpf.o'), sensor);
  const flows: FlowSettings = { intervalMs: options.flowIntervalMs ?? DEFAULT_FLOW_INTERVAL_MS, rateLimit: options.flowRateLimit ?? DEFAULT_FLOW_RATE_LIMIT };
  let links: BpfLink[];
  try {
    object.map('egress_config').update(u32Key(0), encodeEgressConfig(options.rateLimit ?? DEFAULT_EGRESS_RATE_LIMIT, flows));
    links = attachAll(object, cgroupPath);
  } catch (error) {
    object.close();
    throw error instanceof RangeError ? new BpfAttachError(error.message, { cause: error }) : error;
  }
  logger.info({ cgroupPath }, 'egress parser attached');
  const counters = object.map('egress_counters');
  const buckets = object.map('egress_buckets');
  let closed = false;
  return {
    cgroupPath,
    setRateLimit(limit) {
      object.map('egress_config').update(u32Key(0), encodeEgressConfig(limit, flows));
    },
    counters() {
      return {
        emitted: readPerCpuCounter(counters, EGRESS_COUNTER.emitted),
        rateLimited: readPerCpuCounter(counters, EGRESS_COUNTER.rateLimited),
        ringFull: readPerCpuCounter(counters, EGRESS_COUNTER.ringFull),
        flows: readPerCpuCounter(counters, EGRESS_COUNTER.flows),
        flowsRateLimited: readPerCpuCounter(counters, EGRESS_COUNTER.flowsRateLimited),
      };
    },
    rateLimited() {
      const next = mapGetNextKey();
      const out: { cgroupId: bigint; dropped: bigint }[] = [];
      const value = new Uint8Array(EGRESS_BUCKET_LAYOUT.size);
      const view = new DataView(value.buffer);
      let previous: Uint8Array | null = null;
      for (;;) {
        const current = new Uint8Array(8);
        const err = next(buckets.fd, previous, current);
        if (err === -2) break; // ENOENT: no more keys
        if (err < 0) throw new BpfMapError(`map egress_buckets: iteration failed: ${errnoName(-err)}`, { errno: -err });
        if (buckets.lookup(current, value)) {
          const dropped = view.getBigUint64(EGRESS_BUCKET_LAYOUT.offsets.dropped, true);
          if (dropped > 0n) out.push({ cgroupId: new DataView(current.buffer).getBigUint64(0, true), dropped });
        }
        previous = current;
      }
      return out;
    },
    close() {
      if (closed) return;
      closed = true;
      for (const link of links) link.destroy();
      object.close();
    },
  };
}
