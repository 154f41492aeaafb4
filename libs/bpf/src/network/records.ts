/**
 * Decoders and layout tables for the network sensor's records and maps (C: bpf/lib/stinger_net.h).
 * records.layout.test.ts beside it compiles the header with the host compiler and fails when any offset, size or
 * constant here differs.
 */
import { formatIpv6 as formatRfc5952 } from '@stinger/net-address';
import { decodeRecordHeader, sliceKind, type RecordHeader, type RecordSlice } from '../core/record-header.ts';
import { sensorEventKinds } from '../core/event-kinds.ts';

/** event_header.kind of network records (from core/event-kinds.ts). */
export const NET_EVENT_KIND = sensorEventKinds('network');
/** Kinds of struct net_event (the egress parser's records, kinds egress and flow, are decoded by egress-records.ts). */
export type NetworkRecordKind = Exclude<keyof typeof NET_EVENT_KIND, 'egress' | 'flow'>;

/** What Stinger did (records) or what a rule asks for (rule maps): STINGER_ACTION_*. */
export const STINGER_ACTION = { none: 0, audit: 1, killed: 2, denied: 3 } as const;
export type StingerAction = keyof typeof STINGER_ACTION;

export const NET_AF = { inet: 2, inet6: 10 } as const;

export const NET_FLAG = {
  addrKnown: 1 << 0,
  addrFault: 1 << 1,
  fromCgroup: 1 << 2,
  unsupportedFamily: 1 << 3,
} as const;

export const NET_WATCH = { connect: 1 << 0, accept: 1 << 1, bind: 1 << 2, listen: 1 << 3, connectRules: 1 << 4 } as const;

export const FLOW_DIRECTION = { ingress: 0, egress: 1 } as const;
export type FlowDirection = keyof typeof FLOW_DIRECTION;

export const NET_EVENT_LAYOUT = {
  size: 112,
  offsets: { hdr: 0, family: 64, protocol: 66, port: 68, net_flags: 70, fd: 72, result: 76, backlog: 80, rule_id: 84, action: 88, pad: 89, addr: 96 },
} as const;
export const NET_WATCH_CONFIG_LAYOUT = { size: 8, offsets: { watch: 0, pad: 4 } } as const;
export const NET_RULE_KEY_LAYOUT = { size: 24, offsets: { prefixlen: 0, port: 4, addr: 6, pad: 22 } } as const;
export const NET_RULE_VALUE_LAYOUT = { size: 16, offsets: { rule_id: 0, action: 4, flags: 8, pad: 12 } } as const;
/** net_rule_value.flags (NET_RULE_FLAG_*). */
export const NET_RULE_FLAG = { hostOnly: 1 << 0, podsOnly: 1 << 1 } as const;
export const FLOW_KEY_LAYOUT = { size: 16, offsets: { cgroup_id: 0, direction: 8, pad: 12 } } as const;
export const FLOW_VALUE_LAYOUT = { size: 16, offsets: { bytes: 0, packets: 8 } } as const;

export type NetFamily = 'inet' | 'inet6';

export interface NetworkRecord extends RecordHeader {
  readonly kind: NetworkRecordKind;
  /** null when the address is unknown (see addrKnown) or of another family (familyNumber says which). */
  readonly family: NetFamily | null;
  /** The raw sa_family read (0 when nothing was read). */
  readonly familyNumber: number;
  /** connect: destination; accept: peer; bind: asked-for local address; listen: the earlier bind's. Null when unknown. */
  readonly address: string | null;
  readonly port: number | null;
  /** IPPROTO_* when known (records of the connect policy), else 0. */
  readonly protocol: number;
  readonly fd: number;
  /** Syscall return: 0 / -errno (connect may be -115 EINPROGRESS), accept: the new fd. Policy denials: -1 (EPERM). */
  readonly result: number;
  readonly backlog: number;
  /** The rule behind this record, 0 when it was emitted because the syscall is watched. */
  readonly ruleId: number;
  readonly action: StingerAction;
  /** Written by the cgroup/connect4|6 policy program (the connect was refused there). */
  readonly fromCgroup: boolean;
  readonly addrFault: boolean;
  readonly flags: number;
}

export function actionName(value: number): StingerAction {
  switch (value) {
    case STINGER_ACTION.audit:
      return 'audit';
    case STINGER_ACTION.killed:
      return 'killed';
    case STINGER_ACTION.denied:
      return 'denied';
    default:
      return 'none';
  }
}

/** Dotted quad of 4 bytes. */
export function formatIpv4(bytes: Uint8Array, start = 0): string {
  return `${bytes[start]}.${bytes[start + 1]}.${bytes[start + 2]}.${bytes[start + 3]}`;
}

/** RFC 5952 text of 16 bytes (longest run of two or more zero groups as `::`, lower case; IPv4-mapped as ::ffff:a.b.c.d). */
export function formatIpv6(bytes: Uint8Array, start = 0): string {
  const mapped = bytes.subarray(start, start + 12).every((b, i) => (i < 10 ? b === 0 : b === 0xff));
  return mapped ? `::ffff:${formatIpv4(bytes, start + 12)}` : formatRfc5952(bytes, start);
}

function kindOf(value: number): NetworkRecordKind | undefined {
  switch (value) {
    case NET_EVENT_KIND.connect:
      return 'connect';
    case NET_EVENT_KIND.accept:
      return 'accept';
    case NET_EVENT_KIND.bind:
      return 'bind';
    case NET_EVENT_KIND.listen:
      return 'listen';
    default:
      return undefined;
  }
}

/** Decodes a network record (kinds 20..23); undefined for another kind or a record shorter than struct net_event. */
export function decodeNetworkRecord(slice: RecordSlice): NetworkRecord | undefined {
  const { buffer, view, offset, length } = slice;
  const kind = kindOf(sliceKind(slice));
  if (kind === undefined || length < NET_EVENT_LAYOUT.size) return undefined;
  const o = NET_EVENT_LAYOUT.offsets;
  const flags = view.getUint16(offset + o.net_flags, true);
  const familyNumber = view.getUint16(offset + o.family, true);
  const known = (flags & NET_FLAG.addrKnown) !== 0;
  const family: NetFamily | null = !known ? null : familyNumber === NET_AF.inet ? 'inet' : familyNumber === NET_AF.inet6 ? 'inet6' : null;
  const addr = buffer.subarray(offset + o.addr, offset + o.addr + 16);
  return {
    ...decodeRecordHeader(slice),
    kind,
    family,
    familyNumber,
    address: family === 'inet' ? formatIpv4(addr) : family === 'inet6' ? formatIpv6(addr) : null,
    port: family === null ? null : view.getUint16(offset + o.port, true),
    protocol: view.getUint16(offset + o.protocol, true),
    fd: view.getInt32(offset + o.fd, true),
    result: view.getInt32(offset + o.result, true),
    backlog: view.getUint32(offset + o.backlog, true),
    ruleId: view.getUint32(offset + o.rule_id, true),
    action: actionName(view.getUint8(offset + o.action)),
    fromCgroup: (flags & NET_FLAG.fromCgroup) !== 0,
    addrFault: (flags & NET_FLAG.addrFault) !== 0,
    flags,
  };
}

/** kind -> decoder, for createRecordDispatcher (struct net_event kinds; EGRESS_RECORD_DECODERS has egress and flow). */
export const NETWORK_RECORD_DECODERS: ReadonlyMap<number, (slice: RecordSlice) => NetworkRecord | undefined> = new Map(
  Object.values(NET_EVENT_KIND)
    .filter((kind) => kind !== NET_EVENT_KIND.egress && kind !== NET_EVENT_KIND.flow)
    .map((kind) => [kind, decodeNetworkRecord]),
);
