import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  SensorUnavailableError,
  unavailableConnectPolicy,
  unavailableFileSensor,
  unavailableNetworkSensor,
  unavailablePrivilegeSensor,
  type FileSensor,
  type NetworkSensor,
  type PidScopes,
} from '@stinger/bpf';
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

test('a pid-scoped rule goes in with the slot of its pid scope, held by its map entry until the entry goes or changes', () => {
  const calls: string[] = [];
  const entries = new Map<string, unknown>();
  const pathMaps = {
    addExact: (path: string, entry: unknown) => entries.set(path, entry),
    addPrefix: (path: string, entry: unknown) => entries.set(path, entry),
    removeExact: (path: string) => entries.delete(path),
    removePrefix: (path: string) => entries.delete(path),
  };
  const pidScopes: PidScopes = {
    acquire: (holder, spec) => {
      calls.push(`acquire ${holder} ${JSON.stringify(spec)}`);
      return 3;
    },
    release: (holder) => void calls.push(`release ${holder}`),
    members: () => [],
    childrenNotAdded: () => 0n,
  };
  const loadError = new Error('not loaded');
  const maps = createBpfKernelMaps({
    fileSensor: { execPolicy: pathMaps } as unknown as FileSensor, // only exec rules are installed here
    networkSensor: unavailableNetworkSensor(loadError),
    connectPolicy: unavailableConnectPolicy(loadError),
    privilegeSensor: unavailablePrivilegeSensor(loadError),
    rootCgroupId: 1n,
    pidScopes,
  });
  const scoped: KernelRule = { ...origin, ruleId: 7, event: 'exec', match: { kind: 'equal', path: '/usr/bin/nc' }, action: 'kill', pids: { values: [42], followChildren: true, namespace: 'host' } };
  const holder = JSON.stringify(['exec', 'equal', '/usr/bin/nc']);
  maps.install(scoped);
  assert.deepEqual(entries.get('/usr/bin/nc'), { ruleId: 7, action: 'kill', scope: 'all', pidScope: 3 });
  assert.deepEqual(calls, [`acquire ${holder} {"pids":[42],"followChildren":true,"namespace":"host"}`]);
  // Another rule takes the entry (KernelRuleSlots installs it over the first): the pid scope is let go.
  maps.install({ ...scoped, ruleId: 8, pids: undefined });
  assert.deepEqual(entries.get('/usr/bin/nc'), { ruleId: 8, action: 'kill', scope: 'all', pidScope: undefined });
  maps.uninstall({ ...scoped, ruleId: 8, pids: undefined });
  assert.deepEqual(calls.slice(1), [`release ${holder}`, `release ${holder}`]);
  assert.equal(entries.has('/usr/bin/nc'), false);

  const without = createBpfKernelMaps({
    fileSensor: { execPolicy: pathMaps } as unknown as FileSensor, // only exec rules are installed here
    networkSensor: unavailableNetworkSensor(loadError),
    connectPolicy: unavailableConnectPolicy(loadError),
    privilegeSensor: unavailablePrivilegeSensor(loadError),
    rootCgroupId: 1n,
  });
  assert.throws(() => without.install(scoped), /pid selectors need the kernel pid scopes/);
  assert.equal(entries.has('/usr/bin/nc'), false, 'nothing written without its scope');
});

test('a watch that keeps its records goes in with keepRecords (file entry, audit destination); other entries without it', () => {
  const fileEntries = new Map<string, unknown>();
  const destinations: unknown[] = [];
  const pathMaps = {
    addExact: (path: string, entry: unknown) => fileEntries.set(path, entry),
    addPrefix: (path: string, entry: unknown) => fileEntries.set(path, entry),
    removeExact: (path: string) => fileEntries.delete(path),
    removePrefix: (path: string) => fileEntries.delete(path),
  };
  const loadError = new Error('not loaded');
  const maps = createBpfKernelMaps({
    fileSensor: { filePolicy: pathMaps } as unknown as FileSensor, // only file rules are installed here
    networkSensor: { auditDestinations: { add: (d: unknown) => void destinations.push(d), remove: () => true } } as unknown as NetworkSensor,
    connectPolicy: unavailableConnectPolicy(loadError),
    privilegeSensor: unavailablePrivilegeSensor(loadError),
    rootCgroupId: 1n,
  });
  maps.install({ ...origin, ruleId: 11, event: 'file', match: { kind: 'equal', path: '/etc/x' }, ops: ['open'], action: 'audit', keepRecords: true });
  maps.install({ ...origin, ruleId: 12, event: 'file', match: { kind: 'equal', path: '/etc/y' }, ops: ['open'], action: 'audit' });
  maps.install({ ...origin, ruleId: 13, event: 'connect', cidr: '10.1.0.0/16', port: null, action: 'audit', keepRecords: true });
  maps.install({ ...origin, ruleId: 14, event: 'connect', cidr: '10.2.0.0/16', port: null, action: 'audit' });
  assert.deepEqual(fileEntries.get('/etc/x'), { ruleId: 11, action: 'audit', ops: ['open'], scope: 'all', pidScope: undefined, keepRecords: true });
  assert.deepEqual(fileEntries.get('/etc/y'), { ruleId: 12, action: 'audit', ops: ['open'], scope: 'all', pidScope: undefined });
  assert.deepEqual(destinations, [
    { cidr: '10.1.0.0/16', ruleId: 13, scope: 'all', pidScope: undefined, keepRecords: true },
    { cidr: '10.2.0.0/16', ruleId: 14, scope: 'all', pidScope: undefined },
  ]);
});
