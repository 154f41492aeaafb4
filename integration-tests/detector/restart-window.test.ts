/**
 * Stateful rules survive a detector crash in the middle of their window: the first steps of each sequence are
 * consumed and committed, the detector is SIGKILLed and started again, and the last steps complete every sequence —
 * the restarted detector rebuilt its state by re-reading the partition's recent input. A sequence whose last step
 * comes after its window does not fire, and nothing is alerted twice. Real broker and detector service; the events
 * are enriched Event records published to this test's stinger.events.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeAlert, encodeEvent, NO_FLOW, type Event } from '@stinger/events';
import { bootstrapTopics, createProducer, topicName, type KafkaClient } from '@stinger/kafka';
import { sampleEvent, type SampleEventOptions } from '@stinger/testing';
import { runStinger } from '../helpers/cli.ts';
import { collectTopic, testBrokers, testClient, uniqueName, type Collector } from '../helpers/kafka.ts';
import { pipelineEnvironment, startPipelineService, type RunningService } from '../helpers/pipeline.ts';

const tag = randomBytes(4).toString('hex');
const prefix = `${uniqueName('detector-restart')}.`;
const dir = mkdtempSync(join(tmpdir(), 'stinger-detector-restart-'));
const env = pipelineEnvironment({ brokers: testBrokers(), topicPrefix: prefix });
const policy = `seq-${tag}`;

let client: KafkaClient;
let alerts: Collector;
let detector: RunningService | undefined;

before(async () => {
  client = testClient('detector-restart');
  await bootstrapTopics({ client, prefix });
  alerts = await collectTopic(client, topicName('alerts', prefix));
  const file = join(dir, 'policy.yaml');
  writeFileSync(
    file,
    `apiVersion: stinger.io/v1alpha1
kind: TracingPolicy
metadata: { name: ${policy} }
spec:
  rules:
    - name: marker
      event: exec
      match: { binary: { prefix: [/usr/bin/marker-${tag}] } }
      action: audit
    - name: dropped-binary-run
      sequence:
        by: pod
        within: 2m
        steps:
          - { event: file, match: { path: { prefix: [/tmp/] }, access: [write] } }
          - { event: exec, sameAs: { binary: path } }
      action: kill
    - name: tmp-binary-connects
      sequence:
        by: process
        within: 2m
        steps:
          - { event: exec, match: { binary: { prefix: [/tmp/, /dev/shm/] } } }
          - { event: connect }
      action: kill
    - name: credentials-then-egress
      sequence:
        by: processTree
        within: 2m
        steps:
          - { event: file, match: { path: { suffix: [/.aws/credentials] }, access: [read] } }
          - { event: connect }
      action: audit
    - name: short-window
      sequence:
        by: process
        within: 2s
        steps:
          - { event: exec, match: { binary: { equal: [/usr/bin/slow-${tag}] } } }
          - { event: exec, match: { binary: { equal: [/usr/bin/slow-${tag}-2] } } }
      action: audit
`,
  );
  const applied = runStinger(['policy', 'apply', file], { KAFKA_BROKERS: testBrokers(), STINGER_TOPIC_PREFIX: prefix });
  assert.equal(applied.status, 0, applied.stderr);
  detector = await startPipelineService('detector', env);
});

after(async () => {
  await detector?.stop();
  await alerts.stop();
  rmSync(dir, { recursive: true, force: true });
});

const pod = (uid: string): NonNullable<Event['pod']> => ({ namespace: 'shop', name: `web-${uid}`, uid, labels: {}, annotations: {}, workload: null, workload_kind: null, container: null });
const nowNs = (offsetMs = 0) => (BigInt(Date.now()) + BigInt(offsetMs)) * 1_000_000n;
let seq = 0n;
function event(options: SampleEventOptions): Event {
  seq += 1n;
  return sampleEvent({ node: `node-${tag}`, seq, time: nowNs(), ...options });
}
const fileEvent = (path: string, flags: number, options: SampleEventOptions = {}) =>
  event({ ...options, kind: 'file', payload: { group: 'file', op: 'open', path, path_as_given: path, new_path: null, flags, mode: null, result: 3, reached_by: null, io: null } });
const execEvent = (binary: string, options: SampleEventOptions = {}) =>
  event({ ...options, kind: 'exec', process: { ...options.process, binary }, payload: { group: 'exec', filename: binary, euid: 0n, egid: 0n, secure_exec: false, args_truncated: false, sha256: null, reached_by: null } });
const connectEvent = (options: SampleEventOptions = {}) =>
  event({ ...options, kind: 'connect', payload: { group: 'network', family: 'inet', protocol: 'tcp', saddr: null, sport: null, daddr: '203.0.113.7', dport: 443, result: 0, bytes: null, ...NO_FLOW } });

async function publish(events: readonly Event[]): Promise<void> {
  const producer = createProducer({ client });
  await producer.connect();
  await producer.send(topicName('events', prefix), events.map((e) => ({ key: e.node, value: encodeEvent(e) })));
  await producer.disconnect();
}

async function alertsOf(rule: string, count: number, timeoutMs = 30_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = alerts.records.map((r) => decodeAlert(r.value ?? Buffer.alloc(0))).filter((a) => a.policy === policy && a.rule === rule).length;
    if (found >= count || Date.now() > deadline) return found;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

test('every sequence started before a detector crash completes after its restart; none fires twice or out of its window', { timeout: 180_000 }, async () => {
  const shell = { pid: 500, start_time: 50n, binary: '/bin/bash' };
  const miner = { pid: 600, start_time: 60n };
  const slow = { pid: 700, start_time: 70n };
  await publish([
    fileEvent('/tmp/payload', 0o101, { pod: pod('u1') }),
    execEvent('/tmp/miner', { process: miner }),
    fileEvent('/root/.aws/credentials', 0, { process: { pid: 501, start_time: 51n, binary: '/bin/cat' }, parent: shell }),
    execEvent(`/usr/bin/slow-${tag}`, { process: slow, time: nowNs(-10_000) }),
    execEvent(`/usr/bin/marker-${tag}`),
  ]);
  assert.equal(await alertsOf('marker', 1), 1, 'the first steps were consumed and committed');
  assert.equal(await detector!.stop('SIGKILL'), null, 'the detector crashed');
  detector = await startPipelineService('detector', env);

  await publish([
    execEvent('/tmp/payload', { pod: pod('u1') }),
    connectEvent({ process: { ...miner, binary: '/tmp/miner' } }),
    connectEvent({ process: { pid: 502, start_time: 52n, binary: '/usr/bin/curl' }, parent: shell }),
    execEvent(`/usr/bin/slow-${tag}-2`, { process: slow }),
    // Another binary: the same one within the grouping window would be counted into the first marker's group.
    execEvent(`/usr/bin/marker-${tag}-after`, { process: { pid: 999, start_time: 99n } }),
  ]);
  const seen = () => alerts.records.map((r) => decodeAlert(r.value ?? Buffer.alloc(0))).map((a) => `${a.rule}:${a.event.process.binary}`).join(', ');
  assert.equal(await alertsOf('marker', 2, 60_000), 2, `the second batch was consumed; alerts: ${seen()}\n${detector!.log.slice(-10).join('\n')}`);
  for (const rule of ['dropped-binary-run', 'tmp-binary-connects', 'credentials-then-egress']) assert.equal(await alertsOf(rule, 1), 1, `${rule} fired across the restart`);
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const byRule = new Map<string, number>();
  for (const alert of alerts.records.map((r) => decodeAlert(r.value ?? Buffer.alloc(0)))) byRule.set(alert.rule, (byRule.get(alert.rule) ?? 0) + 1);
  assert.deepEqual(Object.fromEntries([...byRule].sort()), { 'credentials-then-egress': 1, 'dropped-binary-run': 1, marker: 2, 'tmp-binary-connects': 1 }, 'nothing twice; the late step outside its window raised nothing');
  const dropped = alerts.records.map((r) => decodeAlert(r.value ?? Buffer.alloc(0))).find((a) => a.rule === 'dropped-binary-run');
  assert.deepEqual(dropped?.related_events.map((e) => e.kind), ['file'], 'the alert carries the step that came before the crash');
});
