import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { decodeCompiledPolicy, encodeCompiledPolicy, type CompiledPolicy } from '@stinger/events';
import { compilePolicy, type KernelRule } from './compile-policy.ts';
import { parsePolicies } from './parse-policies.ts';
import type { TracingPolicy } from './policy-types.ts';
import { RuleIdRegistry, ruleIdOf } from './rule-ids.ts';
import { validatePolicy } from './validate-policy.ts';

const fixture = (name: string): TracingPolicy => {
  const result = parsePolicies(readFileSync(new URL(`../testdata/${name}.yaml`, import.meta.url), 'utf8'), { source: name });
  assert.deepEqual(result.errors, []);
  return result.policies[0] ?? assert.fail(`no policy in ${name}`);
};

/** A cluster-wide policy with the given rules (and optional selector / mode). */
const make = (spec: Record<string, unknown>): TracingPolicy =>
  validatePolicy({ apiVersion: 'stinger.io/v1alpha1', kind: 'TracingPolicy', metadata: { name: 'p' }, spec }).policy;

const AT = 1_767_225_600_000_000_000n;
/** Encode with the CompiledPolicy Avro schema and decode again, as plain objects (the decoder builds records). */
const roundTrip = (compiled: CompiledPolicy): CompiledPolicy => structuredClone(decodeCompiledPolicy(encodeCompiledPolicy(compiled)));

describe('compilePolicy', () => {
  test('deny-shadow-read: every field of the CompiledPolicy record, encodable with the Avro schema', () => {
    const { compiled } = compilePolicy(fixture('deny-shadow-read'), { compiledAtNs: AT });
    assert.deepEqual(compiled, {
      name: 'deny-shadow-read',
      namespace: null,
      uid: null,
      generation: 1n,
      mode: 'enforce',
      selector: { pod_labels: {}, namespaces: [], container_name: null, host: null, pids: null },
      rules: [
        {
          name: 'no-shadow-open',
          event: 'file',
          match: [
            { field: 'path', operator: 'equal', values: ['/etc/shadow', '/etc/gshadow'] },
            { field: 'op', operator: 'equal', values: ['open'] },
          ],
          action: 'kill_in_kernel',
          severity: 'high',
          tags: ['T1003.008'],
          sequence: null,
        },
      ],
      rego: null,
      compiled_at_ns: AT,
    });
    assert.deepEqual(roundTrip(compiled), compiled);
  });

  test('deny-shadow-read is enforced in the kernel: one file entry per path', () => {
    const result = compilePolicy(fixture('deny-shadow-read'));
    const ruleId = ruleIdOf('deny-shadow-read', 'no-shadow-open');
    const origin = { ruleId, policy: 'deny-shadow-read', rule: 'no-shadow-open', scope: 'all' } as const;
    assert.deepEqual(result.kernelRules, [
      { ...origin, event: 'file', match: { kind: 'equal', path: '/etc/shadow' }, ops: ['open'], action: 'kill' },
      { ...origin, event: 'file', match: { kind: 'equal', path: '/etc/gshadow' }, ops: ['open'], action: 'kill' },
    ]);
    assert.deepEqual(result.pipelineRules, []);
    assert.deepEqual(result.reports, []);
  });

  test('deny-binary: exec entries for equal and prefix binaries', () => {
    const result = compilePolicy(fixture('deny-binary'));
    assert.deepEqual(
      result.kernelRules.map((r) => (r.event === 'exec' ? [r.rule, r.match.kind, r.match.path, r.action] : r.event)),
      [
        ['no-netcat', 'equal', '/usr/bin/nc', 'kill'],
        ['no-netcat', 'equal', '/usr/bin/ncat', 'kill'],
        ['no-netcat', 'equal', '/bin/nc.openbsd', 'kill'],
        ['no-tmp-binaries', 'prefix', '/tmp/', 'kill'],
        ['no-tmp-binaries', 'prefix', '/dev/shm/', 'kill'],
      ],
    );
  });

  test('deny-egress-metadata: a namespaced policy needs pod context: the pipeline enforces it, agents that know their pods too in the kernel', () => {
    const result = compilePolicy(fixture('deny-egress-metadata'), { compiledAtNs: AT });
    assert.deepEqual(result.kernelRules, []);
    assert.deepEqual(result.pipelineRules, [
      {
        ruleId: ruleIdOf('payments/deny-egress-metadata', 'no-imds'),
        policy: 'payments/deny-egress-metadata',
        rule: 'no-imds',
        event: 'connect',
        action: 'kill',
        reasons: ['needs pod context (a namespaced policy applies to its namespace only)'],
      },
    ]);
    assert.deepEqual(result.reports, [
      {
        path: 'spec.rules[0].action',
        message:
          "rule \"no-imds\": deny-connect is enforced in the kernel by agents that know their node's pods (a pod scope); where an agent does not, the pipeline enforces it with kill",
      },
    ]);
    assert.deepEqual(
      result.podScopedRules.map((r) => [r.event, r.action, r.pods]),
      [['connect', 'deny', { labels: {}, namespaces: ['payments'] }]],
    );
    assert.equal(result.compiled.namespace, 'payments');
    assert.deepEqual(result.compiled.selector, { pod_labels: {}, namespaces: ['payments'], container_name: null, host: false, pids: null });
    assert.deepEqual(result.compiled.rules[0]?.match, [
      { field: 'daddr', operator: 'cidr', values: ['169.254.169.254/32'] },
      { field: 'dport', operator: 'equal', values: ['80'] },
    ]);
    assert.deepEqual(roundTrip(result.compiled), result.compiled);
  });

  test('the same connect rule cluster-wide is a kernel deny entry per (CIDR, port)', () => {
    const result = compilePolicy(
      make({ rules: [{ name: 'no-imds', event: 'connect', match: { daddr: ['169.254.169.254/32', 'fd00:ec2::254'], dport: [80, '8080-8081'] }, action: 'deny-connect' }] }),
    );
    assert.deepEqual(
      result.kernelRules.map((r) => (r.event === 'connect' ? `${r.cidr} ${r.port} ${r.action}` : r.event)),
      ['169.254.169.254/32 80 deny', '169.254.169.254/32 8080 deny', '169.254.169.254/32 8081 deny', 'fd00:ec2::254/128 80 deny', 'fd00:ec2::254/128 8080 deny', 'fd00:ec2::254/128 8081 deny'],
    );
  });

  test('connect without daddr covers both families; without dport any port', () => {
    const result = compilePolicy(make({ rules: [{ name: 'smtp', event: 'connect', match: { dport: [25] }, action: 'audit' }, { name: 'all', event: 'connect', action: 'audit' }] }));
    assert.deepEqual(
      result.kernelRules.map((r) => (r.event === 'connect' ? `${r.rule} ${r.cidr} ${r.port}` : r.event)),
      ['smtp 0.0.0.0/0 25', 'smtp ::/0 25', 'all 0.0.0.0/0 null', 'all ::/0 null'],
    );
  });

  test('a port range wider than 64 ports leaves the kernel', () => {
    const result = compilePolicy(make({ rules: [{ name: 'high', event: 'connect', match: { dport: ['1024-2047'] }, action: 'deny-connect' }] }));
    assert.deepEqual(result.kernelRules, []);
    assert.deepEqual(result.pipelineRules[0]?.reasons, ['dport covers 1024 ports (more than 64)']);
    assert.equal(result.reports.length, 1);
  });

  test('no-new-netns: host-only namespace rule in the kernel, scoped to the host', () => {
    const result = compilePolicy(fixture('no-new-netns'));
    assert.deepEqual(result.kernelRules, [
      {
        ruleId: ruleIdOf('no-new-netns', 'no-unshare-net'),
        policy: 'no-new-netns',
        rule: 'no-unshare-net',
        scope: 'host',
        event: 'namespace',
        namespaces: ['net', 'user'],
        ops: ['unshare', 'clone'],
        action: 'kill',
      },
    ]);
    assert.equal(result.compiled.selector.host, true);
  });

  test('host: false (every pod, nothing else selected) stays in the kernel, scoped to pods; with a pod selector it leaves', () => {
    const rules = [{ name: 'no-shell', event: 'exec', match: { binary: { equal: ['/bin/sh'] } }, action: 'kill-in-kernel' }];
    const pods = compilePolicy(make({ selector: { host: false }, rules }));
    assert.deepEqual(
      pods.kernelRules.map((r) => [r.event, r.scope, r.action]),
      [['exec', 'pods', 'kill']],
    );
    assert.deepEqual(pods.pipelineRules, []);
    const labelled = compilePolicy(make({ selector: { host: false, podSelector: { matchLabels: { app: 'web' } } }, rules }));
    assert.deepEqual(labelled.kernelRules, []);
    assert.deepEqual(labelled.pipelineRules[0]?.reasons, ['needs pod context (selector: podSelector)']);
  });

  test('a pid selector: exec, file and connect rules the kernel decides stay in the kernel, carrying the pids; other events, kill and deny leave', () => {
    const pids = { values: [4242, 7], followChildren: true, namespace: 'host' };
    const result = compilePolicy(
      make({
        selector: { pids },
        rules: [
          { name: 'no-shell', event: 'exec', match: { binary: { equal: ['/bin/sh'] } }, action: 'kill-in-kernel' },
          { name: 'no-shadow', event: 'file', match: { path: { equal: ['/etc/shadow'] }, op: ['open'] }, action: 'kill-in-kernel' },
          { name: 'no-metadata', event: 'connect', match: { daddr: ['169.254.169.254/32'] }, action: 'deny-connect' },
          { name: 'no-netns', event: 'namespace', match: { namespaces: ['net'] }, action: 'kill-in-kernel' },
          { name: 'no-curl', event: 'exec', match: { binary: { equal: ['/usr/bin/curl'] } }, action: 'kill' },
        ],
      }),
    );
    assert.deepEqual(
      result.kernelRules.map((r) => [r.rule, r.event, r.scope, r.action, r.pids]),
      [
        ['no-shell', 'exec', 'all', 'kill', { values: [4242, 7], followChildren: true, namespace: 'host' }],
        ['no-shadow', 'file', 'all', 'kill', { values: [4242, 7], followChildren: true, namespace: 'host' }],
        ['no-metadata', 'connect', 'all', 'deny', { values: [4242, 7], followChildren: true, namespace: 'host' }],
      ],
    );
    assert.deepEqual(
      result.pipelineRules.map((r) => [r.rule, r.action, r.reasons]),
      [
        ['no-netns', 'kill', ['needs process ancestry (selector: pids; the kernel decides it for exec, file and connect rules)']],
        ['no-curl', 'kill', ['action kill is carried out by the pipeline']],
      ],
    );
    assert.deepEqual(result.reports.map((r) => r.path), ['spec.rules[3].action'], 'only the namespace rule is reported as leaving the kernel');
    assert.deepEqual(result.identityRules, [], 'a file mark holds for every process: no identity enforcement under a pid selector');
    assert.ok(result.watchRules.every((r) => r.pids === undefined), 'watches report for every process: the detector decides');
  });

  test('container pids: the kernel rule carries the container namespace, the record says it; pods named: the detector decides', () => {
    const selector = { pids: { values: [1], followChildren: true, namespace: 'container' } };
    const rules = [{ name: 'no-cat', event: 'exec', match: { binary: { equal: ['/usr/bin/cat'] } }, action: 'kill-in-kernel' }];
    const result = compilePolicy(make({ selector, rules }));
    assert.deepEqual(
      result.kernelRules.map((r) => [r.rule, r.scope, r.action, r.pids]),
      [['no-cat', 'all', 'kill', { values: [1], followChildren: true, namespace: 'container' }]],
    );
    assert.deepEqual(result.compiled.selector.pids, { pids: [1], follow_children: true, namespace: 'container' });
    assert.deepEqual(result.reports, []);
    const named = compilePolicy(make({ selector: { ...selector, containerName: 'web' }, rules }));
    assert.deepEqual(named.kernelRules, []);
    assert.deepEqual(named.pipelineRules.map((r) => r.reasons), [['needs pod context (selector: containerName)']]);
    assert.equal(named.compiled.selector.pids?.namespace, 'container');
  });

  test('audit-ptrace: monitor mode, pod selector, ptrace: pipeline audit, no report', () => {
    const result = compilePolicy(fixture('audit-ptrace'));
    assert.deepEqual(result.kernelRules, []);
    assert.deepEqual(result.pipelineRules.map((r) => [r.rule, r.action, r.reasons]), [
      ['ptrace-attach', 'audit', ['needs pod context (selector: podSelector)', 'no in-kernel enforcement for event ptrace']],
    ]);
    assert.deepEqual(result.reports, []);
    assert.deepEqual(result.compiled.selector.pod_labels, { app: 'web' });
    assert.equal(result.compiled.mode, 'monitor');
  });

  test('what the kernel cannot decide goes to the pipeline with its reasons', () => {
    const rule = (name: string, event: string, match: unknown): Record<string, unknown> => ({ name, event, match, action: 'kill-in-kernel' });
    const result = compilePolicy(
      make({
        rules: [
          rule('suffix', 'file', { path: { suffix: ['.pem'] } }),
          rule('parent', 'exec', { binary: { equal: ['/bin/sh'] }, parentBinary: { equal: ['/usr/sbin/nginx'] } }),
          rule('uid-path', 'file', { path: { prefix: ['/root/'] }, uid: [1000] }),
          rule('read', 'file', { path: { equal: ['/etc/shadow'] }, op: ['read'] }),
          rule('no-path', 'file', { op: ['open'] }),
          rule('module-name', 'module', { name: { equal: ['nf_tables'] } }),
          { ...rule('pipeline-kill', 'exec', { binary: { equal: ['/bin/nc'] } }), action: 'kill' },
          rule('long', 'exec', { binary: { equal: [`/${'a'.repeat(300)}`] } }),
        ],
      }),
    );
    assert.deepEqual(result.kernelRules, []);
    assert.deepEqual(
      result.pipelineRules.map((r) => [r.rule, r.action, r.reasons.join('; ')]),
      [
        ['suffix', 'kill', 'suffix match on path; file events are reported for watched paths only, and this rule names no path equal/prefix to watch'],
        ['parent', 'kill', 'parentBinary needs process ancestry'],
        ['uid-path', 'kill', 'uid conditions are not in the kernel maps'],
        ['read', 'kill', 'op read is not decided in the kernel (it decides open, unlink, rename, chmod, chown)'],
        ['no-path', 'kill', 'no path to key the kernel map on; file events are reported for watched paths only, and this rule names no path equal/prefix to watch'],
        ['module-name', 'kill', 'module names are not in the kernel maps'],
        ['pipeline-kill', 'kill', 'action kill is carried out by the pipeline'],
        ['long', 'kill', `binary "/${'a'.repeat(39)}"... is longer than 255 bytes`],
      ],
    );
    // The sensors are told to report what those rules need: audit watches on their paths (never a kill), whose
    // records the kernel keeps (never sheds) because the pipeline's kill waits for them.
    assert.deepEqual(
      result.watchRules.map((r) => [r.rule, r.event, r.event === 'file' ? r.match.path : null, r.action, r.keepRecords]),
      [
        ['uid-path', 'file', '/root/', 'audit', true],
        ['read', 'file', '/etc/shadow', 'audit', true],
      ],
    );
    // Every kill-in-kernel rule that could not have it is reported; the plain `kill` rule is not.
    assert.deepEqual(
      result.reports.map((r) => r.path),
      ['spec.rules[0].action', 'spec.rules[1].action', 'spec.rules[2].action', 'spec.rules[3].action', 'spec.rules[4].action', 'spec.rules[5].action', 'spec.rules[7].action'],
    );
  });

  test('kill-in-kernel file (open) and exec rules get identity rules too, keeping their kernel entries', () => {
    const result = compilePolicy(fixture('deny-shadow-read'));
    const ruleId = ruleIdOf('deny-shadow-read', 'no-shadow-open');
    assert.equal(result.kernelRules.length, 2);
    assert.deepEqual(result.identityRules, [
      {
        ruleId,
        policy: 'deny-shadow-read',
        rule: 'no-shadow-open',
        scope: 'all',
        event: 'file',
        action: 'kill',
        targets: [
          { kind: 'equal', path: '/etc/shadow' },
          { kind: 'equal', path: '/etc/gshadow' },
        ],
        sha256: [],
        exclude: {},
      },
    ]);
    const binaries = compilePolicy(fixture('deny-binary'));
    assert.deepEqual(
      binaries.identityRules.map((r) => [r.rule, r.event, r.action, r.targets.map((t) => `${t.kind} ${t.path}`)]),
      [
        ['no-netcat', 'exec', 'kill', ['equal /usr/bin/nc', 'equal /usr/bin/ncat', 'equal /bin/nc.openbsd']],
        ['no-tmp-binaries', 'exec', 'kill', ['prefix /tmp/', 'prefix /dev/shm/']],
      ],
    );
  });

  test('a kill-in-kernel rule the agent cannot decide at the open, or not about opens, gets no identity rule', () => {
    const result = compilePolicy(
      make({
        rules: [
          { name: 'parent', event: 'exec', match: { binary: { equal: ['/usr/bin/nc'] }, parentBinary: { equal: ['/usr/sbin/sshd'] } }, action: 'kill-in-kernel' },
          { name: 'suffix', event: 'file', match: { path: { suffix: ['/shadow'] } }, action: 'kill-in-kernel' },
          { name: 'unlink', event: 'file', match: { path: { equal: ['/etc/passwd'] }, op: ['unlink'] }, action: 'kill-in-kernel' },
          { name: 'open-and-unlink', event: 'file', match: { path: { equal: ['/etc/passwd'] }, op: ['open', 'unlink'] }, action: 'kill-in-kernel' },
          { name: 'killed-later', event: 'exec', match: { binary: { equal: ['/usr/bin/nc'] } }, action: 'kill' },
          { name: 'module', event: 'module', match: { op: ['load'] }, action: 'kill-in-kernel' },
        ],
      }),
    );
    assert.deepEqual(
      result.identityRules.map((r) => r.rule),
      ['open-and-unlink'],
    );
    const pods = compilePolicy(make({ selector: { namespaces: ['shop'] }, rules: [{ name: 'nc', event: 'exec', match: { binary: { equal: ['/usr/bin/nc'] } }, action: 'kill-in-kernel' }] }));
    assert.deepEqual(pods.identityRules, [], 'a namespace selector is not seen at the open');
    const monitored = compilePolicy(make({ mode: 'monitor', rules: [{ name: 'd', event: 'exec', match: { binary: { equal: ['/usr/bin/nc'] } }, action: 'deny' }] }));
    assert.deepEqual(monitored.identityRules, [], 'monitor mode never acts');
    assert.deepEqual(monitored.kernelRules.map((r) => [r.event, r.action]), [['exec', 'audit']]);
  });

  test('a deny rule is enforced by file identity only: no kernel kill, no pipeline rule, audit watches on its paths', () => {
    const digest = 'ab'.repeat(32);
    const result = compilePolicy(
      make({
        selector: { host: false },
        rules: [
          {
            name: 'ssh-keys',
            event: 'file',
            match: { path: { prefix: ['/etc/ssh/'] }, binary: { prefix: ['/usr/bin/'] }, uid: ['1000-1999'], access: ['read'] },
            exclude: { path: { suffix: ['.pub'] }, binary: { equal: ['/usr/sbin/sshd'] }, uid: [0] },
            action: 'deny',
          },
          { name: 'nc-copy', event: 'exec', match: { sha256: [digest] }, action: 'deny' },
        ],
      }),
    );
    const ids = { ssh: ruleIdOf('p', 'ssh-keys'), nc: ruleIdOf('p', 'nc-copy') };
    assert.deepEqual(result.kernelRules, []);
    assert.deepEqual(result.pipelineRules, []);
    assert.deepEqual(result.reports, []);
    assert.deepEqual(result.watchRules, [
      { ruleId: ids.ssh, policy: 'p', rule: 'ssh-keys', scope: 'pods', event: 'file', match: { kind: 'prefix', path: '/etc/ssh/' }, ops: ['open'], action: 'audit' },
    ]);
    assert.deepEqual(result.identityRules, [
      {
        ruleId: ids.ssh,
        policy: 'p',
        rule: 'ssh-keys',
        scope: 'pods',
        event: 'file',
        action: 'deny',
        targets: [{ kind: 'prefix', path: '/etc/ssh/' }],
        sha256: [],
        binary: { equal: [], prefix: ['/usr/bin/'], suffix: [] },
        uid: [{ low: 1000, high: 1999 }],
        access: ['read'],
        exclude: { path: { equal: [], prefix: [], suffix: ['.pub'] }, binary: { equal: ['/usr/sbin/sshd'], prefix: [], suffix: [] }, uid: [{ low: 0, high: 0 }] },
      },
      { ruleId: ids.nc, policy: 'p', rule: 'nc-copy', scope: 'pods', event: 'exec', action: 'deny', targets: [], sha256: [digest], exclude: {} },
    ]);
    assert.deepEqual(
      result.compiled.rules.map((r) => [r.name, r.action, r.match.map((c) => `${c.field} ${c.operator}`)]),
      [
        ['ssh-keys', 'deny', ['binary prefix', 'uid range', 'path prefix', 'op equal', 'access equal', 'binary not_equal', 'uid not_equal', 'path not_suffix']],
        ['nc-copy', 'deny', ['sha256 equal']],
      ],
    );
  });

  test("only a pipeline kill's watches keep their records: not an audit rule's, a monitored kill's or a deny rule's", () => {
    const rules = [
      { name: 'kill-dial', event: 'connect', match: { daddr: ['10.1.0.0/16'], uid: [1000] }, action: 'kill' },
      { name: 'audit-read', event: 'file', match: { path: { equal: ['/etc/y'] }, access: ['read'] }, action: 'audit' },
      { name: 'deny-read', event: 'file', match: { path: { equal: ['/etc/z'] } }, action: 'deny' },
    ];
    const keeps = (mode: string): [string, string, boolean][] =>
      compilePolicy(make({ mode, rules })).watchRules.map((r) => [r.rule, r.event, r.keepRecords === true]);
    assert.deepEqual(keeps('enforce'), [
      ['kill-dial', 'connect', true],
      ['audit-read', 'file', false],
      ['deny-read', 'file', false],
    ]);
    assert.deepEqual(
      keeps('monitor').filter(([rule]) => rule !== 'deny-read'),
      [
        ['kill-dial', 'connect', false],
        ['audit-read', 'file', false],
      ],
    );
  });

  test('monitor mode turns kernel kills into kernel audits', () => {
    const result = compilePolicy(make({ mode: 'monitor', rules: [{ name: 'm', event: 'module', match: { op: ['load'] }, action: 'kill-in-kernel' }] }));
    assert.deepEqual(result.kernelRules.map((r) => [r.event, r.action, r.event === 'module' ? r.ops : null]), [['module', 'audit', ['load']]]);
    assert.equal(result.compiled.rules[0]?.action, 'kill_in_kernel', 'the record keeps the rule as written; mode says not to act');
  });

  test('ranges, ids and symbols become MatchConditions in text form', () => {
    const result = compilePolicy(
      make({
        rules: [
          { name: 'a', event: 'connect', match: { dport: [22, '8000-8080'], uid: [0, '1000-1999'], binary: { prefix: ['/usr/'] } }, action: 'audit' },
          { name: 'b', event: 'capset', match: { capabilities: ['CAP_SYS_ADMIN', 'CAP_BPF'] }, action: 'audit', severity: 'critical', tags: ['T1068'] },
        ],
      }),
      { compiledAtNs: AT, generation: 7 },
    );
    assert.deepEqual(result.compiled.rules[0]?.match, [
      { field: 'binary', operator: 'prefix', values: ['/usr/'] },
      { field: 'uid', operator: 'range', values: ['0-0', '1000-1999'] },
      { field: 'dport', operator: 'range', values: ['22-22', '8000-8080'] },
    ]);
    assert.deepEqual(result.compiled.rules[1]?.match, [{ field: 'capabilities', operator: 'equal', values: ['CAP_SYS_ADMIN', 'CAP_BPF'] }]);
    assert.equal(result.compiled.generation, 7n);
    assert.deepEqual(roundTrip(result.compiled), result.compiled);
  });

  test('rule ids are stable across compilations and distinct across rules and policies', () => {
    const ids = (p: TracingPolicy): number[] => [...new Set([...compilePolicy(p).kernelRules, ...compilePolicy(p).pipelineRules].map((r: KernelRule | { ruleId: number }) => r.ruleId))];
    const names = ['deny-shadow-read', 'deny-binary', 'deny-egress-metadata', 'no-new-netns', 'audit-ptrace'];
    const all = names.flatMap((n) => ids(fixture(n)));
    assert.deepEqual(names.flatMap((n) => ids(fixture(n))), all, 'same input, same ids');
    assert.equal(new Set(all).size, 6, 'six rules, six ids');
    assert.ok(all.every((id) => Number.isInteger(id) && id > 0 && id <= 0xffffffff));
  });

  test('uses the registry it is given, and reports the collisions it meets', () => {
    const registry = new RuleIdRegistry();
    const holder = registry.assign({ policy: 'p', rule: 'rule-356605' });
    const result = compilePolicy(make({ rules: [{ name: 'rule-1152310', event: 'module', action: 'audit' }] }), { ruleIds: registry });
    assert.equal(ruleIdOf('p', 'rule-1152310'), holder, 'the two names hash alike');
    assert.deepEqual(result.collisions, [{ ruleId: holder, holder: { policy: 'p', rule: 'rule-356605' }, requested: { policy: 'p', rule: 'rule-1152310' }, assigned: holder + 1 }]);
    assert.equal(result.kernelRules[0]?.ruleId, holder + 1);
  });
});
