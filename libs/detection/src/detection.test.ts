import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { NO_FLOW, type CompiledPolicy, type Event } from '@stinger/events';
import { sampleEvent, type SampleEventOptions } from '@stinger/testing';
import { ConditionError, DetectionRules, fileAccessOf, PartitionDetector } from './index.ts';
import { compiledPolicies, rulesOf } from './test-rules.ts';

const SECOND = 1_000_000_000n;
const T0 = 1_800_000_000n * SECOND;

const policy = (rules: string, extra = '') => `
apiVersion: stinger.io/v1alpha1
kind: TracingPolicy
metadata: { name: p }
spec:
${extra}
  rules:
${rules}`;

const file = (path: string, options: SampleEventOptions & { op?: 'open' | 'unlink'; flags?: number } = {}): Event =>
  sampleEvent({
    ...options,
    kind: 'file',
    payload: { group: 'file', op: options.op ?? 'open', path, path_as_given: path, new_path: null, flags: options.flags ?? 0, mode: null, result: 3, reached_by: null, io: null },
  });
const connect = (daddr: string, dport: number, options: SampleEventOptions = {}): Event =>
  sampleEvent({ ...options, kind: 'connect', payload: { group: 'network', family: daddr.includes(':') ? 'inet6' : 'inet', protocol: 'tcp', saddr: null, sport: null, daddr, dport, result: 0, bytes: null, ...NO_FLOW } });
const exec = (binary: string, options: SampleEventOptions = {}): Event =>
  sampleEvent({ ...options, kind: 'exec', process: { binary, ...options.process }, payload: { group: 'exec', filename: binary, euid: 0n, egid: 0n, secure_exec: false, args_truncated: false, sha256: null, reached_by: null } });
const pod = (uid: string, namespace = 'shop', labels: Record<string, string> = {}): NonNullable<Event['pod']> => ({
  namespace,
  name: `pod-${uid}`,
  uid,
  labels,
  annotations: {},
  workload: null,
  workload_kind: null,
  container: { id: 'c'.repeat(64), name: 'app', image: 'app:1' },
});

describe('conditions', () => {
  const match = (rule: string, event: Event): boolean => new PartitionDetector({ rules: rulesOf(policy(rule)) }).observe(event, { emit: true }).length === 1;

  test('paths: equal, prefix and suffix; the resolved path and an absolute path as given both count', () => {
    assert.ok(match('    - { name: r, event: file, match: { path: { equal: [/etc/shadow] } }, action: audit }', file('/etc/shadow')));
    assert.ok(!match('    - { name: r, event: file, match: { path: { equal: [/etc/shadow] } }, action: audit }', file('/etc/shadow-')));
    assert.ok(match('    - { name: r, event: file, match: { path: { prefix: [/root/.ssh/] } }, action: audit }', file('/root/.ssh/id_rsa')));
    assert.ok(match('    - { name: r, event: file, match: { path: { suffix: [.pem] } }, action: audit }', file('/srv/tls/key.pem')));
    const viaLink = sampleEvent({ kind: 'file', payload: { group: 'file', op: 'open', path: '/etc/shadow', path_as_given: '/tmp/link', new_path: null, flags: 0, mode: null, result: 3, reached_by: null, io: null } });
    assert.ok(match('    - { name: r, event: file, match: { path: { equal: [/etc/shadow] } }, action: audit }', viaLink));
  });

  test('sha256: the digest the agent put in the exec payload, compared in lower case; none computed, no match', () => {
    const digest = 'ab'.repeat(32);
    const rule = `    - { name: r, event: exec, match: { sha256: [${digest}] }, action: deny }`;
    const withDigest = (sha256: string | null): Event => {
      const event = exec('/tmp/x');
      return { ...event, payload: { ...event.payload, group: 'exec', sha256 } as Event['payload'] };
    };
    assert.ok(match(rule, withDigest(digest)));
    assert.ok(match(rule, withDigest(digest.toUpperCase())));
    assert.ok(!match(rule, withDigest('cd'.repeat(32))));
    assert.ok(!match(rule, withDigest(null)));
  });

  test('access: open flags decide read and write; other operations write', () => {
    assert.deepEqual(fileAccessOf('open', 0), ['read']);
    assert.deepEqual(fileAccessOf('open', 0o1), ['write']);
    assert.deepEqual(fileAccessOf('open', 0o2), ['read', 'write']);
    assert.deepEqual(fileAccessOf('open', 0o101), ['write']);
    assert.deepEqual(fileAccessOf('open', 0o1000), ['read', 'write']);
    assert.deepEqual(fileAccessOf('unlink', 0), ['write']);
    assert.deepEqual(fileAccessOf('open', 0o10200000), [], 'O_PATH|O_DIRECTORY names the file without reading it');
    const rule = '    - { name: r, event: file, match: { path: { prefix: [/etc/] }, access: [write] }, action: audit }';
    assert.ok(match(rule, file('/etc/passwd', { flags: 0o1101 })));
    assert.ok(!match(rule, file('/etc/passwd', { flags: 0 })));
  });

  test('addresses and ports: CIDRs of both families, IPv4-mapped addresses, ranges', () => {
    const rule = '    - { name: r, event: connect, match: { daddr: [10.0.0.0/8, "fd00::/8"], dport: ["8000-8100", 22] }, action: audit }';
    assert.ok(match(rule, connect('10.1.2.3', 8080)));
    assert.ok(match(rule, connect('::ffff:10.1.2.3', 22)));
    assert.ok(match(rule, connect('fd12::1', 22)));
    assert.ok(!match(rule, connect('11.0.0.1', 22)));
    assert.ok(!match(rule, connect('10.0.0.1', 443)));
  });

  test('exclude: the rule holds only when none of its exclude fields match', () => {
    const rule = '    - { name: r, event: connect, match: { daddr: [10.0.0.0/8] }, exclude: { daddr: [10.244.0.0/16], dport: [53] }, action: audit }';
    assert.ok(match(rule, connect('10.1.2.3', 443)));
    assert.ok(!match(rule, connect('10.244.1.2', 443)), 'the pod network is excluded');
    assert.ok(!match(rule, connect('10.1.2.3', 53)), 'DNS is excluded');
  });

  test('process fields: parent binary and uid', () => {
    const rule = '    - { name: r, event: exec, match: { binary: { suffix: [/sh] }, parentBinary: { equal: [/usr/sbin/nginx] }, uid: ["1000-1999"] }, action: audit }';
    assert.ok(match(rule, exec('/bin/sh', { parent: { binary: '/usr/sbin/nginx' }, process: { uid: 1001n } })));
    assert.ok(!match(rule, exec('/bin/sh', { parent: { binary: '/usr/sbin/nginx' }, process: { uid: 0n } })));
    assert.ok(!match(rule, exec('/bin/sh', { parent: null, process: { uid: 1001n } })));
  });

  test('a record from another producer with a condition the detector cannot evaluate is refused whole', () => {
    const record = compiledPolicies(policy('    - { name: r, event: exec, action: audit }'))[0]!;
    const bad: CompiledPolicy = { ...record, rules: [{ ...record.rules[0]!, match: [{ field: 'uid', operator: 'range', values: ['x-y'] }] }] };
    const rules = new DetectionRules();
    rules.set('p', record);
    assert.throws(() => rules.set('p', bad), ConditionError);
    assert.equal(rules.single('exec').length, 1, 'the previous version stays in force');
  });
});

describe('selectors', () => {
  const detect = (extra: string, event: Event) =>
    new PartitionDetector({ rules: rulesOf(policy('    - { name: r, event: file, match: { path: { equal: [/etc/shadow] } }, action: audit }', extra)) }).observe(event, { emit: true }).length;

  test('host true/false tells host processes from containers, with or without pod metadata', () => {
    assert.equal(detect('  selector: { host: true }', file('/etc/shadow')), 1);
    assert.equal(detect('  selector: { host: true }', file('/etc/shadow', { process: { container_id: 'a'.repeat(64) } })), 0);
    assert.equal(detect('  selector: { host: false }', file('/etc/shadow', { process: { container_id: 'a'.repeat(64) } })), 1);
    assert.equal(detect('  selector: { host: false }', file('/etc/shadow', { pod: pod('u1') })), 1);
    assert.equal(detect('  selector: { host: false }', file('/etc/shadow')), 0);
  });

  test('labels, namespaces and container name need the pod, and all must match', () => {
    const selector = '  selector: { podSelector: { matchLabels: { app: web } }, namespaces: [shop], containerName: app }';
    assert.equal(detect(selector, file('/etc/shadow', { pod: pod('u1', 'shop', { app: 'web' }) })), 1);
    assert.equal(detect(selector, file('/etc/shadow', { pod: pod('u1', 'shop', { app: 'db' }) })), 0);
    assert.equal(detect(selector, file('/etc/shadow', { pod: pod('u1', 'other', { app: 'web' }) })), 0);
    assert.equal(detect(selector, file('/etc/shadow', { process: { container_id: 'a'.repeat(64) } })), 0, 'not enriched: unknown labels never match');
  });
});

describe('grouping', () => {
  const auditRule = '    - { name: r, event: file, match: { path: { equal: [/etc/shadow] } }, action: audit }';

  test('repeats within the window are counted into one later alert; the flush reports what is left', () => {
    const detector = new PartitionDetector({ rules: rulesOf(policy(auditRule)), groupWindowNs: 10n * SECOND });
    const at = (s: number, pid = 10) => file('/etc/shadow', { time: T0 + BigInt(s) * SECOND, process: { pid } });
    assert.deepEqual(detector.observe(at(0), { emit: true }).map((a) => a.count), [1]);
    for (let s = 1; s < 10; s++) assert.deepEqual(detector.observe(at(s, 10 + s), { emit: true }), []);
    const summary = detector.observe(at(12), { emit: true });
    assert.deepEqual(summary.map((a) => [a.count, a.first_seen_ns]), [[10, T0 + SECOND]]);
    assert.deepEqual(detector.observe(at(13), { emit: true }), []);
    detector.observe(exec('/bin/true', { time: T0 + 30n * SECOND }), { emit: true });
    assert.deepEqual(detector.flush({ emit: true }).map((a) => a.count), [1]);
    assert.equal(detector.stats().groups, 0);
  });

  test('acting rules group per process, so every offending process gets its own alert', () => {
    const killRule = '    - { name: r, event: file, match: { path: { equal: [/etc/shadow] } }, action: kill }';
    const detector = new PartitionDetector({ rules: rulesOf(policy(killRule)) });
    const alerts = [10, 11, 10].flatMap((pid) => detector.observe(file('/etc/shadow', { time: T0, process: { pid } }), { emit: true }));
    assert.deepEqual(alerts.map((a) => a.event.process.pid), [10, 11]);
  });

  test('deny rules act too: every process whose open a deny rule names gets its own alert, whether the node refused it or not', () => {
    const denyRule = '    - { name: r, event: file, match: { path: { equal: [/etc/shadow] } }, action: deny }';
    const detector = new PartitionDetector({ rules: rulesOf(policy(denyRule)) });
    // Not denied on the node (no action on the event): the rule's action alone makes the grouping per process.
    const alerts = [10, 11, 10].flatMap((pid) => detector.observe(file('/etc/shadow', { time: T0, process: { pid } }), { emit: true }));
    assert.deepEqual(alerts.map((a) => [a.event.process.pid, a.action]), [[10, 'deny'], [11, 'deny']]);
  });

  test('a process the kernel killed for the rule is grouped alone even after the rule switched to monitor', () => {
    const monitorKill = policy('    - { name: r, event: file, match: { path: { equal: [/etc/shadow] } }, action: kill-in-kernel }', '  mode: monitor');
    const detector = new PartitionDetector({ rules: rulesOf(monitorKill) });
    const killed = file('/etc/shadow', { time: T0, process: { pid: 10 }, action: { kind: 'sigkill', policy: 'p', rule: 'r' } });
    const reported = file('/etc/shadow', { time: T0 + SECOND, process: { pid: 11 } });
    const alerts = [killed, reported].flatMap((event) => detector.observe(event, { emit: true }));
    assert.deepEqual(alerts.map((a) => a.event.process.pid), [10, 11], 'the reported read has its own alert at once');
  });

  test('alert ids are derived from the input, so processing it twice gives the same alerts', () => {
    const once = () => new PartitionDetector({ rules: rulesOf(policy(auditRule)), now: () => 1n }).observe(file('/etc/shadow'), { emit: true });
    assert.deepEqual(once(), once());
    assert.match(once()[0]?.id ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

describe('sequences', () => {
  const droppedBinary = policy(`    - name: dropped
      sequence:
        by: pod
        within: 60s
        steps:
          - { event: file, match: { path: { prefix: [/tmp/] }, access: [write] } }
          - { event: exec, sameAs: { binary: path } }
      action: kill`);

  test('a file written then executed in the same pod, within the window, raises one alert carrying both events', () => {
    const detector = new PartitionDetector({ rules: rulesOf(droppedBinary) });
    const write = file('/tmp/x', { time: T0, flags: 0o101, pod: pod('u1') });
    assert.deepEqual(detector.observe(write, { emit: true }), []);
    assert.deepEqual(detector.observe(exec('/tmp/y', { time: T0 + SECOND, pod: pod('u1') }), { emit: true }), [], 'another file: no correlation');
    assert.deepEqual(detector.observe(exec('/tmp/x', { time: T0 + SECOND, pod: pod('u2') }), { emit: true }), [], 'another pod');
    const [alert, ...more] = detector.observe(exec('/tmp/x', { time: T0 + 2n * SECOND, pod: pod('u1') }), { emit: true });
    assert.deepEqual(more, []);
    assert.deepEqual(alert?.related_events.map((e) => e.id), [write.id]);
    assert.equal(alert?.event.kind, 'exec');
    assert.match(alert?.message ?? '', /open \/tmp\/x → exec \/tmp\/x \(parent \/sbin\/init\) in pod shop\/pod-u1/);
  });

  test('a step after the window does not complete the sequence; a read is not a write', () => {
    const detector = new PartitionDetector({ rules: rulesOf(droppedBinary) });
    detector.observe(file('/tmp/x', { time: T0, flags: 0o101, pod: pod('u1') }), { emit: true });
    assert.deepEqual(detector.observe(exec('/tmp/x', { time: T0 + 61n * SECOND, pod: pod('u1') }), { emit: true }), []);
    detector.observe(file('/tmp/z', { time: T0, flags: 0, pod: pod('u1') }), { emit: true });
    assert.deepEqual(detector.observe(exec('/tmp/z', { time: T0 + SECOND, pod: pod('u1') }), { emit: true }), []);
  });

  test('processTree: a sibling run by the same shell, or a descendant, belongs; an unrelated process does not', () => {
    const rules = rulesOf(
      policy(`    - name: read-then-connect
      sequence:
        within: 30s
        steps:
          - { event: file, match: { path: { equal: [/etc/shadow] } } }
          - { event: connect }
      action: audit`),
    );
    const shell = { pid: 100, start_time: 5n, binary: '/bin/sh' };
    const detector = new PartitionDetector({ rules });
    detector.observe(file('/etc/shadow', { time: T0, process: { pid: 101, start_time: 6n, binary: '/bin/cat' }, parent: shell }), { emit: true });
    assert.deepEqual(detector.observe(connect('1.2.3.4', 443, { time: T0 + SECOND, process: { pid: 300, start_time: 9n }, parent: { pid: 299, start_time: 8n } }), { emit: true }), []);
    const alerts = detector.observe(connect('1.2.3.4', 443, { time: T0 + SECOND, process: { pid: 102, start_time: 7n, binary: '/usr/bin/curl' }, parent: shell }), { emit: true });
    assert.equal(alerts.length, 1);
  });

  test('process scope: the same process across exec; replayed input rebuilds the state without alerts', () => {
    const rules = rulesOf(
      policy(`    - name: tmp-connects
      sequence:
        by: process
        within: 30s
        steps:
          - { event: exec, match: { binary: { prefix: [/tmp/] } } }
          - { event: connect }
      action: kill`),
    );
    const proc = { pid: 200, start_time: 11n };
    const first = exec('/tmp/miner', { time: T0, process: proc });
    const second = connect('1.2.3.4', 3333, { time: T0 + SECOND, process: { ...proc, binary: '/tmp/miner' } });
    const replayed = new PartitionDetector({ rules });
    assert.deepEqual(replayed.observe(first, { emit: false }), []);
    const alerts = replayed.observe(second, { emit: true });
    assert.equal(alerts.length, 1, 'state from the replay completes the sequence');
    const live = new PartitionDetector({ rules, now: () => alerts[0]!.time });
    live.observe(first, { emit: true });
    assert.deepEqual(live.observe(second, { emit: true }), alerts, 'the same alert as without the restart');
    const other = new PartitionDetector({ rules });
    other.observe(first, { emit: true });
    assert.deepEqual(other.observe(connect('1.2.3.4', 3333, { time: T0 + SECOND, process: { pid: 201, start_time: 12n } }), { emit: true }), []);
  });

  test('the replay window is the longest sequence window', () => {
    assert.equal(rulesOf(droppedBinary).maxWindowNs(), 60n * SECOND);
  });
});

describe('ancestry of exited processes', () => {
  const exitOf = (pid: number, parentPid: number, time: bigint): Event =>
    sampleEvent({ kind: 'exit', time, process: { pid, start_time: BigInt(pid) }, parent: { pid: parentPid, start_time: BigInt(parentPid) }, payload: { group: 'exit', code: 0, signal: 0 } });
  const execOf = (pid: number, parentPid: number, at: { readonly time: bigint; readonly binary?: string }): Event =>
    sampleEvent({ kind: 'exec', time: at.time, process: { pid, start_time: BigInt(pid), binary: at.binary ?? '/bin/cat' }, parent: { pid: parentPid, start_time: BigInt(parentPid) } });

  test('a steady stream of short processes keeps rate × retention ancestry entries, not every process (the soak)', () => {
    const detector = new PartitionDetector({ rules: rulesOf(policy('    - { name: r, event: exec, match: { binary: { equal: [/never] } }, action: audit }')), exitedRetentionNs: 10n * SECOND });
    for (let i = 0; i < 25 * 600; i++) {
      const at = BigInt(i) * 40_000_000n;
      detector.observe(execOf(1000 + i, 1, { time: at }), { emit: true });
      detector.observe(exitOf(1000 + i, 1, at + 40_000_000n), { emit: true });
    }
    assert.ok(detector.stats().processes <= 25 * 10 + 2, `${detector.stats().processes} entries`);
  });

  test('a processTree sequence still joins steps through a parent that exited long before the last step', () => {
    const rule = `    - name: tree
      sequence:
        by: processTree
        within: 10m
        steps:
          - { event: exec, match: { binary: { equal: [/usr/bin/first] } } }
          - { event: exec, match: { binary: { equal: [/usr/bin/last] } } }
      action: audit`;
    const detector = new PartitionDetector({ rules: rulesOf(policy(rule)), exitedRetentionNs: 10n * SECOND });
    // Shell 10 runs first (30) and a script (20) that starts a daemon (40) and exits; a minute of other processes
    // later the daemon runs last: its lineage reaches 10 only through the exited 20.
    const alerts = [execOf(30, 10, { time: SECOND, binary: '/usr/bin/first' }), execOf(20, 10, { time: 0n, binary: '/bin/sh' }), execOf(40, 20, { time: 2n * SECOND, binary: '/usr/bin/daemon' }), exitOf(30, 10, 3n * SECOND), exitOf(20, 10, 4n * SECOND)];
    for (let i = 0; i < 1500; i++) alerts.push(execOf(1000 + i, 1, { time: 5n * SECOND + BigInt(i) * 40_000_000n }), exitOf(1000 + i, 1, 5n * SECOND + BigInt(i) * 40_000_000n + 1n));
    alerts.push(execOf(50, 40, { time: 70n * SECOND, binary: '/usr/bin/last' }));
    const raised = alerts.flatMap((event) => detector.observe(event, { emit: true }));
    assert.deepEqual(raised.map((a) => a.rule), ['tree'], "the last step's lineage reaches the first step's parent through the script that exited 66 s before");
  });
});
