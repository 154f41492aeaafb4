/**
 * Path rule maps: the typed, validated way user space (the agent, from libs/policy) puts file and exec rules into
 * the kernel. One `PathRuleMaps` per rule set (the file sensor's `file_rules_*` maps, the exec policy's
 * `exec_rules_*` maps); see bpf/file/file_match.h for how the kernel matches.
 *
 * - `addExact(path, rule)`: the whole path. Also puts the path's last component into the name map, so relative
 *   and unresolved spellings of the file (`cd /etc && cat shadow`, `/etc/./shadow`, a symlinked directory) are
 *   reported flagged needsResolution (audit only, unless `killOnName`).
 * - `addPrefix(prefix, rule)`: every path starting with these bytes (`/etc/` — with the slash for a directory;
 *   `/etc` alone also matches `/etcetera`). The longest stored prefix wins in the kernel; when its scope passes
 *   over the task, the longest for all tasks (kept again in the prefixAll map).
 * - Suffix rules (`*.pem`) are not matched in the kernel: user space matches them on the records it has.
 *
 * Paths must be absolute, canonical (no `.`/`..` components, no `//`, no trailing `/` for exact paths), at most
 * 254 bytes of UTF-8 (exact) or 255 (prefix) and free of NUL: the kernel compares the string the process passed, so user
 * space normalises. Rule ids are u32 > 0 (0 means "no rule" in records). Errors are FileRuleError naming the field.
 *
 * This object owns the entries it added and is the only writer of its maps; `clear()` removes them all.
 */
import { statSync } from 'node:fs';
import { BpfError } from '../core/errors.ts';
import { KEEP_RECORDS_RULE_FLAG, keepRecordsFlags } from '../core/event-kinds.ts';
import { PID_SCOPE_RULE, PID_SCOPE_SLOTS, pidScopeFlags, podScopeFlags, scopeFlags, validateScope, type RuleScope } from '../core/rule-scope.ts';
import type { BpfMap, BpfObject } from '../core/bpf-object.ts';
import { DIR_IDENTITY_KEY_LAYOUT, FILE_OP, FILE_PATH_SIZE, FILE_RULE_LAYOUT, NAME_LENGTHS_MAX, PATH_FILTER_LAYOUT, PATH_PREFIX_KEY_LAYOUT, RULE_ACTION, RULE_FLAG, type FileOp } from './records.ts';

/**
 * An invalid rule: `field` names the offending input (`path`, `ruleId`, `action`, `ops`, `killOnName`, `scope`, `pidScope`,
 * `podScope`, `keepRecords`).
 */
export class FileRuleError extends BpfError {
  readonly field: string;

  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.field = field;
  }
}

export type RuleAction = keyof typeof RULE_ACTION;
/** Operations a file rule can name (chdir/fchdir are always reported; exec belongs to exec rules). */
export type FileRuleOp = Exclude<FileOp, 'chdir' | 'fchdir' | 'exec'>;
export const FILE_RULE_OPS: readonly FileRuleOp[] = ['open', 'unlink', 'rename', 'chmod', 'chown'];

export interface PathRule<Op extends string = FileRuleOp> {
  /** u32 > 0, assigned by user space; records caused by this rule carry it. */
  readonly ruleId: number;
  /**
   * audit: report. kill: SIGKILL at syscall entry. For open and exec the process never gets the fd / never runs
   * the binary. A tracepoint cannot veto a syscall, though: a killed unlink, rename, chmod, chown or O_TRUNC open
   * still takes effect before the process dies (checked on 6.18: `rm` killed, file gone). Where the file sensor runs
   * in its lsm mode, an operation matched by kill also fails with EPERM at its LSM hook (file_open, path_unlink,
   * path_rmdir, path_rename, path_chmod, path_chown), before it takes effect.
   * deny: the operation fails with EPERM at its LSM hook, matched on the path the kernel resolved; only where the rule
   * set allows it (`denyOps`: the file sensor in its lsm mode, for open, unlink, rename, chmod and chown).
   */
  readonly action: RuleAction;
  /** Operations the rule applies to; at least one. */
  readonly ops: readonly Op[];
  /** Kill also on a name-only match (relative or unresolved path); default false: such matches are audit-only. */
  readonly killOnName?: boolean;
  /**
   * Which tasks the rule applies to (core/rule-scope.ts); default 'all'. The kernel tells pods by their cgroup roots
   * (createPodCgroupRoots); until those are set every task counts as a host task.
   */
  readonly scope?: RuleScope;
  /**
   * A pid scope slot (core/pid-scopes.ts): the rule applies only to that scope's processes; absent, to every process
   * of its scope. A task the slot passes over falls back as for `scope`.
   */
  readonly pidScope?: number;
  /**
   * A pod scope slot (core/pod-scopes.ts): the rule applies only to the tasks of that scope's pods; absent, to every
   * task of its scope. A task the slot passes over falls back as for `scope`.
   */
  readonly podScope?: number;
  /**
   * The records the rule causes are of the kept tier whatever its action: never shed while the ring fills, lost only
   * when it is full (KEEP_RECORDS_RULE_FLAG, bpf/README.md "Loss and shedding"). For the watch of a rule whose kill
   * the pipeline carries out; default false.
   */
  readonly keepRecords?: boolean;
}

export interface PathRuleEntry<Op extends string = FileRuleOp> {
  readonly kind: 'exact' | 'prefix';
  readonly path: string;
  readonly rule: PathRule<Op>;
}

export interface PathRuleMaps<Op extends string = FileRuleOp> {
  /** Adds or replaces the rule for exactly this path. */
  addExact(path: string, rule: PathRule<Op>): void;
  /** Adds or replaces the rule for paths starting with prefix. */
  addPrefix(prefix: string, rule: PathRule<Op>): void;
  /** Returns false when there was no such rule. */
  removeExact(path: string): boolean;
  removePrefix(prefix: string): boolean;
  /** Removes every rule this object added. */
  clear(): void;
  list(): PathRuleEntry<Op>[];
}

export interface PathRuleMapSet {
  readonly exact: BpfMap;
  readonly prefix: BpfMap;
  /** The prefix rules for all tasks, again: what a task falls back to past a prefix whose scope passes over it. */
  readonly prefixAll: BpfMap;
  readonly name: BpfMap;
  /** The set's struct path_filter (one entry); absent (tests), the kernel looks up every map. */
  readonly filter?: BpfMap;
  /**
   * Hash copies of the exact and prefix rules, same keys, for the file_open LSM hook (bpf_file_lsm.c: a sleepable
   * program may not use LPM tries). Present only where that hook is loaded; written and removed with the tries.
   */
  readonly resolved?: {
    readonly exact: BpfMap;
    readonly prefix: BpfMap;
    /**
     * The directory of each prefix rule ending in '/' that names a directory when it is added, by identity
     * (struct dir_identity_key): the hook finds it among an opened file's ancestors whatever mount the caller went
     * through (a bind mount of it). A directory made after its rule is matched by path only.
     */
    readonly dirs?: BpfMap;
  };
}

/**
 * struct path_filter for the rules in the maps: which exact lengths, which second bytes of a prefix and which name
 * lengths and first bytes exist, so the kernel skips a lookup that cannot match. Pure; written whole on each change.
 */
export interface PathFilterRules {
  readonly exactPaths: Iterable<string>;
  readonly prefixes: Iterable<string>;
  readonly names: Iterable<string>;
  /** Entries of the LSM hook's directory-identity map (0: the hook walks no ancestors). */
  readonly dirRules?: number;
}

export function encodePathFilter(rules: PathFilterRules): Uint8Array {
  const { exactPaths, prefixes, names, dirRules = 0 } = rules;
  const value = new Uint8Array(PATH_FILTER_LAYOUT.size);
  const view = new DataView(value.buffer);
  const o = PATH_FILTER_LAYOUT.offsets;
  const setBit = (base: number, bit: number): void => {
    const byte = base + (bit >> 3);
    view.setUint8(byte, view.getUint8(byte) | (1 << (bit & 7)));
  };
  view.setUint32(o.valid, 1, true);
  view.setUint32(o.dir_rules, dirRules, true);
  for (const path of exactPaths) setBit(o.exact_len, Buffer.byteLength(path, 'utf8'));
  for (const prefix of prefixes) {
    const bytes = Buffer.from(prefix, 'utf8');
    setBit(o.prefix_len, bytes.length);
    // A prefix of one byte ("/") is a prefix of every absolute path: every second byte may match.
    if (bytes.length < 2) for (let bit = 0; bit < 256; bit++) setBit(o.prefix_first, bit);
    else setBit(o.prefix_first, bytes[1] as number);
  }
  const nameLengths = new Set<number>();
  for (const name of names) {
    const bytes = Buffer.from(name, 'utf8');
    if (bytes.length === 0 || bytes.length > 255) continue;
    setBit(o.name + bytes.length * 8, (bytes[0] as number) & 63);
    nameLengths.add(bytes.length);
  }
  // The kernel tries each listed length at the path's end instead of scanning it for its last '/'; more lengths than
  // it lists: the count alone (above the maximum) says to scan.
  view.setUint32(o.name_length_count, nameLengths.size, true);
  if (nameLengths.size <= NAME_LENGTHS_MAX) [...nameLengths].forEach((length, index) => view.setUint8(o.name_lengths + index, length));
  return value;
}

interface Encoded {
  readonly value: Uint8Array;
  readonly rule: PathRule<string>;
}

/**
 * Longest rule path in bytes. A prefix may fill the kernel's buffer (FILE_PATH_SIZE - 1); an exact path must be one
 * shorter, because a path read that fills the buffer is indistinguishable from a cut one and never matches exactly.
 */
const MAX_PATH_BYTES: Readonly<Record<'exact' | 'prefix', number>> = { exact: FILE_PATH_SIZE - 2, prefix: FILE_PATH_SIZE - 1 };

/** Validates a path for `field`; exact paths must not end in '/' (except '/' itself, which only a prefix may be). */
export function validateRulePath(path: unknown, kind: 'exact' | 'prefix'): string {
  if (typeof path !== 'string') throw new FileRuleError('path', `must be a string, got ${typeof path}`);
  if (!path.startsWith('/')) throw new FileRuleError('path', `must be absolute (start with '/'): ${JSON.stringify(path)}`);
  if (path.includes('\0')) throw new FileRuleError('path', 'must not contain NUL');
  const bytes = Buffer.byteLength(path, 'utf8');
  const max = MAX_PATH_BYTES[kind];
  if (bytes > max) throw new FileRuleError('path', `is ${bytes} bytes; at most ${max} fit the kernel's key for a ${kind} rule`);
  if (path.includes('//')) throw new FileRuleError('path', `must be canonical (no '//'): ${path}`);
  const parts = path.split('/');
  const last = kind === 'prefix' ? parts.length - 1 : parts.length;
  for (let i = 1; i < last; i++) {
    if (parts[i] === '.' || parts[i] === '..') throw new FileRuleError('path', `must be canonical (no '.' or '..'): ${path}`);
  }
  if (kind === 'exact' && path.endsWith('/')) throw new FileRuleError('path', `an exact path must not end in '/' (use a prefix rule): ${path}`);
  return path;
}

/**
 * Validates a rule whose ops must come from opBits, and encodes it as struct file_rule. A deny rule is accepted only
 * when every op it names is in denyOps (default none: a rule set whose kernel side cannot refuse refuses deny).
 */
export function encodePathRule<Op extends string>(rule: PathRule<Op>, opBits: Readonly<Record<Op, number>>, denyOps: readonly Op[] = []): Uint8Array {
  const { ruleId, action, ops, killOnName = false } = rule as PathRule<Op> & { readonly [k: string]: unknown };
  if (typeof ruleId !== 'number' || !Number.isInteger(ruleId) || ruleId < 1 || ruleId > 0xffffffff) {
    throw new FileRuleError('ruleId', `must be an integer in 1..4294967295, got ${String(ruleId)}`);
  }
  if (action !== 'audit' && action !== 'kill' && action !== 'deny') throw new FileRuleError('action', `must be 'audit', 'kill' or 'deny', got ${String(action)}`);
  if (action === 'deny' && denyOps.length === 0) {
    throw new FileRuleError('action', "deny needs the LSM hooks: the file sensor in its lsm mode (a kernel with BPF LSM); use 'kill' here");
  }
  if (!Array.isArray(ops) || ops.length === 0) throw new FileRuleError('ops', `must be a non-empty array of ${Object.keys(opBits).join(', ')}`);
  let mask = 0;
  for (const op of ops as unknown[]) {
    const bit = typeof op === 'string' && Object.hasOwn(opBits, op) ? opBits[op as Op] : undefined;
    if (bit === undefined) throw new FileRuleError('ops', `unknown operation ${String(op)} (allowed: ${Object.keys(opBits).join(', ')})`);
    if (action === 'deny' && !denyOps.includes(op as Op)) throw new FileRuleError('ops', `a deny rule may name only ${denyOps.join(', ')}, not ${String(op)}`);
    mask |= bit;
  }
  if (typeof killOnName !== 'boolean') throw new FileRuleError('killOnName', `must be a boolean, got ${typeof killOnName}`);
  const scope = validateScope((rule as { readonly scope?: unknown }).scope, (message) => new FileRuleError('scope', message));
  const pidScope = pidScopeFlags((rule as { readonly pidScope?: unknown }).pidScope, (message) => new FileRuleError('pidScope', message));
  const podScope = podScopeFlags((rule as { readonly podScope?: unknown }).podScope, (message) => new FileRuleError('podScope', message));
  const keep = keepRecordsFlags((rule as { readonly keepRecords?: unknown }).keepRecords, (message) => new FileRuleError('keepRecords', message));
  const value = new Uint8Array(FILE_RULE_LAYOUT.size);
  const view = new DataView(value.buffer);
  const o = FILE_RULE_LAYOUT.offsets;
  view.setUint32(o.rule_id, ruleId, true);
  view.setUint32(o.action, RULE_ACTION[action], true);
  view.setUint32(o.ops, mask >>> 0, true);
  view.setUint32(o.flags, ((killOnName ? RULE_FLAG.killOnName : 0) | scopeFlags(scope, RULE_FLAG) | pidScope | podScope | keep) >>> 0, true);
  return value;
}

/** struct path_prefix_key of bytes; prefixlen covers them all (and nothing after). */
function lpmKey(bytes: Uint8Array): Uint8Array {
  const key = new Uint8Array(PATH_PREFIX_KEY_LAYOUT.size);
  new DataView(key.buffer).setUint32(PATH_PREFIX_KEY_LAYOUT.offsets.prefixlen, bytes.length * 8, true);
  key.set(bytes, PATH_PREFIX_KEY_LAYOUT.offsets.path);
  return key;
}

/** Key of an exact or name entry: the string and its NUL, so only the whole string matches. */
export function pathKey(path: string): Uint8Array {
  return lpmKey(Buffer.from(`${path}\0`, 'utf8'));
}

/** Key of a prefix entry: the prefix's bytes without NUL. */
export function pathPrefixKey(prefix: string): Uint8Array {
  return lpmKey(Buffer.from(prefix, 'utf8'));
}

/** The hash copies of rule set `set` (file, exec) in a loaded LSM hook object (bpf/file/lsm_match.h names them). */
export function resolvedRuleMaps(object: BpfObject, set: 'file' | 'exec'): NonNullable<PathRuleMapSet['resolved']> {
  return { exact: object.map(`${set}_rules_resolved_exact`), prefix: object.map(`${set}_rules_resolved_prefix`), dirs: object.map(`${set}_rules_resolved_dirs`) };
}

/** The kernel's dev_t (MKDEV: major << 20 | minor) of a dev_t as stat(2) gives it (glibc's encoding). Pure. */
export function kernelDev(dev: bigint): bigint {
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
  return (major << 20n) | minor;
}

/** struct dir_identity_key of a directory; null when the path is not a directory now (absent, a file, unreadable). */
export function directoryIdentityKey(path: string): Uint8Array | null {
  let stats;
  try {
    stats = statSync(path, { bigint: true });
  } catch {
    return null;
  }
  if (!stats.isDirectory()) return null;
  const key = new Uint8Array(DIR_IDENTITY_KEY_LAYOUT.size);
  const view = new DataView(key.buffer);
  view.setBigUint64(DIR_IDENTITY_KEY_LAYOUT.offsets.dev, kernelDev(stats.dev), true);
  view.setBigUint64(DIR_IDENTITY_KEY_LAYOUT.offsets.ino, stats.ino, true);
  return key;
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/**
 * The name-map entry for one basename from every exact rule that shares it: ops are the union; it kills on a
 * name match when any of them asks for killOnName with action kill (that rule's id is carried), otherwise it
 * carries the smallest rule id. A hint for user space, which resolves the path and re-matches all its rules.
 * The entry is scoped when every rule has the same scope; a scoped killer among rules of other scopes does not kill
 * (one entry cannot kill in one scope and only report in another), so no task is killed by a rule not meant for it.
 * It keeps its records when any of them does (a pipeline kill may wait for the name match's record).
 */
function mergeNameRule(rules: readonly Encoded[]): Uint8Array {
  const o = FILE_RULE_LAYOUT.offsets;
  const views = rules.map((r) => new DataView(r.value.buffer));
  const scopeMask = RULE_FLAG.hostOnly | RULE_FLAG.podsOnly | PID_SCOPE_RULE.flag | ((PID_SCOPE_SLOTS - 1) << PID_SCOPE_RULE.slotShift);
  const scopeBits = (v: DataView): number => (v.getUint32(o.flags, true) & scopeMask) >>> 0;
  const commonScope = views.every((v) => scopeBits(v) === scopeBits(views[0]!)) ? scopeBits(views[0]!) : null;
  const killer = views.find(
    (v) =>
      v.getUint32(o.action, true) === RULE_ACTION.kill && (v.getUint32(o.flags, true) & RULE_FLAG.killOnName) !== 0 && (scopeBits(v) === 0 || commonScope !== null),
  );
  const chosen = killer ?? views.reduce((a, b) => (b.getUint32(o.rule_id, true) < a.getUint32(o.rule_id, true) ? b : a));
  const value = new Uint8Array(FILE_RULE_LAYOUT.size);
  const view = new DataView(value.buffer);
  view.setUint32(o.rule_id, chosen.getUint32(o.rule_id, true), true);
  view.setUint32(o.action, killer ? RULE_ACTION.kill : RULE_ACTION.audit, true);
  view.setUint32(o.ops, views.reduce((mask, v) => mask | v.getUint32(o.ops, true), 0) >>> 0, true);
  const keep = views.some((v) => (v.getUint32(o.flags, true) & KEEP_RECORDS_RULE_FLAG) !== 0) ? KEEP_RECORDS_RULE_FLAG : 0;
  view.setUint32(o.flags, ((killer ? RULE_FLAG.killOnName : 0) | (commonScope ?? 0) | keep) >>> 0, true);
  return value;
}

export interface CreatePathRuleMapsOptions<Op extends string> {
  readonly maps: PathRuleMapSet;
  /** Operation names accepted in `ops` and their FILE_OP bits. */
  readonly opBits: Readonly<Record<Op, number>>;
  /** Operations a deny rule may name (encodePathRule); default none: deny is refused. */
  readonly denyOps?: readonly Op[];
  /** A directory's identity key, or null (default directoryIdentityKey; tests pass their own). */
  readonly directoryKey?: (path: string) => Uint8Array | null;
}

export function createPathRuleMaps<Op extends string>(options: CreatePathRuleMapsOptions<Op>): PathRuleMaps<Op> {
  const { maps, opBits, denyOps = [], directoryKey = directoryIdentityKey } = options;
  const exact = new Map<string, Encoded>();
  const prefixes = new Map<string, Encoded>();
  const byName = new Map<string, Map<string, Encoded>>();
  /** Prefix -> its directory's key in maps.resolved.dirs, for the prefixes that have one. */
  const dirKeys = new Map<string, Uint8Array>();

  /** Rewrites the kernel filter after a change: the new entries are in their maps by then, removed ones gone. */
  const syncFilter = (): void => {
    maps.filter?.update(new Uint8Array(4), encodePathFilter({ exactPaths: exact.keys(), prefixes: prefixes.keys(), names: byName.keys(), dirRules: dirKeys.size }));
  };

  /**
   * The directory entry of a prefix: replaced, or removed (value null). Two prefixes naming one directory by different
   * spellings (a symlink in one) share one entry: the later rule's, gone when either is removed.
   */
  const syncDirectory = (prefix: string, value: Uint8Array | null): void => {
    const dirs = maps.resolved?.dirs;
    if (!dirs) return;
    const old = dirKeys.get(prefix);
    if (old) {
      dirs.delete(old);
      dirKeys.delete(prefix);
    }
    const key = value && prefix.endsWith('/') ? directoryKey(prefix) : null;
    if (value && key) {
      dirs.update(key, value);
      dirKeys.set(prefix, key);
    }
  };

  const syncName = (name: string): void => {
    const sources = byName.get(name);
    if (!sources || sources.size === 0) {
      byName.delete(name);
      maps.name.delete(pathKey(name));
      return;
    }
    maps.name.update(pathKey(name), mergeNameRule([...sources.values()]));
  };

  const self: PathRuleMaps<Op> = {
    addExact(path, rule) {
      validateRulePath(path, 'exact');
      const value = encodePathRule(rule, opBits, denyOps);
      maps.exact.update(pathKey(path), value);
      maps.resolved?.exact.update(pathKey(path), value);
      const encoded = { value, rule: { ...rule, ops: [...rule.ops] } };
      exact.set(path, encoded);
      const name = basename(path);
      const sources = byName.get(name) ?? new Map<string, Encoded>();
      sources.set(path, encoded);
      byName.set(name, sources);
      syncName(name);
      syncFilter();
    },
    addPrefix(prefix, rule) {
      validateRulePath(prefix, 'prefix');
      const value = encodePathRule(rule, opBits, denyOps);
      maps.prefix.update(pathPrefixKey(prefix), value);
      maps.resolved?.prefix.update(pathPrefixKey(prefix), value);
      syncDirectory(prefix, value);
      if ((rule.scope ?? 'all') !== 'all' || rule.pidScope !== undefined || rule.podScope !== undefined) maps.prefixAll.delete(pathPrefixKey(prefix));
      else maps.prefixAll.update(pathPrefixKey(prefix), value);
      prefixes.set(prefix, { value, rule: { ...rule, ops: [...rule.ops] } });
      syncFilter();
    },
    removeExact(path) {
      if (!exact.delete(path)) return false;
      maps.exact.delete(pathKey(path));
      maps.resolved?.exact.delete(pathKey(path));
      const name = basename(path);
      byName.get(name)?.delete(path);
      syncName(name);
      syncFilter();
      return true;
    },
    removePrefix(prefix) {
      if (!prefixes.delete(prefix)) return false;
      maps.prefix.delete(pathPrefixKey(prefix));
      maps.prefixAll.delete(pathPrefixKey(prefix));
      maps.resolved?.prefix.delete(pathPrefixKey(prefix));
      syncDirectory(prefix, null);
      syncFilter();
      return true;
    },
    clear() {
      for (const path of [...exact.keys()]) self.removeExact(path);
      for (const prefix of [...prefixes.keys()]) self.removePrefix(prefix);
    },
    list() {
      return [
        ...[...exact].map(([path, e]) => ({ kind: 'exact' as const, path, rule: e.rule as PathRule<Op> })),
        ...[...prefixes].map(([path, e]) => ({ kind: 'prefix' as const, path, rule: e.rule as PathRule<Op> })),
      ];
    },
  };
  return self;
}

/** Operation bits a file rule may name. */
export const FILE_RULE_OP_BITS: Readonly<Record<FileRuleOp, number>> = {
  open: FILE_OP.open,
  unlink: FILE_OP.unlink,
  rename: FILE_OP.rename,
  chmod: FILE_OP.chmod,
  chown: FILE_OP.chown,
};
