// Rule validation and encoding (pure: no kernel), and the name-map bookkeeping of createPathRuleMaps against an
// in-memory stand-in for BpfMap (only update/delete with byte keys are used).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BpfMap } from '../core/bpf-object.ts';
import { KEEP_RECORDS_RULE_FLAG } from '../core/event-kinds.ts';
import { FILE_OP, FILE_RULE_LAYOUT, PATH_FILTER_LAYOUT, RULE_ACTION, RULE_FLAG } from './records.ts';
import {
  FILE_RULE_OP_BITS,
  FileRuleError,
  createPathRuleMaps,
  directoryIdentityKey,
  encodePathFilter,
  encodePathRule,
  kernelDev,
  pathKey,
  pathPrefixKey,
  validateRulePath,
} from './path-rules.ts';

function assertFieldError(fn: () => unknown, field: string): void {
  assert.throws(fn, (error: unknown) => error instanceof FileRuleError && error.field === field && error.message.startsWith(`${field}: `));
}

test('paths must be absolute, canonical, NUL-free and fit the kernel key; errors name the field path', () => {
  assert.equal(validateRulePath('/etc/shadow', 'exact'), '/etc/shadow');
  assert.equal(validateRulePath('/etc/', 'prefix'), '/etc/');
  assert.equal(validateRulePath('/', 'prefix'), '/');
  for (const bad of ['etc/shadow', '', '/etc//shadow', '/etc/./shadow', '/etc/../shadow', '/etc/\0x', `/${'a'.repeat(255)}`, '/etc/']) {
    assertFieldError(() => validateRulePath(bad, 'exact'), 'path');
  }
  assertFieldError(() => validateRulePath(42, 'exact'), 'path');
  assert.equal(validateRulePath(`/${'a'.repeat(253)}`, 'exact').length, 254);
  assertFieldError(() => validateRulePath(`/${'a'.repeat(254)}`, 'exact'), 'path');
  assert.equal(validateRulePath(`/${'a'.repeat(254)}`, 'prefix').length, 255);
  assertFieldError(() => validateRulePath(`/${'é'.repeat(128)}`, 'exact'), 'path'); // 257 bytes of UTF-8
});

test('rules: ruleId, action, ops and killOnName are validated with errors naming the field', () => {
  const ok = { ruleId: 1, action: 'audit', ops: ['open'] } as const;
  assertFieldError(() => encodePathRule({ ...ok, ruleId: 0 }, FILE_RULE_OP_BITS), 'ruleId');
  assertFieldError(() => encodePathRule({ ...ok, ruleId: 2 ** 32 }, FILE_RULE_OP_BITS), 'ruleId');
  assertFieldError(() => encodePathRule({ ...ok, ruleId: 1.5 }, FILE_RULE_OP_BITS), 'ruleId');
  assertFieldError(() => encodePathRule({ ...ok, action: 'deny' as 'kill' }, FILE_RULE_OP_BITS), 'action');
  assertFieldError(() => encodePathRule({ ...ok, ops: [] }, FILE_RULE_OP_BITS), 'ops');
  assertFieldError(() => encodePathRule({ ...ok, ops: ['read' as 'open'] }, FILE_RULE_OP_BITS), 'ops');
  assertFieldError(() => encodePathRule({ ...ok, ops: ['exec' as 'open'] }, FILE_RULE_OP_BITS), 'ops');
  assertFieldError(() => encodePathRule({ ...ok, killOnName: 'yes' as unknown as boolean }, FILE_RULE_OP_BITS), 'killOnName');
});

test('a rule encodes as struct file_rule', () => {
  const value = encodePathRule({ ruleId: 0xfffffffe, action: 'kill', ops: ['open', 'chown'], killOnName: true }, FILE_RULE_OP_BITS);
  const view = new DataView(value.buffer);
  const o = FILE_RULE_LAYOUT.offsets;
  assert.equal(value.length, FILE_RULE_LAYOUT.size);
  assert.equal(view.getUint32(o.rule_id, true), 0xfffffffe);
  assert.equal(view.getUint32(o.action, true), RULE_ACTION.kill);
  assert.equal(view.getUint32(o.ops, true), FILE_OP.open | FILE_OP.chown);
  assert.equal(view.getUint32(o.flags, true), RULE_FLAG.killOnName);
});

test('keys: exact keys count the NUL in their prefix length, prefix keys only the prefix bytes', () => {
  const key = pathKey('/etc');
  assert.equal(key.length, 260);
  assert.equal(new DataView(key.buffer).getUint32(0, true), 40);
  assert.deepEqual([...key.subarray(4, 9)], [47, 101, 116, 99, 0]);
  const prefix = pathPrefixKey('/etc/');
  assert.equal(prefix.length, 260);
  assert.equal(new DataView(prefix.buffer).getUint32(0, true), 40);
  assert.equal(Buffer.from(prefix.subarray(4, 9)).toString(), '/etc/');
});

/** An in-memory map keyed by the key's bytes (hex). */
function memoryMap(name: string): BpfMap & { entries: Map<string, Uint8Array> } {
  const entries = new Map<string, Uint8Array>();
  const hex = (key: Uint8Array): string => Buffer.from(key).toString('hex');
  return {
    name,
    entries,
    update: (key: Uint8Array, value: Uint8Array) => void entries.set(hex(key), value),
    delete: (key: Uint8Array) => entries.delete(hex(key)),
  } as unknown as BpfMap & { entries: Map<string, Uint8Array> };
}

test('exact rules keep one name-map entry per basename, merged, and remove it with the last rule; clear() empties all', () => {
  const maps = { exact: memoryMap('exact'), prefix: memoryMap('prefix'), prefixAll: memoryMap('prefixAll'), name: memoryMap('name') };
  const rules = createPathRuleMaps({ maps, opBits: FILE_RULE_OP_BITS });
  rules.addExact('/etc/shadow', { ruleId: 9, action: 'audit', ops: ['open'] });
  rules.addExact('/srv/shadow', { ruleId: 4, action: 'kill', ops: ['unlink'], killOnName: true });
  rules.addPrefix('/var/secret/', { ruleId: 5, action: 'audit', ops: ['open'] });
  assert.equal(maps.exact.entries.size, 2);
  assert.equal(maps.prefix.entries.size, 1);
  assert.equal(maps.name.entries.size, 1);
  const merged = new DataView(maps.name.entries.get(Buffer.from(pathKey('shadow')).toString('hex'))!.buffer);
  assert.equal(merged.getUint32(FILE_RULE_LAYOUT.offsets.rule_id, true), 4, 'the kill-on-name rule is carried');
  assert.equal(merged.getUint32(FILE_RULE_LAYOUT.offsets.ops, true), FILE_OP.open | FILE_OP.unlink);
  assert.equal(merged.getUint32(FILE_RULE_LAYOUT.offsets.action, true), RULE_ACTION.kill);

  assert.equal(rules.removeExact('/srv/shadow'), true);
  const left = new DataView(maps.name.entries.get(Buffer.from(pathKey('shadow')).toString('hex'))!.buffer);
  assert.equal(left.getUint32(FILE_RULE_LAYOUT.offsets.rule_id, true), 9);
  assert.equal(left.getUint32(FILE_RULE_LAYOUT.offsets.action, true), RULE_ACTION.audit);
  assert.equal(rules.removeExact('/srv/shadow'), false);
  assert.deepEqual(
    rules.list().map((e) => `${e.kind}:${e.path}:${e.rule.ruleId}`),
    ['exact:/etc/shadow:9', 'prefix:/var/secret/:5'],
  );

  rules.clear();
  assert.equal(maps.exact.entries.size + maps.prefix.entries.size + maps.name.entries.size, 0);
  assert.deepEqual(rules.list(), []);
});

test('host-only rules: flagged in their entry; the name entry is host-only only when every rule is, and never kills pods', () => {
  const maps = { exact: memoryMap('exact'), prefix: memoryMap('prefix'), prefixAll: memoryMap('prefixAll'), name: memoryMap('name') };
  const rules = createPathRuleMaps({ maps, opBits: FILE_RULE_OP_BITS });
  const o = FILE_RULE_LAYOUT.offsets;
  const nameEntry = () => new DataView(maps.name.entries.get(Buffer.from(pathKey('shadow')).toString('hex'))!.buffer);
  rules.addExact('/etc/shadow', { ruleId: 3, action: 'kill', ops: ['open'], killOnName: true, scope: 'host' });
  const exact = new DataView(maps.exact.entries.get(Buffer.from(pathKey('/etc/shadow')).toString('hex'))!.buffer);
  assert.equal(exact.getUint32(o.flags, true), RULE_FLAG.killOnName | RULE_FLAG.hostOnly);
  assert.deepEqual([nameEntry().getUint32(o.action, true), nameEntry().getUint32(o.flags, true)], [RULE_ACTION.kill, RULE_FLAG.killOnName | RULE_FLAG.hostOnly]);
  // A rule for all processes shares the name: one entry cannot kill host processes only and report pods.
  rules.addExact('/srv/shadow', { ruleId: 8, action: 'audit', ops: ['open'] });
  assert.deepEqual([nameEntry().getUint32(o.action, true), nameEntry().getUint32(o.flags, true)], [RULE_ACTION.audit, 0]);
  assertFieldError(() => encodePathRule({ ruleId: 1, action: 'audit', ops: ['open'], scope: 'nodes' as 'host' }, FILE_RULE_OP_BITS), 'scope');
  // Prefixes: every rule in the prefix map, only those for all processes in prefixAll (a pod's fallback).
  rules.addPrefix('/etc/', { ruleId: 20, action: 'audit', ops: ['open'] });
  rules.addPrefix('/etc/ssl/', { ruleId: 21, action: 'kill', ops: ['open'], scope: 'host' });
  const keys = (map: typeof maps.prefix) => [...map.entries.keys()].sort();
  assert.deepEqual(keys(maps.prefix), [pathPrefixKey('/etc/'), pathPrefixKey('/etc/ssl/')].map((k) => Buffer.from(k).toString('hex')).sort());
  assert.deepEqual(keys(maps.prefixAll), [Buffer.from(pathPrefixKey('/etc/')).toString('hex')]);
  rules.addPrefix('/etc/ssl/', { ruleId: 22, action: 'audit', ops: ['open'] }); // replaced by a rule for all
  assert.equal(maps.prefixAll.entries.size, 2);
  rules.removePrefix('/etc/ssl/');
  assert.deepEqual(keys(maps.prefixAll), [Buffer.from(pathPrefixKey('/etc/')).toString('hex')]);
});

test('an invalid rule changes no map', () => {
  const maps = { exact: memoryMap('exact'), prefix: memoryMap('prefix'), prefixAll: memoryMap('prefixAll'), name: memoryMap('name') };
  const rules = createPathRuleMaps({ maps, opBits: FILE_RULE_OP_BITS });
  assertFieldError(() => rules.addExact('/etc/shadow', { ruleId: 0, action: 'audit', ops: ['open'] }), 'ruleId');
  assertFieldError(() => rules.addPrefix('relative/', { ruleId: 1, action: 'audit', ops: ['open'] }), 'path');
  assert.equal(maps.exact.entries.size + maps.prefix.entries.size + maps.name.entries.size, 0);
});

test('encodePathFilter: exact lengths, the second byte of prefixes (all for "/"), name lengths by first byte', () => {
  const filter = encodePathFilter({ exactPaths: ['/etc/shadow'], prefixes: ['/root/'], names: ['shadow'] });
  const view = new DataView(filter.buffer);
  const o = PATH_FILTER_LAYOUT.offsets;
  const bit = (base: number, n: number): boolean => ((view.getUint8(base + (n >> 3)) >> (n & 7)) & 1) === 1;
  assert.equal(view.getUint32(o.valid, true), 1);
  assert.ok(bit(o.exact_len, 11) && !bit(o.exact_len, 10), 'only the length of /etc/shadow');
  assert.ok(bit(o.prefix_first, 'r'.charCodeAt(0)) && !bit(o.prefix_first, 'e'.charCodeAt(0)), 'only /r…');
  assert.ok(bit(o.name + 6 * 8, 's'.charCodeAt(0) & 63) && !bit(o.name + 5 * 8, 's'.charCodeAt(0) & 63), 'a 6-byte name starting with s');
  assert.ok(bit(o.prefix_len, 6) && !bit(o.prefix_len, 5), 'the length of /root/, for the LSM hook');
  assert.equal(view.getUint32(o.name_length_count, true), 1, 'one name length, listed for the kernel');
  assert.equal(view.getUint8(o.name_lengths), 6);
  const everything = encodePathFilter({ exactPaths: [], prefixes: ['/'], names: [] });
  assert.equal(new DataView(everything.buffer).getUint32(o.name_length_count, true), 0, 'no name rule: no name lookup');
  const manyLengths = encodePathFilter({ exactPaths: [], prefixes: [], names: Array.from({ length: 20 }, (_, i) => 'n'.repeat(i + 1)).concat(['m']) });
  assert.equal(new DataView(manyLengths.buffer).getUint32(o.name_length_count, true), 20, 'more lengths than listed: counted, so the kernel scans');
  for (let n = 0; n < 256; n++) assert.ok(((new DataView(everything.buffer).getUint8(o.prefix_first + (n >> 3)) >> (n & 7)) & 1) === 1);
});

test('deny: refused unless the rule set allows it, and then only for the operations it names', () => {
  const deny = { ruleId: 1, action: 'deny', ops: ['open'] } as const;
  assertFieldError(() => encodePathRule(deny, FILE_RULE_OP_BITS), 'action');
  assertFieldError(() => encodePathRule({ ...deny, ops: ['open', 'unlink'] }, FILE_RULE_OP_BITS, ['open']), 'ops');
  const value = new DataView(encodePathRule(deny, FILE_RULE_OP_BITS, ['open']).buffer);
  assert.equal(value.getUint32(FILE_RULE_LAYOUT.offsets.action, true), RULE_ACTION.deny);
});

test('the LSM hook\'s hash copies get every exact and prefix rule under the same key, and lose it with the rule', () => {
  const resolved = { exact: memoryMap('resolvedExact'), prefix: memoryMap('resolvedPrefix') };
  const maps = { exact: memoryMap('exact'), prefix: memoryMap('prefix'), prefixAll: memoryMap('prefixAll'), name: memoryMap('name'), resolved };
  const rules = createPathRuleMaps({ maps, opBits: FILE_RULE_OP_BITS, denyOps: ['open'] });
  rules.addExact('/etc/shadow', { ruleId: 1, action: 'deny', ops: ['open'] });
  rules.addPrefix('/srv/secret/', { ruleId: 2, action: 'kill', ops: ['open'], scope: 'host' });
  assert.deepEqual([...resolved.exact.entries.keys()], [...maps.exact.entries.keys()]);
  assert.deepEqual([...resolved.prefix.entries.keys()], [...maps.prefix.entries.keys()]);
  assert.deepEqual([...resolved.prefix.entries.values()], [...maps.prefix.entries.values()]);
  rules.clear();
  assert.equal(resolved.exact.entries.size + resolved.prefix.entries.size, 0);
});

test('kernelDev turns stat(2)\'s dev_t into the kernel\'s MKDEV(major, minor); directoryIdentityKey names directories only', () => {
  assert.equal(kernelDev(0x803n), (8n << 20n) | 3n, 'sda3: major 8, minor 3');
  assert.equal(kernelDev(0x1000_0010_0103n), (0x1001n << 20n) | 0x103n, 'major 0x1001, minor 0x103: both split encodings');
  assert.equal(kernelDev(0x2dn), 45n, 'an anonymous device (major 0)');
  assert.equal(directoryIdentityKey('/proc/self/status'), null, 'a file');
  assert.equal(directoryIdentityKey('/no/such/directory'), null);
  assert.equal(directoryIdentityKey('/')?.length, 16);
});

test('a prefix ending in "/" that names a directory also gets its identity entry, counted in the filter, removed with it', () => {
  const resolved = { exact: memoryMap('resolvedExact'), prefix: memoryMap('resolvedPrefix'), dirs: memoryMap('resolvedDirs') };
  const maps = { exact: memoryMap('exact'), prefix: memoryMap('prefix'), prefixAll: memoryMap('prefixAll'), name: memoryMap('name'), filter: memoryMap('filter'), resolved };
  const directoryKey = (path: string): Uint8Array | null => (path === '/srv/secret/' ? Uint8Array.of(1, 2, 3) : null);
  const rules = createPathRuleMaps({ maps, opBits: FILE_RULE_OP_BITS, denyOps: ['open'], directoryKey });
  const dirRules = (): number => new DataView(maps.filter.entries.values().next().value!.buffer).getUint32(PATH_FILTER_LAYOUT.offsets.dir_rules, true);
  rules.addPrefix('/srv/secret/', { ruleId: 7, action: 'deny', ops: ['open'] });
  rules.addPrefix('/srv/other/', { ruleId: 8, action: 'deny', ops: ['open'] }); // not a directory now: by path only
  rules.addPrefix('/srv/sec', { ruleId: 9, action: 'audit', ops: ['open'] }); // not a directory prefix
  assert.deepEqual([...resolved.dirs.entries.keys()], ['010203']);
  assert.equal(dirRules(), 1);
  rules.removePrefix('/srv/secret/');
  assert.equal(resolved.dirs.entries.size, 0);
  assert.equal(dirRules(), 0);
});

test('keepRecords sets the keep-records bit of the rule and of the name entry it shares; anything but a boolean is refused', () => {
  const flags = (value: Uint8Array): number => new DataView(value.buffer).getUint32(FILE_RULE_LAYOUT.offsets.flags, true);
  assert.equal(flags(encodePathRule({ ruleId: 1, action: 'audit', ops: ['open'], keepRecords: true }, FILE_RULE_OP_BITS)), KEEP_RECORDS_RULE_FLAG);
  assert.equal(flags(encodePathRule({ ruleId: 1, action: 'audit', ops: ['open'], keepRecords: false }, FILE_RULE_OP_BITS)), 0);
  assert.equal(flags(encodePathRule({ ruleId: 1, action: 'audit', ops: ['open'] }, FILE_RULE_OP_BITS)), 0);
  assertFieldError(() => encodePathRule({ ruleId: 1, action: 'audit', ops: ['open'], keepRecords: 1 as unknown as boolean }, FILE_RULE_OP_BITS), 'keepRecords');

  const maps = { exact: memoryMap('exact'), prefix: memoryMap('prefix'), prefixAll: memoryMap('prefixAll'), name: memoryMap('name') };
  const rules = createPathRuleMaps({ maps, opBits: FILE_RULE_OP_BITS });
  const nameEntry = (): number => flags(maps.name.entries.get(Buffer.from(pathKey('key')).toString('hex'))!);
  rules.addExact('/etc/key', { ruleId: 3, action: 'audit', ops: ['open'] });
  assert.equal(nameEntry() & KEEP_RECORDS_RULE_FLAG, 0);
  // A pipeline kill may wait for the record of a relative open of the same name: the shared entry keeps its records.
  rules.addExact('/srv/key', { ruleId: 7, action: 'audit', ops: ['open'], keepRecords: true });
  assert.equal(nameEntry() & KEEP_RECORDS_RULE_FLAG, KEEP_RECORDS_RULE_FLAG);
  rules.removeExact('/srv/key');
  assert.equal(nameEntry() & KEEP_RECORDS_RULE_FLAG, 0);
});
