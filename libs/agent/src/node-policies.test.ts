import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { CompiledPolicy, PolicyStatus } from '@stinger/events';
import { compilePolicy, parsePolicies, type IdentityRule, type KernelRule, type TracingPolicy } from '@stinger/policy';
import { KernelRuleSlots, slotKey, type KernelMaps } from './kernel-rules.ts';
import { NodePolicies, REFUSED_RECORD, type IdentityEnforcement } from './node-policies.ts';

function compiledFixture(name: string, generation = 1): CompiledPolicy {
  const text = readFileSync(new URL(`../../policy/testdata/${name}`, import.meta.url), 'utf8');
  const [policy] = parsePolicies(text).policies;
  assert.ok(policy);
  return compilePolicy(policy, { generation }).compiled;
}

/** `lsmDenyUnavailable`: absent, no LSM hooks (as where the file sensor runs in tracepoint mode). */
function setup(maps: KernelMaps, identity?: IdentityEnforcement, lsmDenyUnavailable?: () => string | null) {
  const reports: [string, PolicyStatus | null][] = [];
  const policies = new NodePolicies({
    nodeName: 'n1',
    agentId: 'a1',
    slots: new KernelRuleSlots(maps),
    identity,
    ...(lsmDenyUnavailable ? { lsmDenyUnavailable } : {}),
    onStatus: (key, status) => reports.push([key, status]),
    now: () => 42n,
  });
  return { policies, reports };
}

function recordingMaps(): KernelMaps & { installed: KernelRule[] } {
  const installed: KernelRule[] = [];
  return {
    installed,
    install: (rule) => void installed.push(rule),
    uninstall: (rule) => void installed.splice(installed.findIndex((r) => r.ruleId === rule.ruleId && r.event === rule.event), 1),
  };
}

test('a policy from the topic fills the kernel maps and is reported applied; its tombstone empties them', () => {
  const maps = recordingMaps();
  const { policies, reports } = setup(maps);
  const compiled = compiledFixture('deny-shadow-read.yaml', 3);
  policies.applyCompiled('deny-shadow-read', compiled);
  assert.ok(maps.installed.length > 0);
  assert.ok(maps.installed.every((r) => r.event === 'file' && r.action === 'kill'));
  const status = reports.at(-1)?.[1];
  assert.equal(status?.state, 'applied');
  assert.equal(status?.generation, 3n);
  assert.equal(status?.kernel_rules, maps.installed.length);
  assert.equal(policies.actionFor(maps.installed[0]?.ruleId ?? 0)?.policy, 'deny-shadow-read');

  policies.applyCompiled('deny-shadow-read', null);
  assert.equal(maps.installed.length, 0);
  assert.deepEqual(reports.at(-1), ['deny-shadow-read', null]);
  assert.deepEqual(policies.statuses(), []);
});

test('a rule the maps refuse makes the policy partial, with the reason', () => {
  const { policies, reports } = setup({
    install: () => {
      throw new Error('file sensor not loaded on this agent');
    },
    uninstall: () => {},
  });
  policies.applyCompiled('deny-shadow-read', compiledFixture('deny-shadow-read.yaml'));
  const status = reports.at(-1)?.[1];
  assert.equal(status?.state, 'partial');
  assert.match(status?.messages.join('\n') ?? '', /file sensor not loaded on this agent/);
});

test('an undecipherable record is rejected with the field named, and changes nothing', () => {
  const maps = recordingMaps();
  const { policies, reports } = setup(maps);
  const compiled = compiledFixture('deny-shadow-read.yaml');
  const broken: CompiledPolicy = {
    ...compiled,
    rules: compiled.rules.map((rule) => ({ ...rule, match: [{ field: 'colour', operator: 'equal', values: ['red'] }] })),
  };
  policies.applyCompiled('deny-shadow-read', broken);
  assert.equal(maps.installed.length, 0);
  const status = reports.at(-1)?.[1];
  assert.equal(status?.state, 'rejected');
  assert.match(status?.messages.join('\n') ?? '', /colour/);
});

test('an undecodable record for a policy in force is refused: the status keeps what is loaded and says the record went to the dead-letter topic', () => {
  const maps = recordingMaps();
  const { policies, reports } = setup(maps);
  policies.applyCompiled('deny-shadow-read', compiledFixture('deny-shadow-read.yaml', 4));
  const loaded = reports.at(-1)?.[1];
  const installed = [...maps.installed];
  policies.refuseUndecodable('deny-shadow-read', 'undecodable CompiledPolicy: unknown writer fingerprint 0x1');
  policies.refuseUndecodable('deny-shadow-read', 'undecodable CompiledPolicy: truncated');
  assert.deepEqual(maps.installed, installed, 'the kernel maps are unchanged');
  const status = reports.at(-1)?.[1];
  assert.deepEqual([status?.state, status?.generation, status?.kernel_rules, status?.pipeline_rules], [loaded?.state, 4n, loaded?.kernel_rules, loaded?.pipeline_rules]);
  assert.equal(status?.state, 'applied');
  const refusals = status?.messages.filter((m) => m.startsWith(REFUSED_RECORD)) ?? [];
  assert.deepEqual(refusals, [`${REFUSED_RECORD}: undecodable CompiledPolicy: truncated; generation 4 stays in force unchanged`], 'the latest refusal only');

  policies.applyCompiled('deny-shadow-read', compiledFixture('deny-shadow-read.yaml', 5));
  assert.deepEqual(reports.at(-1)?.[1]?.messages.filter((m) => m.startsWith(REFUSED_RECORD)), [], 'a record applied since drops the note');
});

test('an undecodable record for a name with nothing in force is reported rejected', () => {
  const { policies, reports } = setup(recordingMaps());
  policies.refuseUndecodable('never-loaded', 'undecodable CompiledPolicy: bad-magic');
  const status = reports.at(-1)?.[1];
  assert.deepEqual([status?.state, status?.generation, status?.kernel_rules], ['rejected', 0n, 0]);
  assert.deepEqual(status?.messages, [`${REFUSED_RECORD}: undecodable CompiledPolicy: bad-magic; nothing is in force under this name`]);
});

test('pipeline-only rules are reported with their reason', () => {
  const { policies, reports } = setup(recordingMaps());
  policies.applyCompiled('payments/deny-egress-metadata', compiledFixture('deny-egress-metadata.yaml'));
  const status = reports.at(-1)?.[1];
  assert.equal(status?.pipeline_rules, 1);
  assert.match(status?.messages.join('\n') ?? '', /enforced by the pipeline \(needs pod context/);
});

test('a rule kept out of the kernel by another policy is reported shadowed, and no longer once that policy goes', () => {
  const { policies, reports } = setup(recordingMaps());
  const policyText = (name: string, action: string) =>
    [
      'apiVersion: stinger.io/v1alpha1',
      'kind: TracingPolicy',
      `metadata: { name: ${name} }`,
      'spec:',
      '  rules:',
      `    - { name: r-${name}, event: file, action: ${action}, match: { path: { equal: [/etc/shadow] }, op: [open] } }`,
      '',
    ].join('\n');
  const local = (name: string, action: string) => parsePolicies(policyText(name, action)).policies[0]!;
  policies.applyLocal(local('watch-shadow', 'audit'));
  assert.deepEqual(reports.at(-1)?.[1]?.messages, []);
  policies.applyLocal(local('deny-shadow', 'kill-in-kernel'));
  const latest = (key: string) => reports.filter(([k]) => k === key).at(-1)?.[1];
  assert.deepEqual(latest('watch-shadow')?.messages, [
    'r-watch-shadow: shadowed in the kernel by deny-shadow/r-deny-shadow (one rule per path, destination or scope)',
  ]);
  assert.deepEqual(latest('deny-shadow')?.messages, ['r-deny-shadow: enforced by path only (file identity unavailable: no file guard in this agent)']);
  policies.remove('deny-shadow');
  assert.deepEqual(latest('watch-shadow')?.messages, [], 'in the kernel again, and reported so');
});

test('pipeline kill rules are known by rule id (their events skip the produce linger); audit ones and deleted ones are not', () => {
  const { policies } = setup(recordingMaps());
  const [policy] = parsePolicies(
    'apiVersion: stinger.io/v1alpha1\nkind: TracingPolicy\nmetadata: { name: p }\nspec:\n  rules:\n    - { name: kill-read, event: file, match: { path: { equal: [/etc/x] }, access: [read] }, action: kill }\n    - { name: audit-read, event: file, match: { path: { equal: [/etc/y] }, access: [read] }, action: audit }\n',
  ).policies;
  assert.ok(policy);
  const result = compilePolicy(policy);
  policies.applyCompiled('p', result.compiled);
  const [kill, audit] = result.pipelineRules;
  assert.deepEqual([policies.isPipelineKill(kill!.ruleId), policies.isPipelineKill(audit!.ruleId)], [true, false]);
  policies.remove('p');
  assert.equal(policies.isPipelineKill(kill!.ruleId), false);
});

test("a pipeline kill rule's watches go into the kernel keeping their records (never shed); an audit rule's do not, nor do they once the policy monitors", () => {
  // The map entries as the kernel holds them: one per path or destination, the last rule installed there.
  const entries = new Map<string, KernelRule>();
  const { policies } = setup({ install: (rule) => void entries.set(slotKey(rule), rule), uninstall: (rule) => void entries.delete(slotKey(rule)) });
  const text = (mode: string): string =>
    `apiVersion: stinger.io/v1alpha1\nkind: TracingPolicy\nmetadata: { name: p }\nspec:\n  mode: ${mode}\n  rules:\n` +
    '    - { name: kill-read, event: file, match: { path: { equal: [/etc/x] }, access: [read] }, action: kill }\n' +
    '    - { name: kill-dial, event: connect, match: { daddr: [10.1.0.0/16], dport: [4444] }, action: kill }\n' +
    '    - { name: audit-read, event: file, match: { path: { equal: [/etc/y] }, access: [read] }, action: audit }\n';
  const compiled = (mode: string, generation: number): CompiledPolicy => {
    const [policy] = parsePolicies(text(mode)).policies;
    assert.ok(policy);
    return compilePolicy(policy, { generation }).compiled;
  };
  const installed = (): [string, string, boolean][] =>
    [...entries.values()]
      .map((rule): [string, string, boolean] => [rule.rule, rule.event, rule.keepRecords === true])
      .sort((a, b) => a[0].localeCompare(b[0]));

  policies.applyCompiled('p', compiled('enforce', 1));
  assert.deepEqual(installed(), [
    ['audit-read', 'file', false],
    ['kill-dial', 'connect', true],
    ['kill-read', 'file', true],
  ]);
  for (const rule of entries.values()) assert.equal(rule.keepRecords === true, policies.isPipelineKill(rule.ruleId), `${rule.rule}: kept exactly when the pipeline kills on it`);
  // Monitor mode: the pipeline only alerts, so the same watches are written over without the keep bit.
  policies.applyCompiled('p', compiled('monitor', 2));
  assert.deepEqual(installed(), [
    ['audit-read', 'file', false],
    ['kill-dial', 'connect', false],
    ['kill-read', 'file', false],
  ]);
});

const denyPolicy = parsePolicies(
  'apiVersion: stinger.io/v1alpha1\nkind: TracingPolicy\nmetadata: { name: d }\nspec:\n  rules:\n    - { name: no-shadow, event: file, match: { path: { equal: [/etc/shadow] } }, action: deny }\n',
).policies[0]!;

test('a deny rule goes to the file guard, and its audit watch stays out of the kernel where the guard enforces it', () => {
  const maps = recordingMaps();
  let guarded: readonly IdentityRule[] = [];
  const { policies, reports } = setup(maps, { unavailable: () => null, setRules: (rules) => (guarded = rules) });
  policies.applyLocal(denyPolicy);
  assert.deepEqual(
    guarded.map((rule) => [rule.rule, rule.action, rule.targets]),
    [['no-shadow', 'deny', [{ kind: 'equal', path: '/etc/shadow' }]]],
  );
  assert.deepEqual(maps.installed, [], 'the guard reports the refused opens; a watch would report them twice');
  const status = reports.at(-1)?.[1];
  assert.equal(status?.state, 'applied');
  assert.match(status?.messages.join('\n') ?? '', /no-shadow: enforced by file identity/);
  assert.ok(policies.actionFor(guarded[0]!.ruleId), 'refusals are named by the rule id');
  policies.remove('d');
  assert.deepEqual(guarded, [], 'a deleted policy takes its marks away');
});

test('without a file guard a deny rule is reported not enforced (partial), and its watch reports the opens', () => {
  const maps = recordingMaps();
  const { policies, reports } = setup(maps, { unavailable: () => 'fanotify_init: EPERM', setRules: () => {} });
  policies.applyLocal(denyPolicy);
  const status = reports.at(-1)?.[1];
  assert.equal(status?.state, 'partial');
  assert.match(status?.messages.join('\n') ?? '', /no-shadow: not enforced on this node \(file identity unavailable: fanotify_init: EPERM\)/);
  assert.deepEqual(
    maps.installed.map((rule) => [rule.event, rule.action]),
    [['file', 'audit']],
  );
});

function policyOf(name: string, rules: string): TracingPolicy {
  const parsed = parsePolicies(`apiVersion: stinger.io/v1alpha1\nkind: TracingPolicy\nmetadata: { name: ${name} }\nspec:\n  rules:\n${rules}`);
  assert.deepEqual(parsed.errors, []);
  return parsed.policies[0]!;
}

test('where the LSM hooks take deny rules, a file or exec deny rule with only paths goes into the kernel as deny entries and to the guard as well', () => {
  const maps = recordingMaps();
  let guarded: readonly IdentityRule[] = [];
  const { policies, reports } = setup(maps, { unavailable: () => null, setRules: (rules) => (guarded = rules) }, () => null);
  policies.applyLocal(
    policyOf(
      'd',
      [
        '    - { name: no-shadow, event: file, match: { path: { equal: [/etc/shadow] } }, action: deny }',
        '    - { name: no-secrets, event: file, match: { path: { prefix: [/srv/secret/] } }, action: deny }',
        '    - { name: no-tools, event: exec, match: { binary: { prefix: [/opt/tools/] } }, action: deny }',
        '',
      ].join('\n'),
    ),
  );
  assert.deepEqual(
    maps.installed.map((rule) => [rule.event, rule.action, 'match' in rule ? rule.match : null, 'ops' in rule ? rule.ops : null]),
    [
      ['file', 'deny', { kind: 'equal', path: '/etc/shadow' }, ['open']],
      ['file', 'deny', { kind: 'prefix', path: '/srv/secret/' }, ['open']],
      ['exec', 'deny', { kind: 'prefix', path: '/opt/tools/' }, null],
    ],
    'the deny entries, and no audit watch: the hooks report what they refuse',
  );
  assert.deepEqual(
    guarded.map((rule) => rule.rule),
    ['no-shadow', 'no-secrets', 'no-tools'],
    'the guard marks the files too (hard links)',
  );
  const status = reports.at(-1)?.[1];
  assert.equal(status?.state, 'applied');
  assert.equal(status?.kernel_rules, 3);
  assert.match(status?.messages.join('\n') ?? '', /no-secrets: enforced in the kernel at file_open \(BPF LSM, the path the kernel resolved\): open denied with EPERM; the file guard/);
  assert.match(status?.messages.join('\n') ?? '', /no-tools: enforced in the kernel at bprm_check_security \(BPF LSM, the path the kernel resolved\): exec denied with EPERM; the file guard/);
  assert.equal(policies.actionFor(maps.installed[1]!.ruleId)?.rule, 'no-secrets', "the hook's records name the rule");

  // Another policy's change leaves these entries in place; deleting the policy takes them out.
  const installsBefore = maps.installed.length;
  policies.applyLocal(policyOf('e', '    - { name: no-keys, event: file, match: { path: { equal: [/etc/keys] } }, action: deny }\n'));
  assert.equal(maps.installed.length, installsBefore + 1);
  policies.remove('d');
  assert.deepEqual(
    maps.installed.map((rule) => [rule.rule, rule.action]),
    [['no-keys', 'deny']],
  );
});

test('in lsm mode a deny rule with a condition the hooks cannot see (uid) stays with the guard alone, its watch out of the kernel', () => {
  const maps = recordingMaps();
  let guarded: readonly IdentityRule[] = [];
  const { policies, reports } = setup(maps, { unavailable: () => null, setRules: (rules) => (guarded = rules) }, () => null);
  policies.applyLocal(policyOf('d', '    - { name: no-shadow, event: file, match: { path: { equal: [/etc/shadow] }, uid: ["1000-60000"] }, action: deny }\n'));
  assert.deepEqual(maps.installed, []);
  assert.deepEqual(
    guarded.map((rule) => rule.rule),
    ['no-shadow'],
  );
  assert.match(reports.at(-1)?.[1]?.messages.join('\n') ?? '', /no-shadow: enforced by file identity \(fanotify\)/);
});

test('in lsm mode without a file guard a deny rule with only paths is enforced by the hook (applied), and the status names the hard-link gap', () => {
  const maps = recordingMaps();
  const { policies, reports } = setup(maps, { unavailable: () => 'fanotify_init: EPERM', setRules: () => {} }, () => null);
  policies.applyLocal(denyPolicy);
  const status = reports.at(-1)?.[1];
  assert.equal(status?.state, 'applied');
  assert.deepEqual(
    maps.installed.map((rule) => [rule.event, rule.action]),
    [['file', 'deny']],
  );
  assert.match(status?.messages.join('\n') ?? '', /a hard link to its files under another path is not refused \(file identity unavailable: fanotify_init: EPERM\)/);
});

test('where the hooks are unavailable (tracepoint mode) a deny rule stays with the guard and nothing is installed for it', () => {
  const maps = recordingMaps();
  const { policies } = setup(maps, { unavailable: () => null, setRules: () => {} }, () => 'the file sensor runs in its tracepoint mode (no BPF LSM on this kernel)');
  policies.applyLocal(denyPolicy);
  assert.deepEqual(maps.installed, []);
});
