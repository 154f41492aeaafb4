import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SensorUnavailableError } from './errors.ts';
import { unavailableFileSensor } from '../file/unavailable.ts';
import { unavailableConnectPolicy, unavailableFlowCounters, unavailableNetworkSensor } from '../network/unavailable.ts';
import { unavailablePrivilegeSensor } from '../privilege/unavailable.ts';

const loadError = new Error('tracepoint syscalls/sys_enter_openat not found');

function assertRefused(install: () => unknown, sensor: string): void {
  assert.throws(install, (error: unknown) => {
    assert.ok(error instanceof SensorUnavailableError);
    assert.equal(error.sensor, sensor);
    assert.equal(error.cause, loadError);
    assert.match(error.message, new RegExp(`sensor ${sensor} is not loaded: tracepoint syscalls/sys_enter_openat not found`));
    return true;
  });
}

test('an unavailable file sensor refuses rules by name and reason, reads empty, closes quietly', () => {
  const sensor = unavailableFileSensor(loadError);
  const rule = { ruleId: 1, action: 'audit' as const };
  assertRefused(() => sensor.filePolicy.addExact('/etc/shadow', { ...rule, ops: ['open'] }), 'file');
  assertRefused(() => sensor.execPolicy.addPrefix('/tmp/', rule), 'file');
  assertRefused(() => sensor.events, 'file');
  assert.equal(sensor.filePolicy.removeExact('/etc/shadow'), false);
  assert.deepEqual(sensor.execPolicy.list(), []);
  assert.equal(sensor.lostRecords(), 0n);
  assert.equal(sensor.shedRecords(), 0n);
  assert.deepEqual(sensor.io.losses(), { evicted: 0n, staleFd: 0n, sweepFull: 0n, untracked: 0n });
  assert.equal(sensor.io.attached, false);
  sensor.close();
  sensor.close();
});

test('unavailable network sensor, connect policy and flow counters refuse rules and attachments, read empty', () => {
  const sensor = unavailableNetworkSensor(loadError);
  assertRefused(() => sensor.auditDestinations.add({ cidr: '10.0.0.0/8', ruleId: 2 }), 'network');
  sensor.watch({ connect: true });
  assert.equal(sensor.auditDestinations.size, 0);
  const policy = unavailableConnectPolicy(loadError);
  assertRefused(() => policy.rules.addDeny({ cidr: '10.0.0.0/8', ruleId: 3 }), 'connect-policy');
  assertRefused(() => policy.attach('/sys/fs/cgroup'), 'connect-policy');
  assert.deepEqual(policy.rules.list(), []);
  assert.equal(policy.rules.remove({ cidr: '10.0.0.0/8' }), false);
  const flows = unavailableFlowCounters();
  assert.deepEqual(flows.read(), []);
  assert.equal(flows.readCgroup(5n).egress.bytes, 0n);
  for (const closable of [sensor, policy, flows]) closable.close();
});

test('an unavailable privilege sensor refuses namespace and module rules, reads empty', () => {
  const sensor = unavailablePrivilegeSensor(loadError);
  assertRefused(() => sensor.namespaceRules.set({ cgroupId: 1n, namespaces: ['net'], ruleId: 4, action: 'audit' }), 'privilege');
  assertRefused(() => sensor.moduleRules.set({ cgroupId: 1n, ruleId: 5, action: 'kill' }), 'privilege');
  sensor.watch({ module: true });
  assert.equal(sensor.namespaceRules.remove(1n), false);
  assert.equal(sensor.moduleRules.size, 0);
  sensor.close();
});
