import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KernelRule } from '@stinger/policy';
import { KernelRuleSlots, type KernelMaps } from './kernel-rules.ts';

function fakeMaps(failOn?: string): KernelMaps & { entries: Map<string, number>; log: string[] } {
  const entries = new Map<string, number>();
  const log: string[] = [];
  const keyOf = (rule: KernelRule) => (rule.event === 'file' || rule.event === 'exec' ? rule.match.path : rule.event);
  return {
    entries,
    log,
    install(rule) {
      if (failOn && keyOf(rule) === failOn) throw new Error('map full');
      entries.set(keyOf(rule), rule.ruleId);
      log.push(`install ${rule.ruleId}`);
    },
    uninstall(rule) {
      entries.delete(keyOf(rule));
      log.push(`uninstall ${rule.ruleId}`);
    },
  };
}

const fileRule = (ruleId: number, action: 'audit' | 'kill', path = '/etc/shadow'): KernelRule => ({
  event: 'file',
  ruleId,
  policy: `p${ruleId}`,
  rule: 'r',
  scope: 'all',
  match: { kind: 'equal', path },
  ops: ['open'],
  action,
});

test('two rules on one path, audit then kill: the kill rule replaces the audit rule, and removing it falls back to the audit rule', () => {
  const maps = fakeMaps();
  const slots = new KernelRuleSlots(maps);
  slots.add(fileRule(20, 'audit'));
  slots.add(fileRule(30, 'kill'));
  assert.equal(maps.entries.get('/etc/shadow'), 30);
  slots.remove(fileRule(30, 'kill'));
  assert.equal(maps.entries.get('/etc/shadow'), 20);
  slots.remove(fileRule(20, 'audit'));
  assert.equal(maps.entries.has('/etc/shadow'), false);
  assert.deepEqual(maps.log, ['install 20', 'install 30', 'install 20', 'uninstall 20']);
});

test('two rules on one path, kill then audit: the later audit rule never replaces the kill rule, even with the lower rule id', () => {
  const maps = fakeMaps();
  const slots = new KernelRuleSlots(maps);
  slots.add(fileRule(30, 'kill'));
  slots.add(fileRule(20, 'audit'));
  assert.equal(maps.entries.get('/etc/shadow'), 30, 'a later policy must not weaken enforcement');
  assert.equal(slots.installed(fileRule(20, 'audit'))?.ruleId, 30);
  slots.remove(fileRule(30, 'kill'));
  assert.equal(maps.entries.get('/etc/shadow'), 20);
  slots.remove(fileRule(20, 'audit'));
  assert.equal(maps.entries.has('/etc/shadow'), false);
  assert.deepEqual(maps.log, ['install 30', 'install 20', 'uninstall 20']);
});

test('a shadowed rule changes nothing in the kernel', () => {
  const maps = fakeMaps();
  const slots = new KernelRuleSlots(maps);
  slots.add(fileRule(5, 'kill'));
  slots.add(fileRule(9, 'kill'));
  slots.remove(fileRule(9, 'kill'));
  assert.deepEqual(maps.log, ['install 5']);
  assert.equal(slots.installed(fileRule(9, 'kill'))?.ruleId, 5);
});

test('a map failure is reported, naming the policy and rule', () => {
  const slots = new KernelRuleSlots(fakeMaps('/bad'));
  assert.deepEqual(slots.add(fileRule(7, 'kill', '/bad')).errors, ['p7/r: map full']);
  assert.deepEqual(slots.add(fileRule(8, 'kill', '/good')).errors, []);
});

test('a host-only rule and a rule for all processes on one path share its entry: the stronger, then the broader, is installed', () => {
  const maps = fakeMaps();
  const slots = new KernelRuleSlots(maps);
  const hostKill: KernelRule = { ...fileRule(10, 'kill'), scope: 'host' };
  const allKill = fileRule(40, 'kill');
  slots.add(fileRule(5, 'audit'));
  slots.add(hostKill);
  assert.equal(slots.installed(hostKill)?.ruleId, 10, 'kill beats audit, whatever the scope');
  slots.add(allKill);
  assert.equal(slots.installed(hostKill)?.ruleId, 40, 'at equal strength, all processes beat host only, despite the higher rule id');
  assert.equal(maps.entries.get('/etc/shadow'), 40);
  slots.remove(allKill);
  assert.equal(maps.entries.get('/etc/shadow'), 10);
});

test("a pipeline kill's watch takes a path's entry from a plain audit rule, whatever the rule ids, and gives it back when it goes", () => {
  const maps = fakeMaps();
  const slots = new KernelRuleSlots(maps);
  const watch: KernelRule = { ...fileRule(30, 'audit'), keepRecords: true };
  slots.add(fileRule(20, 'audit'));
  slots.add(watch);
  assert.equal(maps.entries.get('/etc/shadow'), 30, 'the records of the path are kept for the kill that waits for them');
  slots.add(fileRule(40, 'kill'));
  assert.equal(maps.entries.get('/etc/shadow'), 40, 'a kill in the kernel is stronger still');
  slots.remove(fileRule(40, 'kill'));
  slots.remove(watch);
  assert.equal(maps.entries.get('/etc/shadow'), 20);
});
