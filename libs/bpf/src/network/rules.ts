/**
 * Destination rules: the typed, validated way user space puts CIDR (+ optional port) rules into the LPM tries
 * keyed by struct net_rule_key (bpf/lib/stinger_net.h) — `connect_deny` of the connect policy and
 * `connect_watch_dest` of the network sensor.
 *
 * Key contract (kept here and in the C): IPv4 networks are stored IPv4-mapped (::ffff:a.b.c.d/96+n), so one trie
 * serves both families; prefixlen = 16 (the port, matched exactly) + the IPv6 prefix; port 0 = any port. The
 * kernel looks up the real port first, then port 0: a port-specific rule wins over an any-port rule. Host bits
 * beyond the prefix are cleared (`10.1.2.3/8` is stored as `10.0.0.0/8`). Rule ids are u32 > 0.
 *
 * A DestinationRuleMap owns the entries it added and is the only writer of its map; `clear()` removes them all.
 */
import { mappedNetwork, parseCidr as parseCidrText } from '@stinger/net-address';
import type { BpfMap } from '../core/bpf-object.ts';
import { BpfError } from '../core/errors.ts';
import { keepRecordsFlags } from '../core/event-kinds.ts';
import type { STINGER_ACTION} from './records.ts';
import { pidScopeFlags, podScopeFlags, scopeFlags, validateScope, type RuleScope } from '../core/rule-scope.ts';
import { NET_RULE_FLAG, NET_RULE_KEY_LAYOUT, NET_RULE_VALUE_LAYOUT, formatIpv4, formatIpv6 } from './records.ts';

/** An invalid rule input: `field` names the offending input (`cidr`, `port`, `ruleId`, `cgroupId`, `flags`, ...). */
export class NetRuleError extends BpfError {
  readonly field: string;

  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.field = field;
  }
}

export interface ParsedCidr {
  readonly family: 'inet' | 'inet6';
  /** The network with host bits cleared, as 16 bytes (IPv4 mapped into ::ffff:0:0/96). */
  readonly bytes: Uint8Array;
  /** Prefix bits over the 16 bytes (IPv4 /n → 96 + n). */
  readonly prefix128: number;
  /** Canonical text: `10.0.0.0/8`, `2001:db8::/32`. */
  readonly text: string;
}

/** Parses `a.b.c.d[/n]` or `ipv6[/n]` (no prefix = a single host); throws NetRuleError('cidr') when invalid. */
export function parseCidr(cidr: unknown): ParsedCidr {
  if (typeof cidr !== 'string' || cidr.length === 0) throw new NetRuleError('cidr', `expected a CIDR string, got ${JSON.stringify(cidr)}`);
  const parsed = parseCidrText(cidr);
  if (parsed === null) throw new NetRuleError('cidr', `${JSON.stringify(cidr)} is not an IPv4 or IPv6 address or network (prefix length within the family, no zone ids)`);
  const { bytes, prefix128 } = mappedNetwork(parsed);
  // Written as the kernel's records are (records.ts: IPv4-mapped IPv6 as ::ffff:a.b.c.d).
  const text = `${parsed.family === 4 ? formatIpv4(bytes, 12) : formatIpv6(bytes)}/${parsed.prefixLength}`;
  return { family: parsed.family === 4 ? 'inet' : 'inet6', bytes, prefix128, text };
}

/** A port 1..65535, or undefined / 0 for any port; throws NetRuleError('port'). */
export function validatePort(port: unknown): number {
  if (port === undefined || port === null) return 0;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new NetRuleError('port', `expected an integer 0..65535 (0 or absent = any port), got ${String(port)}`);
  }
  return port;
}

/** A rule id u32 > 0; throws NetRuleError('ruleId'). */
export function validateRuleId(ruleId: unknown): number {
  if (typeof ruleId !== 'number' || !Number.isInteger(ruleId) || ruleId < 1 || ruleId > 0xffffffff) {
    throw new NetRuleError('ruleId', `expected an integer 1..4294967295, got ${String(ruleId)}`);
  }
  return ruleId;
}

/** struct net_rule_key for a parsed network and port (host order; 0 = any). */
export function encodeNetRuleKey(network: ParsedCidr, port: number): Uint8Array {
  const key = new Uint8Array(NET_RULE_KEY_LAYOUT.size);
  const view = new DataView(key.buffer);
  view.setUint32(NET_RULE_KEY_LAYOUT.offsets.prefixlen, 16 + network.prefix128, true);
  view.setUint16(NET_RULE_KEY_LAYOUT.offsets.port, port, false);
  key.set(network.bytes, NET_RULE_KEY_LAYOUT.offsets.addr);
  return key;
}

/**
 * struct net_rule_value; `flagBits`: the flags of pidScopeFlags, podScopeFlags and keepRecordsFlags together (default 0:
 * neither scope, records shed by tier).
 */
export function encodeNetRuleValue(ruleId: number, action: number, scopes: { readonly scope?: RuleScope; readonly flagBits?: number } = {}): Uint8Array {
  const { scope = 'all', flagBits = 0 } = scopes;
  const value = new Uint8Array(NET_RULE_VALUE_LAYOUT.size);
  const view = new DataView(value.buffer);
  view.setUint32(NET_RULE_VALUE_LAYOUT.offsets.rule_id, ruleId, true);
  view.setUint32(NET_RULE_VALUE_LAYOUT.offsets.action, action, true);
  view.setUint32(NET_RULE_VALUE_LAYOUT.offsets.flags, (scopeFlags(scope, NET_RULE_FLAG) | flagBits) >>> 0, true);
  return value;
}

export interface DestinationRule {
  /** `127.0.0.1/32`, `10.0.0.0/8`, `::1/128`, or a bare address (one host). */
  readonly cidr: string;
  /** 1..65535; absent or 0 = any port. */
  readonly port?: number;
  /** u32 > 0, carried by the records the rule causes. */
  readonly ruleId: number;
  /** Which tasks the rule applies to (core/rule-scope.ts); a task outside it falls back to the longest rule for all. */
  readonly scope?: RuleScope;
  /** A pid scope slot (core/pid-scopes.ts): only its processes; a task outside it falls back as for `scope`. */
  readonly pidScope?: number;
  /** A pod scope slot (core/pod-scopes.ts): only the tasks of its pods; a task outside it falls back as for `scope`. */
  readonly podScope?: number;
  /**
   * The records the rule causes are of the kept tier: never shed while the ring fills, lost only when it is full
   * (KEEP_RECORDS_RULE_FLAG). For the watch of a rule whose kill the pipeline carries out; default false.
   */
  readonly keepRecords?: boolean;
}

export interface DestinationRuleEntry {
  /** Canonical CIDR text. */
  readonly cidr: string;
  /** 0 = any port. */
  readonly port: number;
  readonly ruleId: number;
}

export interface DestinationRuleMap {
  /** Adds or replaces the rule for this network and port. */
  add(rule: DestinationRule): DestinationRuleEntry;
  /** Removes the rule for this network and port; false when there was none. */
  remove(rule: Pick<DestinationRule, 'cidr' | 'port'>): boolean;
  /** Removes every rule this object added. */
  clear(): void;
  list(): readonly DestinationRuleEntry[];
  readonly size: number;
}

export interface CreateDestinationRuleMapOptions {
  readonly map: BpfMap;
  /** The same rules minus the host-only ones: what a pod's task falls back to (bpf/network/net_match.h). */
  readonly mapAll: BpfMap;
  /** What every rule of this map asks for (STINGER_ACTION.denied for the connect policy, .audit for watches). */
  readonly action: (typeof STINGER_ACTION)[keyof typeof STINGER_ACTION];
  /** Called after the set of rules changed between empty and non-empty (the sensor flips a watch bit). */
  readonly onEmptyChange?: (empty: boolean) => void;
}

export function createDestinationRuleMap(options: CreateDestinationRuleMapOptions): DestinationRuleMap {
  const { map, mapAll, action, onEmptyChange } = options;
  const entries = new Map<string, { key: Uint8Array; entry: DestinationRuleEntry }>();
  const id = (network: ParsedCidr, port: number): string => `${network.text}|${port}`;
  return {
    add(rule) {
      if (typeof rule !== 'object' || rule === null) throw new NetRuleError('rule', 'expected an object');
      const network = parseCidr(rule.cidr);
      const port = validatePort(rule.port);
      const ruleId = validateRuleId(rule.ruleId);
      const scope = validateScope(rule.scope, (message) => new NetRuleError('scope', message));
      const pidScope = pidScopeFlags(rule.pidScope, (message) => new NetRuleError('pidScope', message));
      const podScope = podScopeFlags(rule.podScope, (message) => new NetRuleError('podScope', message));
      const keep = keepRecordsFlags(rule.keepRecords, (message) => new NetRuleError('keepRecords', message));
      const key = encodeNetRuleKey(network, port);
      // One flags word holds both scope encodings and the keep-records bit (their bits do not overlap).
      const value = encodeNetRuleValue(ruleId, action, { scope, flagBits: (pidScope | podScope | keep) >>> 0 });
      map.update(key, value);
      if (scope !== 'all' || pidScope !== 0 || podScope !== 0) mapAll.delete(key);
      else mapAll.update(key, value);
      const wasEmpty = entries.size === 0;
      const entry = { cidr: network.text, port, ruleId };
      entries.set(id(network, port), { key, entry });
      if (wasEmpty) onEmptyChange?.(false);
      return entry;
    },
    remove(rule) {
      const network = parseCidr(rule.cidr);
      const port = validatePort(rule.port);
      const known = entries.get(id(network, port));
      if (!known) return false;
      map.delete(known.key);
      mapAll.delete(known.key);
      entries.delete(id(network, port));
      if (entries.size === 0) onEmptyChange?.(true);
      return true;
    },
    clear() {
      const had = entries.size > 0;
      for (const { key } of entries.values()) {
        map.delete(key);
        mapAll.delete(key);
      }
      entries.clear();
      if (had) onEmptyChange?.(true);
    },
    list() {
      return [...entries.values()].map((e) => e.entry);
    },
    get size() {
      return entries.size;
    },
  };
}
