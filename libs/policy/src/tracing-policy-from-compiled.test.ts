import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { decodeCompiledPolicy, encodeCompiledPolicy, type CompiledPolicy, type MatchCondition } from '@stinger/events';
import { compilePolicy, type CompiledPolicyResult } from './compile-policy.ts';
import { PolicyValidationError } from './errors.ts';
import { ALL_MATCH_FIELDS, MATCH_FIELDS } from './match-fields.ts';
import { parsePolicies } from './parse-policies.ts';
import { RULE_EVENTS, type TracingPolicy } from './policy-types.ts';
import { tracingPolicyFromCompiled } from './tracing-policy-from-compiled.ts';

const TESTDATA = new URL('../testdata/', import.meta.url);
const AT = 1_767_225_600_000_000_000n;

function parseOne(yamlText: string, source: string): TracingPolicy {
  const result = parsePolicies(yamlText, { source });
  assert.deepEqual(result.errors, []);
  assert.equal(result.policies.length, 1);
  return result.policies[0] ?? assert.fail(`no policy in ${source}`);
}

/** Encode with the CompiledPolicy Avro schema and decode again, as plain objects. */
const avroRoundTrip = (compiled: CompiledPolicy): CompiledPolicy => structuredClone(decodeCompiledPolicy(encodeCompiledPolicy(compiled)));

const withoutTime = (compiled: CompiledPolicy): CompiledPolicy => ({ ...compiled, compiled_at_ns: 0n });

/** Compiles, inverts (through Avro when asked), compiles again; asserts both compilations agree and returns them. */
function assertRoundTrip(policy: TracingPolicy, throughAvro: boolean): { first: CompiledPolicyResult; second: CompiledPolicyResult } {
  const first = compilePolicy(policy, { compiledAtNs: AT });
  const record = throughAvro ? avroRoundTrip(first.compiled) : first.compiled;
  const second = compilePolicy(tracingPolicyFromCompiled(record), { compiledAtNs: AT + 1n });
  assert.deepEqual(withoutTime(second.compiled), withoutTime(first.compiled));
  assert.deepEqual(second.kernelRules, first.kernelRules);
  assert.deepEqual(second.pipelineRules, first.pipelineRules);
  assert.deepEqual(second.reports, first.reports);
  assert.deepEqual(second.identityRules, first.identityRules);
  return { first, second };
}

const FIXTURES = readdirSync(TESTDATA)
  .filter((name) => name.endsWith('.yaml'))
  .sort();

/**
 * Hand-written policies that together use every rule event, every match field with every operator its kind takes,
 * every action, both modes, every selector field and both kinds (checked by the coverage test below).
 */
const HAND_WRITTEN: Readonly<Record<string, string>> = {
  'process-fields': `
apiVersion: stinger.io/v1alpha1
kind: TracingPolicy
metadata: { name: process-fields, uid: 3f1c2d9e-0000-4000-8000-000000000001, generation: 7 }
spec:
  mode: enforce
  selector: { host: true }
  rules:
    - { name: bin-equal, event: exec, match: { binary: { equal: [/usr/bin/nc] }, uid: [0, 1000] }, action: kill-in-kernel, severity: critical, tags: [T1059, net] }
    - { name: bin-prefix, event: exec, match: { binary: { prefix: [/tmp/] }, parentBinary: { equal: [/usr/sbin/sshd] } }, action: audit, severity: info }
    - { name: bin-suffix, event: exec, match: { binary: { suffix: [/xmrig] }, parentBinary: { prefix: [/opt/] }, uid: ["1000-1999", 0] }, action: kill, severity: low }
    - { name: parent-suffix, event: exec, match: { parentBinary: { suffix: [/bash] } }, action: audit }
    - { name: copied-nc, event: exec, match: { sha256: [9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08] }, exclude: { uid: [0] }, action: deny }
    - { name: shadow-deny, event: file, match: { path: { prefix: [/etc/ssh/] }, access: [read] }, exclude: { path: { suffix: [.pub] } }, action: deny }
`,
  'files-and-mounts': `
apiVersion: stinger.io/v1alpha1
kind: TracingPolicy
metadata: { name: files-and-mounts }
spec:
  rules:
    - name: every-op
      event: file
      match:
        path: { equal: [/etc/shadow] }
        op: [open, read, write, unlink, rename, link, symlink, chmod, chown, truncate, mkdir, rmdir]
      action: kill-in-kernel
      severity: high
    - { name: path-prefix, event: file, match: { path: { prefix: [/etc/ssh/, /root/] }, op: [open, chmod] }, action: kill-in-kernel }
    - { name: path-suffix, event: file, match: { path: { suffix: [.pem, id_rsa] }, binary: { equal: [/usr/bin/cat] } }, action: kill-in-kernel }
    - { name: writes, event: file, match: { path: { prefix: [/etc/] }, access: [write] }, action: audit }
    - { name: mount-proc, event: mount, match: { path: { prefix: [/host/] }, fstype: [proc, overlay], op: [mount, umount, move_mount, fsmount] }, action: audit }
`,
  'egress-names': `
apiVersion: stinger.io/v1alpha1
kind: TracingPolicy
metadata: { name: egress-names }
spec:
  rules:
    - { name: onion, event: egress, match: { dnsName: { suffix: [.onion] }, dport: [53] }, action: audit }
    - { name: pool-exact, event: egress, match: { dnsName: { equal: [pool.example] } }, action: audit }
    - { name: pool-prefix, event: egress, match: { dnsName: { prefix: [xmr.] } }, action: audit }
    - { name: sni-equal, event: egress, match: { serverName: { equal: [pool.example] } }, action: kill }
    - { name: sni-prefix, event: egress, match: { serverName: { prefix: [stratum.] } }, action: audit }
    - { name: sni-suffix, event: egress, match: { serverName: { suffix: [.pool.example] } }, action: audit }
    - { name: host-equal, event: egress, match: { httpHost: { equal: [transfer.sh] } }, action: audit }
    - { name: host-prefix, event: egress, match: { httpHost: { prefix: [paste.] } }, action: audit }
    - { name: host-suffix, event: egress, match: { httpHost: { suffix: [.ngrok.io] }, daddr: [198.51.100.0/24] }, action: audit }
`,
  'sequences': `
apiVersion: stinger.io/v1alpha1
kind: TracingPolicy
metadata: { name: sequences }
spec:
  rules:
    - name: dropped-binary-run
      sequence:
        by: pod
        within: 2m
        steps:
          - { event: file, match: { path: { prefix: [/tmp/] }, access: [write, read] } }
          - { event: exec, sameAs: { binary: path } }
      action: kill
      tags: [T1105]
    - name: tmp-binary-connects
      sequence:
        by: process
        within: 30s
        steps:
          - { event: exec, match: { binary: { prefix: [/tmp/, /dev/shm/] } } }
          - { event: connect, match: { daddr: [0.0.0.0/0] } }
      action: audit
    - name: read-then-send
      sequence:
        within: 1500ms
        steps:
          - { event: file, match: { path: { equal: [/etc/shadow] } } }
          - { event: connect }
          - { event: exec, sameAs: { parentBinary: binary } }
      action: kill-in-kernel
`,
  'network': `
apiVersion: stinger.io/v1alpha1
kind: TracingPolicy
metadata: { name: network }
spec:
  rules:
    - { name: deny-imds, event: connect, match: { daddr: [169.254.169.254/32, "fd00:ec2::254/128"], dport: [80, 443] }, action: deny-connect, severity: high }
    - { name: port-range, event: connect, match: { daddr: [10.0.0.0/8], dport: ["8000-8100"], sport: [40000] }, action: deny-connect }
    - { name: no-dest, event: connect, match: { dport: ["22-23"] }, action: audit }
    - { name: connect-kill, event: connect, match: { daddr: ["2001:db8::/32"] }, action: kill-in-kernel }
    - { name: accept-any, event: accept, match: { daddr: [0.0.0.0/0], dport: [22], sport: ["1024-65535"] }, action: audit }
    - { name: listen-low, event: listen, match: { sport: ["1-1023"], uid: ["1000-4294967294"] }, action: kill }
    - { name: private-egress, event: connect, match: { daddr: [10.0.0.0/8] }, exclude: { daddr: [10.244.0.0/16], dport: [53, "5000-5999"], binary: { prefix: [/usr/lib/] } }, action: audit }
`,
  'privileges': `
apiVersion: stinger.io/v1alpha1
kind: TracingPolicy
metadata: { name: privileges }
spec:
  mode: monitor
  rules:
    - { name: to-root, event: privilege, match: { toUid: [0], capabilities: [CAP_SYS_ADMIN, CAP_CHECKPOINT_RESTORE] }, action: kill }
    - { name: to-range, event: privilege, match: { toUid: ["0-999"] }, action: audit }
    - { name: capset, event: capset, match: { capabilities: [CAP_NET_RAW, CAP_BPF] }, action: audit }
    - { name: new-ns, event: namespace, match: { namespaces: [cgroup, ipc, mnt, net, pid, time, user, uts], op: [unshare, setns, clone] }, action: kill-in-kernel }
    - { name: mod-equal, event: module, match: { name: { equal: [nf_tables] }, op: [load, unload] }, action: audit }
    - { name: mod-prefix, event: module, match: { name: { prefix: [rootkit_] } }, action: kill }
    - { name: mod-suffix, event: module, match: { name: { suffix: [_hide] } }, action: kill }
    - { name: mod-any, event: module, match: { op: [load] }, action: kill-in-kernel }
    - { name: trace, event: ptrace, match: { request: [PTRACE_ATTACH, PTRACE_POKETEXT] }, action: audit }
    - { name: prog-load, event: bpf, match: { command: [BPF_PROG_LOAD] }, action: kill }
    - { name: no-match, event: bpf, action: audit }
`,
  'pods': `
apiVersion: stinger.io/v1alpha1
kind: TracingPolicy
metadata: { name: pods }
spec:
  selector:
    podSelector:
      matchLabels: { app: web, tier: front }
      matchExpressions: [{ key: team, operator: In, values: [payments] }]
    namespaces: [prod, staging]
    containerName: nginx
    host: false
  rules:
    - { name: shell, event: exec, match: { binary: { equal: [/bin/sh, /bin/bash] } }, action: kill-in-kernel, severity: medium }
`,
  'namespaced': `
apiVersion: stinger.io/v1alpha1
kind: TracingPolicyNamespaced
metadata: { name: namespaced, namespace: payments, uid: 0f0e0d0c-0000-4000-8000-000000000002, generation: 3 }
spec:
  mode: enforce
  selector: { podSelector: { matchLabels: { app: api } }, containerName: api }
  rules:
    - { name: imds, event: connect, match: { daddr: [169.254.169.254/32] }, action: deny-connect, severity: high, tags: [T1552.005] }
    - { name: shadow, event: file, match: { path: { equal: [/etc/shadow] } }, action: kill-in-kernel }
`,
};

describe('tracingPolicyFromCompiled', () => {
  test('the fixtures are all found', () => {
    assert.deepEqual(FIXTURES, ['audit-ptrace.yaml', 'deny-binary.yaml', 'deny-egress-metadata.yaml', 'deny-shadow-read.yaml', 'no-new-netns.yaml']);
  });

  for (const file of FIXTURES) {
    const policy = (): TracingPolicy => parseOne(readFileSync(new URL(file, TESTDATA), 'utf8'), file);
    test(`${file}: parse → compile → inverse → compile gives the same record and rules`, () => {
      assertRoundTrip(policy(), false);
    });
    test(`${file}: the same through the Avro encoding of the record`, () => {
      assertRoundTrip(policy(), true);
    });
  }

  for (const [name, text] of Object.entries(HAND_WRITTEN)) {
    test(`${name}: parse → compile → inverse → compile gives the same record and rules, directly and through Avro`, () => {
      const policy = parseOne(text, name);
      assertRoundTrip(policy, false);
      assertRoundTrip(policy, true);
    });
  }

  test('the hand-written policies cover every event, match field and operator, action, mode and kind', () => {
    const records = Object.entries(HAND_WRITTEN).map(([name, text]) => compilePolicy(parseOne(text, name)).compiled);
    const rules = records.flatMap((record) => record.rules);
    const conditions: MatchCondition[] = rules.flatMap((rule) => rule.match).filter((c) => !c.operator.startsWith('not_'));
    assert.deepEqual(
      new Set(rules.flatMap((rule) => rule.match).filter((c) => c.operator.startsWith('not_')).map((c) => c.operator)),
      new Set(['not_cidr', 'not_range', 'not_prefix', 'not_equal', 'not_suffix']),
    );
    assert.deepEqual(new Set(rules.map((rule) => rule.event)), new Set(RULE_EVENTS));
    const expected = ALL_MATCH_FIELDS.flatMap((field) => {
      switch (MATCH_FIELDS[field].kind) {
        case 'path-match':
        case 'string-match':
          return ['equal', 'prefix', 'suffix'].map((operator) => `${field} ${operator}`);
        case 'symbols':
          return [`${field} equal`];
        case 'cidrs':
          return [`${field} cidr`];
        case 'ports':
        case 'ids':
          return [`${field} equal`, `${field} range`];
        case 'digests':
          return [`${field} equal`];
      }
    });
    assert.deepEqual(new Set(conditions.map((c) => `${c.field} ${c.operator}`)), new Set(expected));
    assert.deepEqual(new Set(rules.map((rule) => rule.action)), new Set(['audit', 'kill_in_kernel', 'kill', 'deny_connect', 'deny']));
    assert.deepEqual(new Set(records.map((record) => record.mode)), new Set(['enforce', 'monitor']));
    assert.deepEqual(new Set(records.map((record) => record.namespace === null)), new Set([true, false]));
  });

  test('gives back kind, metadata and spec: a namespaced record becomes a TracingPolicyNamespaced', () => {
    const record = compilePolicy(parseOne(HAND_WRITTEN.namespaced ?? '', 'namespaced'), { compiledAtNs: AT }).compiled;
    assert.deepEqual(record.selector, { pod_labels: { app: 'api' }, namespaces: ['payments'], container_name: 'api', host: false, pids: null });
    assert.deepEqual(tracingPolicyFromCompiled(record), {
      apiVersion: 'stinger.io/v1alpha1',
      kind: 'TracingPolicyNamespaced',
      metadata: { name: 'namespaced', namespace: 'payments', uid: '0f0e0d0c-0000-4000-8000-000000000002', generation: 3 },
      spec: {
        mode: 'enforce',
        // namespaces [payments] and host false are what compilePolicy adds for the namespace.
        selector: { podSelector: { matchLabels: { app: 'api' }, matchExpressions: [] }, namespaces: [], containerName: 'api', host: null, pids: null },
        rules: [
          { name: 'imds', event: 'connect', match: { daddr: ['169.254.169.254/32'] }, action: 'deny-connect', severity: 'high', tags: ['T1552.005'], exclude: {}, sequence: null },
          { name: 'shadow', event: 'file', match: { path: { equal: ['/etc/shadow'], prefix: [], suffix: [] } }, action: 'kill-in-kernel', severity: 'medium', tags: [], exclude: {}, sequence: null },
        ],
        rego: null,
      },
    });
  });

  test('gives back a sequence: scope, window, steps with their conditions and correlations', () => {
    const policy = tracingPolicyFromCompiled(avroRoundTrip(compilePolicy(parseOne(HAND_WRITTEN.sequences ?? '', 'sequences')).compiled));
    const [dropped, , readThenSend] = policy.spec.rules;
    assert.equal(dropped?.event, 'exec');
    assert.deepEqual(dropped?.match, {});
    assert.deepEqual(dropped?.sequence, {
      by: 'pod',
      withinMs: 120_000,
      steps: [
        { event: 'file', match: { path: { equal: [], prefix: ['/tmp/'], suffix: [] }, access: ['write', 'read'] }, sameAs: {} },
        { event: 'exec', match: {}, sameAs: { binary: 'path' } },
      ],
    });
    assert.equal(readThenSend?.sequence?.by, 'processTree', 'processTree is the default scope');
    assert.equal(readThenSend?.sequence?.withinMs, 1500);
  });

  test('gives back ranges, single numbers and a cluster-wide kind', () => {
    const record = compilePolicy(parseOne(HAND_WRITTEN['process-fields'] ?? '', 'process-fields')).compiled;
    const policy = tracingPolicyFromCompiled(record);
    assert.equal(policy.kind, 'TracingPolicy');
    assert.deepEqual(policy.metadata, { name: 'process-fields', namespace: null, uid: '3f1c2d9e-0000-4000-8000-000000000001', generation: 7 });
    assert.deepEqual(policy.spec.selector, { podSelector: null, namespaces: [], containerName: null, host: true, pids: null });
    assert.deepEqual(policy.spec.rules[0]?.match.uid, [{ low: 0, high: 0 }, { low: 1000, high: 1000 }]);
    assert.deepEqual(policy.spec.rules[2]?.match.uid, [{ low: 1000, high: 1999 }, { low: 0, high: 0 }]);
  });
});

describe('tracingPolicyFromCompiled on records from other producers', () => {
  /** A valid record: file rule (path equal, op) and connect rule (daddr, dport). */
  const base = (): CompiledPolicy =>
    compilePolicy(
      parseOne(
        `
apiVersion: stinger.io/v1alpha1
kind: TracingPolicy
metadata: { name: other }
spec:
  rules:
    - { name: shadow, event: file, match: { path: { equal: [/etc/shadow] }, op: [open] }, action: kill-in-kernel }
    - { name: imds, event: connect, match: { daddr: [169.254.169.254/32], dport: [80] }, action: deny-connect }
`,
        'other',
      ),
      { compiledAtNs: AT },
    ).compiled;

  /** The issues (path: message) of the PolicyValidationError the record is rejected with. */
  function rejection(record: CompiledPolicy): string[] {
    let caught: unknown;
    try {
      tracingPolicyFromCompiled(record);
    } catch (error) {
      caught = error;
    }
    assert.ok(caught instanceof PolicyValidationError, `expected a PolicyValidationError, got ${String(caught)}`);
    for (const issue of caught.issues) assert.equal(issue.source, `CompiledPolicy ${record.name}`);
    return caught.issues.map((issue) => `${issue.path}: ${issue.message}`);
  }

  const editCondition = (record: CompiledPolicy, at: { rule: number; condition: number }, change: Partial<MatchCondition>): CompiledPolicy => {
    const copy = structuredClone(record);
    const condition = copy.rules[at.rule]?.match[at.condition] ?? assert.fail('no such condition');
    Object.assign(condition, change);
    return copy;
  };

  test('the base record is accepted (so each rejection below is due to its one change)', () => {
    assert.equal(tracingPolicyFromCompiled(base()).spec.rules.length, 2);
  });

  test('an unknown field name in a match condition, even after an Avro round trip', () => {
    const record = avroRoundTrip(editCondition(base(), { rule: 0, condition: 0 }, { field: 'pth' }));
    assert.deepEqual(rejection(record), ['rules[0].match[0].field: unknown match field "pth" (did you mean "path"?)']);
  });

  test('a known field the rule event does not have', () => {
    const record = editCondition(base(), { rule: 0, condition: 1 }, { field: 'dport', operator: 'equal', values: ['80'] });
    assert.deepEqual(rejection(record), ['rules[0].match[1].field: "dport" is not a match field of event "file" (allowed: binary, parentBinary, uid, path, op, access)']);
  });

  test('an operator the field does not allow, negated ones included (not_x where x does not apply)', () => {
    assert.deepEqual(rejection(editCondition(base(), { rule: 0, condition: 0 }, { operator: 'cidr' })), [
      'rules[0].match[0].operator: operator cidr does not apply to field "path" (allowed: equal, prefix, suffix)',
    ]);
    assert.deepEqual(rejection(editCondition(base(), { rule: 1, condition: 1 }, { operator: 'prefix' })), [
      'rules[1].match[1].operator: operator prefix does not apply to field "dport" (allowed: equal, range)',
    ]);
    assert.deepEqual(rejection(editCondition(base(), { rule: 0, condition: 0 }, { operator: 'not_cidr' })), [
      'rules[0].match[0].operator: operator cidr does not apply to field "path" (allowed: equal, prefix, suffix)',
    ]);
    assert.deepEqual(rejection(editCondition(base(), { rule: 0, condition: 1 }, { operator: 'range' })), [
      'rules[0].match[1].operator: operator range does not apply to field "op" (allowed: equal)',
    ]);
  });

  test('two conditions on one field, and a range under operator equal', () => {
    const twice = structuredClone(base());
    twice.rules[0]?.match.push({ field: 'path', operator: 'prefix', values: ['/etc/'] });
    assert.deepEqual(rejection(twice), [
      'rules[0].match[2].field: "path" already has a condition (match[0]); a TracingPolicy holds one condition per field, so their AND cannot be expressed',
    ]);
    assert.deepEqual(rejection(editCondition(base(), { rule: 1, condition: 1 }, { values: ['80', '8000-8080'] })), [
      'rules[1].match[1].values[1]: "8000-8080" is not a single number (operator equal; ranges take operator range)',
    ]);
  });

  test("the validator's findings are named by their path in the record, all at once", () => {
    const record = structuredClone(base());
    record.name = 'Not_A_Name';
    record.selector.pod_labels = { app: 'bad value!' };
    record.selector.container_name = 'C';
    const [file, connect] = record.rules;
    assert.ok(file !== undefined && connect !== undefined);
    file.match = [
      { field: 'path', operator: 'equal', values: ['/etc/shadow', 'relative/path'] },
      { field: 'op', operator: 'equal', values: ['open', 'teleport'] },
      { field: 'uid', operator: 'range', values: ['5-1'] },
    ];
    file.action = 'deny_connect';
    connect.event = 'flow';
    connect.match = [{ field: 'daddr', operator: 'cidr', values: ['10.0.0.0/33'] }];
    const issues = rejection(record);
    assert.deepEqual(issues, [
      `name: "Not_A_Name" is not a DNS-1123 subdomain (lower-case letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters)`,
      'selector.pod_labels.app: "bad value!" is not a label value',
      `selector.container_name: "C" is not a DNS-1123 label (lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters)`,
      'rules[0].match[0].values[1]: "relative/path" is not an absolute path',
      'rules[0].match[1].values[1]: "teleport" is not one of open, read, write, unlink, rename, link, symlink, chmod, chown, truncate, mkdir, rmdir, close',
      'rules[0].match[2].values[0]: "5-1" is not a uid range (low-high with 0 <= low <= high <= 4294967294)',
      'rules[0].action: deny-connect applies only to event connect, not file',
      'rules[1].event: "flow" is not one of exec, file, connect, accept, listen, privilege, capset, namespace, module, ptrace, bpf, mount, egress',
      'rules[1].match[0].values[0]: "10.0.0.0/33" is not a CIDR (IPv4 a.b.c.d/0-32 or IPv6 x:y::z/0-128, or a bare address)',
    ]);
  });

  test('empty values, a namespace outside the policy namespace, host processes in a namespaced policy, a huge generation', () => {
    const empty = editCondition(base(), { rule: 0, condition: 0 }, { values: [] });
    assert.deepEqual(rejection(empty), ['rules[0].match[0].values: set one of equal, prefix, suffix']);
    const emptyList = editCondition(base(), { rule: 1, condition: 0 }, { values: [] });
    assert.deepEqual(rejection(emptyList), ['rules[1].match[0].values: must not be empty (leave the field out to match any value)']);

    const namespaced = structuredClone(base());
    namespaced.namespace = 'payments';
    namespaced.selector = { pod_labels: {}, namespaces: ['payments', 'prod'], container_name: null, host: true, pids: null };
    namespaced.generation = 1n << 60n;
    let caught: unknown;
    try {
      tracingPolicyFromCompiled(namespaced);
    } catch (error) {
      caught = error;
    }
    assert.ok(caught instanceof PolicyValidationError);
    assert.deepEqual(
      caught.issues.map((issue) => issue.path),
      ['generation', 'selector.namespaces', 'selector.host'],
    );
    assert.equal(caught.issues[0]?.source, 'CompiledPolicy payments/other');
  });

  test('an empty rule list and a record with no match conditions', () => {
    const none = structuredClone(base());
    none.rules = [];
    assert.deepEqual(rejection(none), ['rules: must hold at least one rule (or the policy a rego module)']);
    const anyFile = structuredClone(base());
    const [file] = anyFile.rules;
    assert.ok(file !== undefined);
    file.match = [];
    assert.deepEqual(tracingPolicyFromCompiled(anyFile).spec.rules[0]?.match, {});
  });
});
