import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildAlert, DetectionRules } from '@stinger/detection';
import { encodeControlCommand, encodeEnforcement, type Alert, type ControlAck, type Event } from '@stinger/events';
import { compilePolicy, parsePolicies } from '@stinger/policy';
import { sampleEvent } from '@stinger/testing';
import { generateSigningKey, ReplayGuard, verifyControlCommand } from '@stinger/trust';
import { Enforcer, handledAlertIds, type EnforcerOptions } from './index.ts';

const NOW = 1_800_000_000_000_000_000n;
const key = generateSigningKey();

function rules(mode: 'enforce' | 'monitor' = 'enforce', namespaces = ''): DetectionRules {
  const parsed = parsePolicies(
    `apiVersion: stinger.io/v1alpha1
kind: TracingPolicy
metadata: { name: p }
spec:
  mode: ${mode}
  ${namespaces === '' ? '' : `selector: { namespaces: [${namespaces}] }`}
  rules:
    - { name: shadow, event: file, match: { path: { equal: [/etc/shadow] } }, action: kill }
    - { name: audit, event: file, match: { path: { equal: [/etc/hosts] } }, action: audit }
${namespaces === '' ? '    - { name: passwd, event: file, match: { path: { equal: [/etc/passwd] } }, action: deny }' : '    # deny rules take no namespace selector'}
`,
    { source: 't' },
  );
  const set = new DetectionRules();
  const compiled = compilePolicy(parsed.policies[0]!).compiled;
  set.set('p', compiled);
  return set;
}

const shadowEvent = (extra: Partial<Parameters<typeof sampleEvent>[0]> = {}): Event =>
  sampleEvent({ kind: 'file', process: { pid: 4242, start_time: 55n }, payload: { group: 'file', op: 'open', path: '/etc/shadow', path_as_given: '/etc/shadow', new_path: null, flags: 0, mode: null, result: 3, reached_by: null, io: null }, ...extra });

function alertFor(event: Event, overrides: Partial<Alert> = {}, set = rules()): Alert {
  const rule = set.find('p', overrides.rule ?? 'shadow') ?? set.find('p', 'shadow');
  assert.ok(rule);
  return { ...buildAlert({ rule, event, related: [], count: 1, firstSeenNs: null, groupKey: null, nowNs: NOW }), ...overrides };
}

function enforcer(options: Partial<EnforcerOptions> = {}) {
  let id = 0;
  let now = NOW;
  const instance = new Enforcer({
    rules: rules(),
    signingKey: () => key,
    dryRun: false,
    protectedNamespaces: ['kube-system'],
    commandTtlMs: 10_000,
    ackTimeoutMs: 15_000,
    maxKillsPerMinute: 2,
    now: () => now,
    newId: () => `00000000-0000-4000-8000-${String(++id).padStart(12, '0')}`,
    ...options,
  });
  return { instance, advance: (ms: number) => (now += BigInt(ms) * 1_000_000n) };
}

const ack = (commandId: string, status: ControlAck['status']): ControlAck => ({ command_id: commandId, node: 'node-a', agent_id: 'a', status, detail: null, acked_at_ns: NOW + 5n });

describe('Enforcer', () => {
  test('alerts a previous enforcer handled, named by its outcome and command records, get nothing on redelivery', () => {
    const before = enforcer();
    const acted = alertFor(shadowEvent());
    const monitored = alertFor(shadowEvent({ process: { pid: 4343, start_time: 56n } }), { id: '00000000-0000-4000-8000-00000000aaaa' }, rules('monitor'));
    const { commands } = before.instance.onAlert(acted);
    const { enforcements } = before.instance.onAlert(monitored);
    assert.equal(enforcements[0]?.outcome, 'monitor_only');
    const handled = handledAlertIds({ enforcements: [encodeEnforcement(enforcements[0]!), Buffer.from('not avro'), null], commands: commands.map(encodeControlCommand) });
    assert.deepEqual([...handled].sort(), [acted.id, monitored.id].sort());

    const after = enforcer();
    after.instance.markHandled(handled);
    assert.deepEqual(after.instance.onAlert(acted), { commands: [], enforcements: [] }, 'no second command');
    assert.deepEqual(after.instance.onAlert(monitored), { commands: [], enforcements: [] }, 'no second outcome');
    const fresh = alertFor(shadowEvent({ process: { pid: 4444, start_time: 57n } }), { id: '00000000-0000-4000-8000-00000000bbbb' });
    assert.equal(after.instance.onAlert(fresh).commands.length, 1, 'an alert not handled before is acted on');
  });

  test('a kill alert becomes one signed command for exactly the event process; the ack gives the outcome', () => {
    const { instance } = enforcer();
    const alert = alertFor(shadowEvent());
    const { commands, enforcements } = instance.onAlert(alert);
    assert.deepEqual(enforcements, []);
    const [command] = commands;
    assert.ok(command);
    assert.deepEqual(command.target, { pid: 4242, start_time: 55n, exec_id: alert.event.process.exec_id });
    assert.equal(command.expires_at_ns, NOW + 10_000_000_000n);
    assert.equal(verifyControlCommand(command, { ring: new Map([[key.keyId, key.publicKey]]), node: 'node-a', nowNs: NOW, replays: new ReplayGuard() }).ok, true);
    assert.deepEqual(instance.onAlert(alert), { commands: [], enforcements: [] }, 'a redelivered alert gets nothing');
    const [outcome] = instance.onAck(ack(command.command_id, 'killed'));
    assert.equal(outcome?.outcome, 'killed');
    assert.equal(outcome?.alert_id, alert.id);
    assert.equal(outcome?.command_id, command.command_id);
    assert.deepEqual(instance.onAck(ack(command.command_id, 'killed')), [], 'a second ack changes nothing');
  });

  test('no command where none is due: monitor, audit, already killed in the kernel, protected namespace, old alert', () => {
    const outcome = (alert: Alert, e = enforcer()) => {
      const out = e.instance.onAlert(alert);
      assert.deepEqual(out.commands, []);
      return [out.enforcements[0]?.outcome, out.enforcements[0]?.detail ?? null];
    };
    assert.equal(outcome(alertFor(shadowEvent(), { mode: 'monitor' }))[0], 'monitor_only');
    assert.equal(outcome(alertFor(shadowEvent()), enforcer({ rules: rules('monitor') }))[0], 'monitor_only');
    assert.equal(outcome(alertFor(shadowEvent(), { action: 'audit' }))[0], 'audit_only');
    assert.equal(outcome(alertFor(shadowEvent({ action: { kind: 'sigkill', policy: 'p', rule: 'shadow' } })))[0], 'killed_in_kernel');
    const kubeSystem = { namespace: 'kube-system', name: 'x', uid: 'u', labels: {}, annotations: {}, workload: null, workload_kind: null, container: null };
    assert.equal(outcome(alertFor(shadowEvent({ pod: kubeSystem })))[0], 'protected');
    const named = enforcer({ rules: rules('enforce', 'kube-system') }).instance.onAlert(alertFor(shadowEvent({ pod: kubeSystem }), {}, rules('enforce', 'kube-system')));
    assert.equal(named.commands.length, 1, 'a policy that names the namespace is acted on there');
    assert.equal(outcome(alertFor(shadowEvent(), { time: NOW - 120_000_000_000n }))[0], 'expired');
    // Age decides only whether to act: what happened, or what the policy wants, is said however late.
    assert.equal(outcome(alertFor(shadowEvent(), { mode: 'monitor', time: NOW - 120_000_000_000n }))[0], 'monitor_only');
    assert.equal(outcome(alertFor(shadowEvent({ action: { kind: 'sigkill', policy: 'p', rule: 'shadow' } }), { time: NOW - 120_000_000_000n }))[0], 'killed_in_kernel');
  });

  test('a deny rule: denied_in_kernel when the node refused the open, audit_only and never a kill when it did not', () => {
    const { instance } = enforcer();
    const passwd = (action: Event['action']): Event =>
      sampleEvent({ kind: 'file', action, payload: { group: 'file', op: 'open', path: '/etc/passwd', path_as_given: '/etc/passwd', new_path: null, flags: 0, mode: null, result: -1, reached_by: 'symlink', io: null } });
    const denied = instance.onAlert(alertFor(passwd({ kind: 'deny', policy: 'p', rule: 'passwd' }), { id: 'd1', rule: 'passwd' }));
    assert.deepEqual(denied.commands, []);
    assert.deepEqual(denied.enforcements.map((e) => [e.action, e.outcome]), [['deny', 'denied_in_kernel']]);
    const notDenied = instance.onAlert(alertFor(passwd(null), { id: 'd2', rule: 'passwd' }));
    assert.deepEqual(notDenied.commands, []);
    assert.deepEqual(notDenied.enforcements.map((e) => [e.action, e.outcome]), [['deny', 'audit_only']]);
    assert.match(notDenied.enforcements[0]?.detail ?? '', /never turned into a kill/);
  });

  test('forged alerts are refused: an unknown rule, or an event that does not satisfy the rule in force', () => {
    const { instance } = enforcer();
    const unknown = instance.onAlert(alertFor(shadowEvent(), { id: 'a1', rule: 'nope', policy: 'p' }));
    assert.deepEqual(unknown.enforcements.map((e) => e.outcome), ['rejected']);
    const hosts = sampleEvent({ kind: 'file', payload: { group: 'file', op: 'open', path: '/etc/hosts', path_as_given: '/etc/hosts', new_path: null, flags: 0, mode: null, result: 3, reached_by: null, io: null } });
    const forged = instance.onAlert(alertFor(hosts, { id: 'a2' }));
    assert.deepEqual(forged.commands, []);
    assert.match(forged.enforcements[0]?.detail ?? '', /does not satisfy p\/shadow/);
  });

  test('one command per process at a time; the kill rate per node and policy is bounded; unanswered commands time out', () => {
    const { instance, advance } = enforcer();
    const first = instance.onAlert(alertFor(shadowEvent(), { id: 'b1' }));
    assert.equal(first.commands.length, 1);
    assert.deepEqual(instance.onAlert(alertFor(shadowEvent(), { id: 'b2' })), { commands: [], enforcements: [] }, 'waits on the command out');
    assert.equal(instance.onAlert(alertFor(shadowEvent({ process: { pid: 5, start_time: 1n } }), { id: 'b3' })).commands.length, 1);
    const limited = instance.onAlert(alertFor(shadowEvent({ process: { pid: 6, start_time: 1n } }), { id: 'b4' }));
    assert.match(limited.enforcements[0]?.detail ?? '', /rate limited/);
    advance(15_000);
    const timedOut = instance.expire();
    assert.deepEqual(timedOut.map((e) => [e.alert_id, e.outcome]), [['b1', 'timed_out'], ['b2', 'timed_out'], ['b3', 'timed_out']]);
  });

  test('agent refusals map to outcomes', () => {
    const statuses: ControlAck['status'][] = ['dry_run', 'expired', 'bad_signature', 'target_gone', 'target_mismatch', 'protected', 'failed'];
    const outcomes = statuses.map((status, i) => {
      const { instance } = enforcer();
      const [command] = instance.onAlert(alertFor(shadowEvent(), { id: `c${i}` })).commands;
      return instance.onAck(ack(command!.command_id, status))[0]?.outcome;
    });
    assert.deepEqual(outcomes, ['dry_run', 'expired', 'rejected', 'target_gone', 'target_mismatch', 'protected', 'failed']);
  });
});
