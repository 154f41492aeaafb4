import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SensorUnavailableError, unavailableConnectPolicy, unavailableFileSensor, unavailableNetworkSensor, unavailablePrivilegeSensor } from '@stinger/bpf';
import type { KernelRule } from '@stinger/policy';
import { createBpfKernelMaps } from './bpf-kernel-maps.ts';

const origin = { policy: 'default/p', rule: 'r', scope: 'all' } as const;
const RULES: readonly [KernelRule, string][] = [
  [{ ...origin, ruleId: 1, event: 'exec', match: { kind: 'equal', path: '/usr/bin/nc' }, action: 'kill' }, 'file'],
  [{ ...origin, ruleId: 2, event: 'file', match: { kind: 'prefix', path: '/etc/' }, ops: ['open'], action: 'audit' }, 'file'],
  [{ ...origin, ruleId: 3, event: 'connect', cidr: '10.0.0.0/8', port: null, action: 'deny' }, 'connect-policy'],
  [{ ...origin, ruleId: 4, event: 'connect', cidr: '10.0.0.0/8', port: 443, action: 'audit' }, 'network'],
  [{ ...origin, ruleId: 5, event: 'namespace', namespaces: ['mnt'], ops: ['unshare'], action: 'audit' }, 'privilege'],
  [{ ...origin, ruleId: 6, event: 'module', ops: ['load'], action: 'kill' }, 'privilege'],
];

test('with sensors that did not load, each install names the sensor and why; uninstall finds nothing', () => {
  const loadError = new Error('BPF_PROG_LOAD: EINVAL (22)');
  const maps = createBpfKernelMaps({
    fileSensor: unavailableFileSensor(loadError),
    networkSensor: unavailableNetworkSensor(loadError),
    connectPolicy: unavailableConnectPolicy(loadError),
    privilegeSensor: unavailablePrivilegeSensor(loadError),
    rootCgroupId: 1n,
  });
  for (const [rule, sensor] of RULES) {
    assert.throws(
      () => maps.install(rule),
      (error: unknown) => error instanceof SensorUnavailableError && error.sensor === sensor && error.message.includes('EINVAL (22)'),
      `${rule.event} rule ${rule.ruleId}`,
    );
    maps.uninstall(rule);
  }
});
