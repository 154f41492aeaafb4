/**
 * The privilege sensor: bpf/privilege/bpf_cred.c (set*id, capset), bpf_namespace.c (setns, unshare, clone/clone3
 * with CLONE_NEW*) and bpf_integrity.c (init_module/finit_module, bpf, ptrace, mount), loaded as one sensor.
 * Records: decodePrivilegeRecord. Nothing is reported until `watch({...})` names what to report for every
 * process, or a rule names a cgroup subtree.
 *
 * Rules (in-kernel enforcement) are scoped by cgroup: `namespaceRules.set({ cgroupId, namespaces, ruleId, action })`
 * applies to the tasks of that cgroup v2 directory and everything below it, never to anything else (see
 * SCOPE_CGROUP_DEPTH in bpf/lib/stinger_priv.h). With action `kill`, a matching call gets SIGKILL at syscall
 * entry and a record with action `killed` and the rule id. One rule per cgroup per map: set() replaces.
 * Get a directory's id with `cgroupIdOf(path)`.
 */
import { existsSync } from 'node:fs';
import type { Logger } from '@stinger/log';
import { namespaced, silentLogger } from '@stinger/log';
import type { BpfMap, BpfObject } from '../core/bpf-object.ts';
import { BpfLoadError } from '../core/errors.ts';
import { STINGER_ACTION } from '../network/records.ts';
import { NetRuleError, validateRuleId } from '../network/rules.ts';
import { u32Key, u64Key } from '../core/map-keys.ts';
import { scopeFlags, validateScope, type RuleScope } from '../core/rule-scope.ts';
import { CLONE_NEW, PRIV_WATCH, PRIV_WATCH_CONFIG_LAYOUT, SCOPE_RULE_FLAG, SCOPE_RULE_LAYOUT, type NamespaceType } from './records.ts';
import { loadSensor, type Sensor } from '../core/sensor.ts';

export const PRIVILEGE_SENSOR_OBJECTS = ['bpf_cred', 'bpf_namespace', 'bpf_integrity'] as const;

/** What is reported for every process; absent = false. */
export interface PrivilegeWatch {
  readonly setid?: boolean;
  readonly capset?: boolean;
  readonly namespace?: boolean;
  readonly module?: boolean;
  readonly ptrace?: boolean;
  readonly mount?: boolean;
  /** bpf(2) commands to report (numbers of enum bpf_cmd, < 64; e.g. 0 MAP_CREATE, 5 PROG_LOAD); default none. */
  readonly bpfCommands?: readonly number[];
}

export type ScopeRuleAction = 'audit' | 'kill';

export interface NamespaceRule {
  /** cgroup v2 id of the directory whose subtree the rule covers (cgroupIdOf(path)); > 0. */
  readonly cgroupId: bigint;
  /** The namespace types whose creation or entry the rule is about; at least one. */
  readonly namespaces: readonly NamespaceType[];
  readonly ruleId: number;
  readonly action: ScopeRuleAction;
  /** Which tasks the rule applies to (core/rule-scope.ts): a task outside it is passed over. Default 'all'. */
  readonly scope?: RuleScope;
}

export interface ModuleRule {
  readonly cgroupId: bigint;
  readonly ruleId: number;
  readonly action: ScopeRuleAction;
  /** As NamespaceRule.scope. */
  readonly scope?: RuleScope;
}

export interface ScopeRuleMap<R> {
  /** Adds or replaces the rule of rule.cgroupId. */
  set(rule: R): void;
  /** Removes the rule of cgroupId; false when there was none. */
  remove(cgroupId: bigint): boolean;
  /** Removes every rule added through this object. */
  clear(): void;
  readonly size: number;
}

export interface PrivilegeSensor extends Sensor {
  watch(watch: PrivilegeWatch): void;
  readonly namespaceRules: ScopeRuleMap<NamespaceRule>;
  readonly moduleRules: ScopeRuleMap<ModuleRule>;
  /** Syscall tracepoints this kernel does not have (e.g. init_module without CONFIG_MODULES): not attached. */
  readonly unavailable: readonly string[];
}

export interface LoadPrivilegeSensorOptions {
  readonly objectDir?: string;
  readonly logger?: Logger;
  /** Share this sensor's ring buffer and process table (e.g. the process sensor's). */
  readonly join?: Sensor;
}

function validateCgroupId(cgroupId: unknown): bigint {
  if (typeof cgroupId !== 'bigint' || cgroupId <= 0n || cgroupId > 0xffffffffffffffffn) {
    throw new NetRuleError('cgroupId', `expected a bigint cgroup id > 0 (cgroupIdOf(path)), got ${String(cgroupId)}`);
  }
  return cgroupId;
}

function validateAction(action: unknown): number {
  if (action === 'audit') return STINGER_ACTION.audit;
  if (action === 'kill') return STINGER_ACTION.killed;
  throw new NetRuleError('action', `expected 'audit' or 'kill', got ${String(action)}`);
}

function validateNamespaces(namespaces: unknown): bigint {
  if (!Array.isArray(namespaces) || namespaces.length === 0) {
    throw new NetRuleError('namespaces', `expected a non-empty array of ${Object.keys(CLONE_NEW).join(', ')}`);
  }
  let bits = 0n;
  for (const name of namespaces as unknown[]) {
    if (typeof name !== 'string' || !Object.hasOwn(CLONE_NEW, name)) {
      throw new NetRuleError('namespaces', `unknown namespace type ${String(name)} (known: ${Object.keys(CLONE_NEW).join(', ')})`);
    }
    bits |= BigInt(CLONE_NEW[name as NamespaceType]);
  }
  return bits;
}

function encodeScopeRule(rule: { match: bigint; ruleId: number; action: number; scope: RuleScope }): Uint8Array {
  const { match, ruleId, action, scope } = rule;
  const value = new Uint8Array(SCOPE_RULE_LAYOUT.size);
  const view = new DataView(value.buffer);
  view.setBigUint64(SCOPE_RULE_LAYOUT.offsets.match, match, true);
  view.setUint32(SCOPE_RULE_LAYOUT.offsets.rule_id, ruleId, true);
  view.setUint32(SCOPE_RULE_LAYOUT.offsets.action, action, true);
  view.setUint32(SCOPE_RULE_LAYOUT.offsets.flags, scopeFlags(scope, SCOPE_RULE_FLAG), true);
  return value;
}

function createScopeRuleMap<R extends { readonly cgroupId: bigint; readonly ruleId: number; readonly action: ScopeRuleAction; readonly scope?: RuleScope }>(
  map: BpfMap,
  matchOf: (rule: R) => bigint,
): ScopeRuleMap<R> {
  const owned = new Set<bigint>();
  return {
    set(rule) {
      if (typeof rule !== 'object' || rule === null) throw new NetRuleError('rule', 'expected an object');
      const cgroupId = validateCgroupId(rule.cgroupId);
      const ruleId = validateRuleId(rule.ruleId);
      const action = validateAction(rule.action);
      const scope = validateScope(rule.scope, (message) => new NetRuleError('scope', message));
      map.update(u64Key(cgroupId), encodeScopeRule({ match: matchOf(rule), ruleId, action, scope }));
      owned.add(cgroupId);
    },
    remove(cgroupId) {
      if (!owned.has(cgroupId)) return false;
      map.delete(u64Key(cgroupId));
      owned.delete(cgroupId);
      return true;
    },
    clear() {
      for (const cgroupId of owned) map.delete(u64Key(cgroupId));
      owned.clear();
    },
    get size() {
      return owned.size;
    },
  };
}

function validateBpfCommands(commands: unknown): bigint {
  if (commands === undefined) return 0n;
  if (!Array.isArray(commands)) throw new NetRuleError('bpfCommands', 'expected an array of bpf command numbers');
  let bits = 0n;
  for (const cmd of commands as unknown[]) {
    if (typeof cmd !== 'number' || !Number.isInteger(cmd) || cmd < 0 || cmd > 63) {
      throw new NetRuleError('bpfCommands', `expected integers 0..63, got ${String(cmd)}`);
    }
    bits |= 1n << BigInt(cmd);
  }
  return bits;
}

const TRACEFS_EVENTS = ['/sys/kernel/tracing/events', '/sys/kernel/debug/tracing/events'];

/** Whether syscalls:<name> exists on this kernel (tracefs must be mounted: loadSensor ensures it). */
export function syscallTracepointExists(name: string): boolean {
  return TRACEFS_EVENTS.some((dir) => existsSync(`${dir}/syscalls/${name}`));
}

export function loadPrivilegeSensor(options: LoadPrivilegeSensorOptions = {}): PrivilegeSensor {
  const logger = namespaced(options.logger ?? silentLogger(), 'PrivilegeSensor');
  const unavailable: string[] = [];
  const skipMissingSyscalls = (object: BpfObject): void => {
    for (const program of object.programs) {
      const match = /^tracepoint\/syscalls\/(sys_(?:enter|exit)_\w+)$/.exec(program.sectionName);
      if (match?.[1] === undefined || syscallTracepointExists(match[1])) continue;
      program.autoload = false;
      unavailable.push(match[1]);
      logger.info({ program: program.name, tracepoint: match[1] }, 'syscall not on this kernel: not attached');
    }
  };
  const sensor = loadSensor({ ...options, name: 'privilege', objects: PRIVILEGE_SENSOR_OBJECTS, prepare: skipMissingSyscalls });
  try {
    const objectNamed = (name: string): BpfObject => {
      const object = sensor.objects.find((o) => o.path.endsWith(`/${name}.bpf.o`));
      if (!object) throw new BpfLoadError(`privilege sensor: object ${name} not loaded`);
      return object;
    };
    const configs = PRIVILEGE_SENSOR_OBJECTS.map((name) => objectNamed(name).map('priv_watch'));
    const namespaceRules = createScopeRuleMap<NamespaceRule>(objectNamed('bpf_namespace').map('ns_rules'), (rule) =>
      validateNamespaces(rule.namespaces),
    );
    const moduleRules = createScopeRuleMap<ModuleRule>(objectNamed('bpf_integrity').map('module_rules'), () => 0n);
    return {
      ...sensor,
      namespaceRules,
      moduleRules,
      unavailable,
      watch(watch) {
        const bpfCmds = validateBpfCommands(watch.bpfCommands);
        const bits =
          (watch.setid ? PRIV_WATCH.setid : 0) |
          (watch.capset ? PRIV_WATCH.capset : 0) |
          (watch.namespace ? PRIV_WATCH.namespace : 0) |
          (watch.module ? PRIV_WATCH.module : 0) |
          (bpfCmds !== 0n ? PRIV_WATCH.bpf : 0) |
          (watch.ptrace ? PRIV_WATCH.ptrace : 0) |
          (watch.mount ? PRIV_WATCH.mount : 0);
        const value = new Uint8Array(PRIV_WATCH_CONFIG_LAYOUT.size);
        const view = new DataView(value.buffer);
        view.setUint32(PRIV_WATCH_CONFIG_LAYOUT.offsets.watch, bits, true);
        view.setBigUint64(PRIV_WATCH_CONFIG_LAYOUT.offsets.bpf_cmds, bpfCmds, true);
        for (const config of configs) config.update(u32Key(0), value);
      },
    };
  } catch (error) {
    sensor.close();
    throw error;
  }
}
