import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { loadConfig } from '@stinger/config';
import { decodeAlert, encodeEvent } from '@stinger/events';
import type { ConsumedRecord } from '@stinger/kafka';
import { createLogger } from '@stinger/log';
import { compilePolicy, parsePolicies } from '@stinger/policy';
import { buildOpa, compileRego, RegoBatchEvaluator } from '@stinger/rego';
import { sampleEvent } from '@stinger/testing';
import { createDetector, DetectionRules } from './index.ts';

const POLICY = `
apiVersion: stinger.io/v1alpha1
kind: TracingPolicy
metadata: { name: shells }
spec:
  mode: enforce
  rego:
    events: [exec]
    action: kill
    entrypoint: stinger/alerts
    module: |
      package stinger

      alerts contains {"rule": "shell-under-web", "severity": "high", "message": sprintf("%s under %s", [input.event.process.binary, input.ancestors[1].binary]), "tags": ["T1059.004"], "action": "kill"} if {
        input.event.process.binary == "/bin/sh"
        some ancestor in input.ancestors
        ancestor.binary == "/usr/sbin/nginx"
      }
`;

const logger = createLogger({ name: 'test', level: 'silent' });
const record = (value: Buffer, offset: bigint): ConsumedRecord => ({ topic: 'stinger.events', partition: 0, offset, key: Buffer.from('node-a'), value, headers: {}, timestampMs: 0 });
/** An exec of [pid, binary] by [parent pid, parent binary]. */
const exec = ([pid, binary]: [number, string], [parentPid, parentBinary]: [number, string]) =>
  sampleEvent({
    kind: 'exec',
    process: { pid, binary, start_time: BigInt(pid) },
    parent: { pid: parentPid, binary: parentBinary, start_time: BigInt(parentPid) },
  });

test('a Rego module sees the ancestry the detector learnt and raises alerts with its own rule names, capped by the policy', async () => {
  const [policy] = parsePolicies(POLICY).policies;
  assert.ok(policy?.spec.rego);
  const opa = await buildOpa({ cacheDir: loadConfig().cacheDir, logger });
  const compiled = await compileRego(policy.spec.rego, { opaPath: opa.path });
  assert.ok(compiled.wasm, JSON.stringify(compiled.problems));
  const rules = new DetectionRules();
  rules.set('shells', compilePolicy(policy, { regoWasm: compiled.wasm }).compiled);
  const rego = new RegoBatchEvaluator();
  try {
    const detector = createDetector({ rules, rego, alertsTopic: 'stinger.alerts', logger, readRange: async () => [] });
    // nginx (pid 20, child of 10) runs bash (30), which runs sh (40): sh has nginx two levels up. A sh under cron does not.
    const records = [exec([20, '/usr/sbin/nginx'], [10, '/sbin/init']), exec([30, '/bin/bash'], [20, '/usr/sbin/nginx']), exec([40, '/bin/sh'], [30, '/bin/bash']), exec([50, '/bin/sh'], [10, '/usr/sbin/cron'])].map((event, index) =>
      record(encodeEvent(event), BigInt(index)),
    );
    await detector.prepareBatch(records);
    const alerts = records.flatMap((r) => detector.transform(r)).map((output) => decodeAlert(output.value as Buffer));
    assert.deepEqual(
      alerts.map((a) => [a.policy, a.rule, a.action, a.severity, a.tags, a.message, a.event.process.pid]),
      [['shells', 'shell-under-web', 'kill', 'high', ['T1059.004'], 'shells/shell-under-web: /bin/sh under /usr/sbin/nginx', 40]],
    );
    assert.equal(rules.find('shells', 'shell-under-web')?.action, 'kill', 'the enforcer finds the Rego rule with the policy cap');
    assert.deepEqual([detector.stats.regoEvaluations, detector.stats.regoStopped], [4, 0], 'each exec event once, none stopped');
  } finally {
    await rego.close();
  }
});

test('a record whose Rego module came without its wasm is refused, the previous version stays', () => {
  const [policy] = parsePolicies(POLICY).policies;
  assert.ok(policy);
  const rules = new DetectionRules();
  assert.throws(() => rules.set('shells', compilePolicy(policy).compiled), /without its compiled WebAssembly/);
  assert.equal(rules.size, 0);
});

test('the default pack\'s Rego rules: a shell two levels below nginx, and a process that joined a container from outside', async () => {
  const text = readFileSync(new URL('../../../k8s/policies/process-tree.yaml', import.meta.url), 'utf8');
  const [policy] = parsePolicies(text).policies;
  assert.ok(policy?.spec.rego);
  const opa = await buildOpa({ cacheDir: loadConfig().cacheDir, logger });
  const compiled = await compileRego(policy.spec.rego, { opaPath: opa.path });
  assert.ok(compiled.wasm, JSON.stringify(compiled.problems));
  const rules = new DetectionRules();
  rules.set('default-process-tree', compilePolicy(policy, { regoWasm: compiled.wasm }).compiled);
  const rego = new RegoBatchEvaluator();
  try {
    const detector = createDetector({ rules, rego, alertsTopic: 'stinger.alerts', logger, readRange: async () => [] });
    const container = 'e'.repeat(64);
    const inside = { cgroup_path: `/kubepods.slice/cri-containerd-${container}.scope`, container_id: container };
    const host = { cgroup_path: '/system.slice/containerd.service', container_id: null };
    const run = (pid: number, binary: string, parent: { pid: number; binary: string; where: typeof inside | typeof host }) =>
      sampleEvent({ kind: 'exec', process: { pid, binary, start_time: BigInt(pid), ...inside }, parent: { pid: parent.pid, binary: parent.binary, start_time: BigInt(parent.pid), ...parent.where } });
    const events = [
      run(20, '/usr/sbin/nginx', { pid: 10, binary: '/usr/bin/containerd-shim-runc-v2', where: host }), // the entry
      run(30, '/usr/sbin/php-fpm', { pid: 20, binary: '/usr/sbin/nginx', where: inside }),
      run(40, '/bin/sh', { pid: 30, binary: '/usr/sbin/php-fpm', where: inside }), // a shell two levels below nginx
      run(50, '/usr/bin/cat', { pid: 20, binary: '/usr/sbin/nginx', where: inside }), // a child of the entry: expected
      run(60, '/bin/bash', { pid: 55, binary: '/usr/sbin/runc', where: host }), // kubectl exec: runc's child joined
    ];
    const records = events.map((event, index) => record(encodeEvent(event), BigInt(index)));
    await detector.prepareBatch(records);
    const alerts = records.flatMap((r) => detector.transform(r)).map((output) => decodeAlert(output.value as Buffer));
    assert.deepEqual(
      alerts.map((a) => [a.rule, a.event.process.pid, a.action, a.mode, a.tags[0]]),
      [
        ['shell-below-web-server', 40, 'audit', 'monitor', 'T1505.003'],
        ['process-outside-container-entry', 60, 'audit', 'monitor', 'T1609'],
      ],
    );
    assert.equal(alerts[1]?.message, "default-process-tree/process-outside-container-entry: /bin/bash (pid 60) does not descend from the container's entry process /usr/sbin/nginx (pid 20)");
  } finally {
    await rego.close();
  }
});
