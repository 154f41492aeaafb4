import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PolicyValidationError, type PolicyIssue } from './errors.ts';
import { validatePolicy } from './validate-policy.ts';

/** A valid cluster-wide policy with one file rule; `patch` replaces parts of it. */
function policy(patch: { metadata?: unknown; spec?: Record<string, unknown>; rule?: Record<string, unknown>; top?: Record<string, unknown> } = {}): unknown {
  return {
    apiVersion: 'stinger.io/v1alpha1',
    kind: 'TracingPolicy',
    metadata: patch.metadata ?? { name: 'p' },
    spec: {
      rules: [{ name: 'r', event: 'file', match: { path: { equal: ['/etc/shadow'] } }, action: 'audit', ...patch.rule }],
      ...patch.spec,
    },
    ...patch.top,
  };
}

function issuesOf(value: unknown): PolicyIssue[] {
  try {
    validatePolicy(value);
  } catch (error) {
    assert.ok(error instanceof PolicyValidationError);
    return [...error.issues];
  }
  assert.fail('expected a PolicyValidationError');
}

/** `path: message` lines, as a user reads them. */
const lines = (value: unknown): string[] => issuesOf(value).map((i) => `${i.path}: ${i.message}`);

describe('validatePolicy', () => {
  test('accepts a minimal policy and fills in the defaults', () => {
    const { policy: p, warnings } = validatePolicy(policy());
    assert.deepEqual(warnings, []);
    assert.equal(p.spec.mode, 'enforce');
    assert.deepEqual(p.spec.selector, { podSelector: null, namespaces: [], containerName: null, host: null, pids: null });
    assert.deepEqual(p.spec.rules[0], { name: 'r', event: 'file', match: { path: { equal: ['/etc/shadow'], prefix: [], suffix: [] } }, action: 'audit', severity: 'medium', tags: [], exclude: {}, sequence: null });
    assert.deepEqual(p.metadata, { name: 'p', namespace: null, uid: null, generation: null });
  });

  test('a sequence rule: steps, window and correlations checked field by field', () => {
    const seq = (sequence: unknown, extra: Record<string, unknown> = {}) =>
      lines({ apiVersion: 'stinger.io/v1alpha1', kind: 'TracingPolicy', metadata: { name: 'p' }, spec: { rules: [{ name: 's', sequence, action: 'kill', ...extra }] } });
    const valid = { apiVersion: 'stinger.io/v1alpha1', kind: 'TracingPolicy', metadata: { name: 'p' } };
    const ok = validatePolicy({ ...valid, spec: { rules: [{ name: 's', action: 'kill', sequence: { within: '30s', steps: [{ event: 'file', match: { path: { prefix: ['/tmp/'] } } }, { event: 'exec', sameAs: { binary: 'path' } }] } }] } });
    assert.equal(ok.policy.spec.rules[0]?.event, 'exec');
    assert.equal(ok.policy.spec.rules[0]?.sequence?.withinMs, 30_000);
    assert.deepEqual(seq({ within: '30s', steps: [{ event: 'exec' }] }), ['spec.rules[0].sequence.steps: holds 1 steps; a sequence has 2 to 8']);
    assert.deepEqual(seq({ within: '1h', steps: [{ event: 'exec' }, { event: 'exec' }] }), ['spec.rules[0].sequence.within: "1h" is not a duration (a whole number with ms, s or m, e.g. 30s)']);
    assert.deepEqual(seq({ within: '11m', steps: [{ event: 'exec' }, { event: 'exec' }] }), [
      'spec.rules[0].sequence.within: "11m" is outside 1s..10m (the detector keeps, and after a restart re-reads, that much history)',
    ]);
    assert.deepEqual(seq({ within: '5s', by: 'node', steps: [{ event: 'exec', sameAs: { binary: 'binary' } }, { event: 'connect', sameAs: { path: 'binary', daddr: 'path' } }] }), [
      'spec.rules[0].sequence.by: "node" is not one of process, processTree, pod (did you mean "pod"?)',
      'spec.rules[0].sequence.steps[0].sameAs: not allowed on the first step (there is no previous step)',
      'spec.rules[0].sequence.steps[1].sameAs.path: not a field of event connect that can be correlated (allowed: binary, parentBinary, daddr)',
      'spec.rules[0].sequence.steps[1].sameAs.daddr: "path" is not a field of the previous step\'s event exec that can be correlated (allowed: binary, parentBinary)',
    ]);
    assert.deepEqual(seq({ within: '5s', steps: [{ event: 'exec' }, { event: 'exec' }] }, { event: 'exec' }), [
      'spec.rules[0].event: not allowed beside sequence (a sequence rule names its events and conditions in its steps)',
    ]);
    assert.deepEqual(
      seq({ within: '5s', steps: [{ event: 'exec' }, { event: 'connect' }] }, { action: 'deny-connect' }),
      ['spec.rules[0].action: deny-connect does not apply to a sequence (its last event has happened when the sequence is complete; use kill)'],
    );
  });

  test('reports every problem of a document at once, each with its field path', () => {
    const got = lines({
      apiVersion: 'stinger.io/v1',
      kind: 'TracingPolicy',
      metadata: { name: 'p' },
      spec: {
        mode: 'block',
        rules: [
          { name: 'a', event: 'connect', match: { dport: ['http'] }, action: 'deny-connect' },
          { name: 'b', event: 'exe', action: 'audit' },
        ],
      },
    });
    assert.deepEqual(got, [
      'apiVersion: "stinger.io/v1" is not supported (expected "stinger.io/v1alpha1")',
      'spec.mode: "block" is not one of enforce, monitor',
      'spec.rules[0].match.dport[0]: "http" is not a port number (1-65535)',
      'spec.rules[1].event: "exe" is not one of exec, file, connect, accept, listen, privilege, capset, namespace, module, ptrace, bpf, mount, egress (did you mean "exec"?)',
    ]);
  });

  test('the error message lists the issues', () => {
    assert.throws(() => validatePolicy(policy({ spec: { mode: 'x' } })), {
      name: 'PolicyValidationError',
      message: 'invalid policy (1 problem):\n  spec.mode: "x" is not one of enforce, monitor',
    });
  });

  const cases: [string, unknown, string][] = [
    ['document not a mapping', ['a'], ': expected a mapping (a TracingPolicy object), got a list'],
    ['unknown top-level key', policy({ top: { specs: {} } }), 'specs: unknown key (did you mean "spec"?)'],
    ['missing apiVersion', { kind: 'TracingPolicy', metadata: { name: 'p' }, spec: { rules: [{ name: 'r', event: 'module', action: 'audit' }] } }, 'apiVersion: required'],
    ['unknown kind', policy({ top: { kind: 'Policy' } }), 'kind: "Policy" is not one of TracingPolicy, TracingPolicyNamespaced'],
    ['missing metadata', policy({ top: { metadata: undefined } }), 'metadata: required'],
    ['missing name', policy({ metadata: {} }), 'metadata.name: required'],
    [
      'name not DNS-1123',
      policy({ metadata: { name: 'Deny_Shadow' } }),
      `metadata.name: "Deny_Shadow" is not a DNS-1123 subdomain (lower-case letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters)`,
    ],
    ['name not a string', policy({ metadata: { name: 42 } }), 'metadata.name: expected a string, got a number (42)'],
    ['unknown metadata key', policy({ metadata: { name: 'p', lables: {} } }), 'metadata.lables: unknown key (did you mean "labels"?)'],
    [
      'namespace on a cluster-wide policy',
      policy({ metadata: { name: 'p', namespace: 'default' } }),
      'metadata.namespace: not allowed on a cluster-wide TracingPolicy (use kind TracingPolicyNamespaced)',
    ],
    ['namespaced without namespace', policy({ top: { kind: 'TracingPolicyNamespaced' } }), 'metadata.namespace: required for a TracingPolicyNamespaced'],
    ['missing spec', policy({ top: { spec: undefined } }), 'spec: required'],
    ['spec not a mapping', policy({ top: { spec: 'x' } }), 'spec: expected a mapping, got a string ("x")'],
    ['missing rules', policy({ top: { spec: {} } }), 'spec.rules: required (or a rego module)'],
    ['empty rules', policy({ top: { spec: { rules: [] } } }), 'spec.rules: must hold at least one rule (or the policy a rego module)'],
    ['rules not a list', policy({ top: { spec: { rules: {} } } }), 'spec.rules: expected a list, got a mapping'],
    ['unknown selector key', policy({ spec: { selector: { podSelecter: {} } } }), 'spec.selector.podSelecter: unknown key (did you mean "podSelector"?)'],
    ['host not a boolean', policy({ spec: { selector: { host: 'yes' } } }), 'spec.selector.host: expected a boolean, got a string ("yes")'],
    [
      'host: true with pod fields',
      policy({ spec: { selector: { host: true, namespaces: ['a'], containerName: 'c' } } }),
      'spec.selector.host: true (host processes only) contradicts namespaces, containerName, which select pods',
    ],
    ['bad label value', policy({ spec: { selector: { podSelector: { matchLabels: { app: 'a b' } } } } }), 'spec.selector.podSelector.matchLabels.app: "a b" is not a label value'],
    [
      'NotIn expression',
      policy({ spec: { selector: { podSelector: { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['x'] }] } } } }),
      'spec.selector.podSelector.matchExpressions[0]: NotIn cannot be carried by the compiled policy yet (only In with one value, which is a matchLabels entry)',
    ],
    [
      'In without values',
      policy({ spec: { selector: { podSelector: { matchExpressions: [{ key: 'app', operator: 'In' }] } } } }),
      'spec.selector.podSelector.matchExpressions[0].values: must not be empty for operator In',
    ],
    ['missing rule name', policy({ rule: { name: undefined } }), 'spec.rules[0].name: required'],
    ['missing event', policy({ rule: { event: undefined, match: undefined } }), 'spec.rules[0].event: required (or a sequence)'],
    ['missing action', policy({ rule: { action: undefined } }), 'spec.rules[0].action: required'],
    ['unknown rule key (typo)', policy({ rule: { severty: 'high' } }), 'spec.rules[0].severty: unknown key (did you mean "severity"?)'],
    ['unknown action', policy({ rule: { action: 'kill_in_kernel' } }), 'spec.rules[0].action: "kill_in_kernel" is not one of audit, kill-in-kernel, kill, deny-connect, deny (did you mean "kill-in-kernel"?)'],
    ['unknown severity', policy({ rule: { severity: 'urgent' } }), 'spec.rules[0].severity: "urgent" is not one of info, low, medium, high, critical'],
    ['deny-connect on file', policy({ rule: { action: 'deny-connect' } }), 'spec.rules[0].action: deny-connect applies only to event connect, not file'],
    [
      'match field of another event',
      policy({ rule: { match: { path: { equal: ['/etc/shadow'] }, daddr: ['10.0.0.0/8'] } } }),
      'spec.rules[0].match.daddr: not a match field of event "file" (allowed: binary, parentBinary, uid, path, op, access)',
    ],
    ['unknown match key', policy({ rule: { match: { pth: { equal: ['/a'] } } } }), 'spec.rules[0].match.pth: unknown key (did you mean "path"?)'],
    ['relative path', policy({ rule: { match: { path: { equal: ['etc/shadow'] } } } }), 'spec.rules[0].match.path.equal[0]: "etc/shadow" is not an absolute path'],
    ['empty string match', policy({ rule: { match: { path: {} } } }), 'spec.rules[0].match.path: set one of equal, prefix, suffix'],
    [
      'two operators in one string match',
      policy({ rule: { match: { path: { equal: ['/a'], prefix: ['/b/'] } } } }),
      'spec.rules[0].match.path: set only one of equal, prefix, suffix, not equal and prefix (the compiled policy ANDs conditions; write one rule per operator)',
    ],
    ['unknown string match key', policy({ rule: { match: { path: { equals: ['/a'] } } } }), 'spec.rules[0].match.path.equals: unknown key (did you mean "equal"?)'],
    ['empty path', policy({ rule: { match: { path: { equal: [''] } } } }), 'spec.rules[0].match.path.equal[0]: must not be empty'],
    ['unknown file op', policy({ rule: { match: { op: ['opn'] } } }), 'spec.rules[0].match.op[0]: "opn" is not one of open, read, write, unlink, rename, link, symlink, chmod, chown, truncate, mkdir, rmdir, close (did you mean "open"?)'],
    ['empty value list', policy({ rule: { match: { op: [] } } }), 'spec.rules[0].match.op: must not be empty (leave the field out to match any value)'],
    ['port out of range', policy({ rule: { event: 'connect', match: { dport: [0] } } }), 'spec.rules[0].match.dport[0]: 0 is not a port number (1-65535)'],
    [
      'inverted port range',
      policy({ rule: { event: 'connect', match: { dport: ['8080-8000'] } } }),
      'spec.rules[0].match.dport[0]: "8080-8000" is not a port range (low-high with 1 <= low <= high <= 65535)',
    ],
    [
      'bad CIDR',
      policy({ rule: { event: 'connect', match: { daddr: ['10.0.0.0/33'] } } }),
      'spec.rules[0].match.daddr[0]: "10.0.0.0/33" is not a CIDR (IPv4 a.b.c.d/0-32 or IPv6 x:y::z/0-128, or a bare address)',
    ],
    ['bad uid', policy({ rule: { match: { uid: ['root'] } } }), 'spec.rules[0].match.uid[0]: "root" is not a uid (0-4294967294)'],
    [
      'capability typo',
      policy({ rule: { event: 'capset', match: { capabilities: ['CAP_SYS_ADMN'] } } }),
      'spec.rules[0].match.capabilities[0]: "CAP_SYS_ADMN" is not a capability name (did you mean "CAP_SYS_ADMIN"?)',
    ],
    [
      'unknown namespace type',
      policy({ rule: { event: 'namespace', match: { namespaces: ['network'] } } }),
      'spec.rules[0].match.namespaces[0]: "network" is not one of cgroup, ipc, mnt, net, pid, time, user, uts',
    ],
    ['bad ptrace request', policy({ rule: { event: 'ptrace', match: { request: ['attach'] } } }), 'spec.rules[0].match.request[0]: "attach" is not a PTRACE_* request name'],
    ['tags not a list', policy({ rule: { tags: 'T1003' } }), 'spec.rules[0].tags: expected a list, got a string ("T1003")'],
    ['a pid that is not one', policy({ spec: { selector: { pids: { values: [0, 12] } } } }), 'spec.selector.pids.values[0]: 0 is not a pid (1-4194303)'],
    ['pids without values', policy({ spec: { selector: { pids: { followChildren: true } } } }), 'spec.selector.pids.values: required'],
    ['a pid namespace that is not one', policy({ spec: { selector: { pids: { values: [1], namespace: 'containr' } } } }), 'spec.selector.pids.namespace: "containr" is not one of host, container (did you mean "container"?)'],
    ['a pid namespace that is not a string', policy({ spec: { selector: { pids: { values: [1], namespace: true } } } }), 'spec.selector.pids.namespace: true is not one of host, container'],
    [
      'container pids on host processes only',
      policy({ spec: { selector: { host: true, pids: { values: [1], namespace: 'container' } } } }),
      'spec.selector.pids.namespace: container (pids as a container sees them) contradicts host: true, which selects host processes only',
    ],
    ['a misspelt pid selector key', policy({ spec: { selector: { pids: { values: [1], isNamespacePID: true } } } }), 'spec.selector.pids.isNamespacePID: unknown key (allowed: values, followChildren, namespace)'],
    ['a rego module without package', policy({ spec: { rego: { module: 'allow := true', entrypoint: 'stinger/alerts', events: ['exec'] } } }), 'spec.rego.module: has no package declaration'],
    ['a rego entrypoint that is no rule path', policy({ spec: { rego: { module: 'package stinger', entrypoint: 'alerts', events: ['exec'] } } }), 'spec.rego.entrypoint: "alerts" is not a rule path (package segments and rule name joined by "/", e.g. stinger/alerts)'],
    ['rego asking for a kernel action', policy({ spec: { rego: { module: 'package stinger', entrypoint: 'stinger/alerts', events: ['exec'], action: 'kill-in-kernel' } } }), 'spec.rego.action: "kill-in-kernel" is not one of audit, kill'],
    ['rego without events', policy({ spec: { rego: { module: 'package stinger', entrypoint: 'stinger/alerts' } } }), 'spec.rego.events: required (the event kinds the module is evaluated on: exec, file, connect, accept, listen, privilege, capset, namespace, module, ptrace, bpf, mount, egress)'],
  ];
  for (const [name, value, expected] of cases) {
    test(`reports ${name}`, () => {
      assert.ok(lines(value).includes(expected), `expected "${expected}" in:\n${lines(value).join('\n')}`);
    });
  }

  test('a policy of a rego module alone has no rules; pids select processes with or without their children', () => {
    const { policy: p } = validatePolicy(policy({ spec: { rules: [], selector: { pids: { values: [42, 42, 7], followChildren: true } }, rego: { module: 'package stinger\n', entrypoint: 'stinger/alerts', events: ['exec', 'file'] } } }));
    assert.deepEqual(p.spec.rules, []);
    assert.deepEqual(p.spec.rego, { module: 'package stinger\n', entrypoint: 'stinger/alerts', events: ['exec', 'file'], action: 'audit' });
    assert.deepEqual(p.spec.selector.pids, { values: [42, 7], followChildren: true, namespace: 'host' });
  });

  test('pids as a container sees them: namespace container, beside the pod and container selector that says which', () => {
    const { policy: p } = validatePolicy(
      policy({ spec: { selector: { podSelector: { matchLabels: { app: 'web' } }, containerName: 'nginx', pids: { values: [1], namespace: 'container', followChildren: true } } } }),
    );
    assert.deepEqual(p.spec.selector.pids, { values: [1], followChildren: true, namespace: 'container' });
    assert.equal(p.spec.selector.containerName, 'nginx');
    const { policy: host } = validatePolicy(policy({ spec: { selector: { pids: { values: [1], namespace: 'host' } } } }));
    assert.deepEqual(host.spec.selector.pids, { values: [1], followChildren: false, namespace: 'host' });
  });

  test('reports a duplicate rule name against the first use', () => {
    const value = policy({
      top: {
        spec: {
          rules: [
            { name: 'r', event: 'module', action: 'audit' },
            { name: 'r', event: 'bpf', action: 'audit' },
          ],
        },
      },
    });
    assert.deepEqual(lines(value), ['spec.rules[1].name: "r" is already the name of spec.rules[0]']);
  });

  test('a TracingPolicyNamespaced must not name other namespaces or host processes', () => {
    const value = {
      apiVersion: 'stinger.io/v1alpha1',
      kind: 'TracingPolicyNamespaced',
      metadata: { name: 'p', namespace: 'payments' },
      spec: { selector: { namespaces: ['other'], host: true }, rules: [{ name: 'r', event: 'module', action: 'audit' }] },
    };
    assert.deepEqual(lines(value), [
      'spec.selector.namespaces: not allowed on a TracingPolicyNamespaced (it applies only to its own namespace "payments")',
      'spec.selector.host: true is not allowed on a TracingPolicyNamespaced (it applies only to pods of its namespace)',
      'spec.selector.host: true (host processes only) contradicts namespaces, which select pods',
    ]);
  });

  test('normalises paths and CIDRs and reports each normalisation as a warning', () => {
    const { policy: p, warnings } = validatePolicy(
      policy({
        top: {
          spec: {
            rules: [
              { name: 'a', event: 'file', match: { path: { equal: ['/etc//./shadow', '/var/../etc/passwd/'] } }, action: 'audit' },
              { name: 'b', event: 'file', match: { path: { prefix: ['/etc/ssh/./'] } }, action: 'audit' },
              { name: 'c', event: 'connect', match: { daddr: ['10.1.2.3/8', '2001:DB8::/32', '192.168.0.1'], dport: [443, '8000-8080', '22'] }, action: 'audit' },
            ],
          },
        },
      }),
    );
    assert.deepEqual(p.spec.rules[0]?.match.path?.equal, ['/etc/shadow', '/etc/passwd']);
    assert.deepEqual(p.spec.rules[1]?.match.path?.prefix, ['/etc/ssh/'], 'a prefix keeps its trailing slash');
    assert.deepEqual(p.spec.rules[2]?.match.daddr, ['10.0.0.0/8', '2001:db8::/32', '192.168.0.1/32']);
    assert.deepEqual(p.spec.rules[2]?.match.dport, [
      { low: 443, high: 443 },
      { low: 8000, high: 8080 },
      { low: 22, high: 22 },
    ]);
    assert.deepEqual(
      warnings.map((w) => `${w.path}: ${w.message}`),
      [
        'spec.rules[0].match.path.equal[0]: "/etc//./shadow" normalised to "/etc/shadow"',
        'spec.rules[0].match.path.equal[1]: "/var/../etc/passwd/" normalised to "/etc/passwd"',
        'spec.rules[1].match.path.prefix[0]: "/etc/ssh/./" normalised to "/etc/ssh/"',
        'spec.rules[2].match.daddr[0]: "10.1.2.3/8" normalised to "10.0.0.0/8" (host bits cleared)',
      ],
    );
  });

  test('accepts the ObjectMeta fields an API server adds, and keeps uid and generation', () => {
    const { policy: p } = validatePolicy(
      policy({ metadata: { name: 'p', uid: 'abc', generation: 3, resourceVersion: '9', managedFields: [], creationTimestamp: '2026-01-01T00:00:00Z' }, top: { status: {} } }),
    );
    assert.equal(p.metadata.uid, 'abc');
    assert.equal(p.metadata.generation, 3);
  });

  test('sha256: exec only, exactly 64 hex digits, stored lower case; a bad value is named by its index', () => {
    const digest = '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08';
    const { policy: p } = validatePolicy(policy({ rule: { event: 'exec', match: { sha256: [digest.toUpperCase(), digest] } } }));
    assert.deepEqual(p.spec.rules[0]?.match.sha256, [digest]);
    assert.deepEqual(lines(policy({ rule: { event: 'exec', match: { sha256: [digest, digest.slice(1), `${digest.slice(1)}g`, 42] } } })), [
      `spec.rules[0].match.sha256[1]: "${digest.slice(1)}" is not a SHA-256 digest (exactly 64 hex digits)`,
      `spec.rules[0].match.sha256[2]: "${digest.slice(1)}g" is not a SHA-256 digest (exactly 64 hex digits)`,
      'spec.rules[0].match.sha256[3]: 42 is not a SHA-256 digest (exactly 64 hex digits)',
    ]);
    assert.deepEqual(lines(policy({ rule: { match: { path: { equal: ['/etc/shadow'] }, sha256: [digest] } } })), [
      'spec.rules[0].match.sha256: not a match field of event "file" (allowed: binary, parentBinary, uid, path, op, access)',
    ]);
  });

  test('deny: file opens and execs, with op open filled in for a file rule', () => {
    const file = validatePolicy(policy({ rule: { action: 'deny', match: { path: { prefix: ['/etc/ssh/'] }, binary: { equal: ['/usr/bin/cat'] }, uid: [1000], access: ['read'] }, exclude: { path: { suffix: ['.pub'] } } } }));
    assert.deepEqual(file.policy.spec.rules[0]?.match.op, ['open']);
    assert.equal(file.policy.spec.rules[0]?.action, 'deny');
    const exec = validatePolicy(policy({ spec: { selector: { host: false } }, rule: { event: 'exec', action: 'deny', match: { binary: { prefix: ['/tmp/'] } }, exclude: { uid: [0] } } }));
    assert.equal(exec.policy.spec.rules[0]?.match.op, undefined);
    assert.deepEqual(lines(policy({ rule: { event: 'connect', action: 'deny', match: {} } })), [
      'spec.rules[0].action: deny applies only to events file (open) and exec, not connect (the agent refuses opens and execs of the files it marks)',
    ]);
  });

  test('deny refuses what the agent cannot decide at the open, naming each field', () => {
    assert.deepEqual(
      lines(
        policy({
          rule: {
            action: 'deny',
            match: { path: { suffix: ['/shadow'] }, parentBinary: { equal: ['/usr/sbin/sshd'] }, op: ['open', 'unlink'] },
            exclude: { binary: { suffix: ['/sshd'] }, access: ['write'] },
          },
        }),
      ),
      [
        'spec.rules[0].match.op: action deny applies to open only (the open fails with EPERM); write another rule for unlink',
        'spec.rules[0].match.parentBinary: action deny is decided at the open by the agent, which cannot see parentBinary',
        'spec.rules[0].match.path.suffix: action deny is decided by file identity, which takes equal and prefix paths only',
        'spec.rules[0].exclude.access: action deny is decided by file identity, whose exclusions take path, binary, uid only',
        'spec.rules[0].exclude.binary.suffix: action deny is decided by file identity, which takes equal and prefix binaries only',
      ],
    );
    assert.deepEqual(lines(policy({ rule: { event: 'exec', action: 'deny', match: { uid: [1000] } } })), [
      'spec.rules[0].match: action deny needs binary (equal or prefix) or sha256: the binaries the agent marks or the digests it checks',
    ]);
    assert.deepEqual(lines(policy({ rule: { action: 'deny', match: { binary: { equal: ['/usr/bin/cat'] } } } })), [
      'spec.rules[0].match.path: required for action deny (the agent marks the files it names, by equal or prefix)',
    ]);
  });

  test('deny refuses a pod selector, a pid selector, a namespaced policy and a sequence', () => {
    assert.deepEqual(lines(policy({ spec: { selector: { podSelector: { matchLabels: { app: 'a' } }, namespaces: ['shop'] } }, rule: { action: 'deny' } })), [
      'spec.selector.podSelector: action deny (spec.rules[0]) is decided at the open by the agent, which cannot see podSelector (of the selector, only host)',
      'spec.selector.namespaces: action deny (spec.rules[0]) is decided at the open by the agent, which cannot see namespaces (of the selector, only host)',
    ]);
    assert.deepEqual(lines(policy({ spec: { selector: { pids: { values: [42], followChildren: true } } }, rule: { action: 'deny' } })), [
      'spec.selector.pids: action deny (spec.rules[0]) is decided at the open by the agent, which cannot see pids (a file mark holds for every process)',
    ]);
    assert.deepEqual(lines(policy({ top: { kind: 'TracingPolicyNamespaced' }, metadata: { name: 'p', namespace: 'shop' }, rule: { action: 'deny' } })), [
      "kind: action deny (spec.rules[0]) is decided at the open by the agent, which cannot see a pod's namespace: use a cluster-wide TracingPolicy with selector.host",
    ]);
    const sequence = { within: '30s', steps: [{ event: 'file', match: { path: { prefix: ['/tmp/'] } } }, { event: 'exec' }] };
    assert.deepEqual(lines({ apiVersion: 'stinger.io/v1alpha1', kind: 'TracingPolicy', metadata: { name: 'p' }, spec: { rules: [{ name: 's', sequence, action: 'deny' }] } }), [
      'spec.rules[0].sequence: action deny is decided at the open by the agent, which cannot see a sequence of events',
    ]);
  });
});
