/**
 * `stinger events | alerts | replay | export` against the real broker, over records produced with known timestamps:
 * without --follow a command reads its range and exits 0 with exactly the matching records; --from/--to bound it by
 * the records' timestamps; replay with a policy file prints the alert the policy would have raised and produces
 * nothing; export writes one JSON line per record; a bad flag is one line on stderr and exit code 2.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildAlert, DetectionRules } from '@stinger/detection';
import { encodeAlert, encodeEnforcement, encodeEvent, type Event } from '@stinger/events';
import { bootstrapTopics, createProducer, fetchTopicOffsets, topicName, type TopicId } from '@stinger/kafka';
import { compilePolicy, parsePolicies } from '@stinger/policy';
import { sampleEvent } from '@stinger/testing';
import { runStinger, startStinger } from '../helpers/cli.ts';
import { testBrokers, testClient, uniqueName } from '../helpers/kafka.ts';
import { scratchDir } from '../helpers/scratch.ts';

const prefix = `${uniqueName('cli-read')}.`;
const env = () => ({ KAFKA_BROKERS: testBrokers(), STINGER_TOPIC_PREFIX: prefix });
const client = testClient('cli-reading-test');

const MINUTE = 60_000;
/** Records 40 and 20 minutes old: one range before the default 10-minute look-back, one inside --from 30m. */
const OLD_MS = Date.now() - 40 * MINUTE;
const RECENT_MS = Date.now() - 20 * MINUTE;
const iso = (ms: number) => new Date(ms).toISOString();

const shop = (name: string): NonNullable<Event['pod']> => ({
  namespace: 'shop',
  name,
  uid: `uid-${name}`,
  labels: {},
  annotations: {},
  workload: null,
  workload_kind: null,
  container: { id: 'c'.repeat(64), name: 'app', image: 'app:1' },
});

let seq = 0n;
function event(atMs: number, what: { binary: string; path?: string; pod?: NonNullable<Event['pod']> }): Event {
  seq += 1n;
  const time = BigInt(atMs) * 1_000_000n;
  const common = { node: 'node-r', seq, time, process: { binary: what.binary }, ...(what.pod ? { pod: what.pod } : {}) };
  if (what.path === undefined) return sampleEvent({ ...common, kind: 'exec', payload: { group: 'exec', filename: what.binary, euid: 0n, egid: 0n, secure_exec: false, args_truncated: false, sha256: null, reached_by: null } });
  return sampleEvent({ ...common, kind: 'file', payload: { group: 'file', op: 'open', path: what.path, path_as_given: what.path, new_path: null, flags: 0, mode: null, result: 3, reached_by: null, io: null } });
}

const oldExec = event(OLD_MS, { binary: '/usr/bin/ls' });
const recent = [
  event(RECENT_MS, { binary: '/usr/bin/cat', path: '/etc/shadow', pod: shop('web-1') }),
  event(RECENT_MS + 1000, { binary: '/usr/bin/curl', pod: shop('web-1') }),
  event(RECENT_MS + 2000, { binary: '/usr/bin/ls' }),
  event(RECENT_MS + 3000, { binary: '/usr/bin/cat', path: '/etc/hosts', pod: shop('api-1') }),
];

const SHADOW_POLICY = `apiVersion: stinger.io/v1alpha1
kind: TracingPolicy
metadata: { name: replay-shadow }
spec:
  rules:
    - { name: shadow-read, event: file, match: { path: { equal: [/etc/shadow] } }, action: kill, severity: high }
`;

async function produce(topic: TopicId, records: readonly { key: string; value: Buffer; timestampMs: number }[]): Promise<void> {
  const producer = createProducer({ client });
  await producer.connect();
  try {
    await producer.send(topicName(topic, prefix), records);
  } finally {
    await producer.disconnect();
  }
}

const ids = (stdout: string) => stdout.trim().split('\n').filter(Boolean).map((line) => (JSON.parse(line) as { id: string }).id);

before(async () => {
  await bootstrapTopics({ client, prefix, topics: ['events', 'alerts', 'enforcements', 'policies'] });
  await produce('events', [oldExec, ...recent].map((e) => ({ key: e.node, value: encodeEvent(e), timestampMs: Number(e.time / 1_000_000n) })));
  // An alert on the shadow read, with its enforcement outcome, for `stinger alerts`.
  const rules = new DetectionRules();
  rules.set('replay-shadow', compilePolicy(parsePolicies(SHADOW_POLICY, { source: 'p.yaml' }).policies[0]!).compiled);
  const alert = buildAlert({ rule: rules.find('replay-shadow', 'shadow-read')!, event: recent[0]!, related: [], count: 1, firstSeenNs: null, groupKey: null, nowNs: recent[0]!.time });
  await produce('alerts', [{ key: 'uid-web-1', value: encodeAlert(alert), timestampMs: RECENT_MS + 100 }]);
  const outcome = { alert_id: alert.id, command_id: null, node: 'node-r', policy: 'replay-shadow', rule: 'shadow-read', action: 'kill' as const, outcome: 'killed' as const, target: null, requested_at_ns: 1n, completed_at_ns: null, detail: null };
  await produce('enforcements', [{ key: alert.id, value: encodeEnforcement(outcome), timestampMs: RECENT_MS + 200 }]);
});

test('events without --follow read the range and exit: the default 10 minutes hold none of these records; --from 30m holds the recent ones', { timeout: 90_000 }, () => {
  const none = runStinger(['events', '-o', 'json'], env());
  assert.equal(none.status, 0, none.stderr);
  assert.equal(none.stdout, '');
  const all = runStinger(['events', '--from', '30m', '-o', 'json'], env());
  assert.equal(all.status, 0, all.stderr);
  assert.deepEqual(ids(all.stdout), recent.map((e) => e.id));
});

test('events: --from/--to bound by timestamp, filters narrow, compact is one line per event', { timeout: 90_000 }, () => {
  const bounded = runStinger(['events', '--from', iso(RECENT_MS + 1000), '--to', iso(RECENT_MS + 3000), '-o', 'json'], env());
  assert.equal(bounded.status, 0, bounded.stderr);
  assert.deepEqual(ids(bounded.stdout), [recent[1]!.id, recent[2]!.id]);
  const everything = runStinger(['events', '--from', iso(OLD_MS - MINUTE), '--binary', 'ls', '-o', 'json'], env());
  assert.deepEqual(ids(everything.stdout), [oldExec.id, recent[2]!.id]);
  const inPods = runStinger(['events', '--from', '30m', '--namespace', 'shop', '--pod', 'web', '--kind', 'file'], env());
  assert.equal(inPods.status, 0, inPods.stderr);
  const lines = inPods.stdout.trim().split('\n');
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /node-r shop\/web-1 file +pid=\d+ \/usr\/bin\/cat open \/etc\/shadow result=3/);
});

test('alerts without --follow print the range\'s alerts joined with their outcome', { timeout: 90_000 }, () => {
  const result = runStinger(['alerts', '--from', '30m', '--severity', 'high'], env());
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /^\S+ HIGH +replay-shadow\/shadow-read shop\/web-1 pid \d+ \/usr\/bin\/cat → killed\n$/);
  const filtered = runStinger(['alerts', '--from', '30m', '--policy', 'other'], env());
  assert.equal(filtered.stdout, '');
});

test('replay with a policy file prints the alert it would have raised and produces nothing', { timeout: 90_000 }, async () => {
  const file = join(scratchDir('stinger-replay-'), 'shadow.yaml');
  writeFileSync(file, SHADOW_POLICY);
  const before = await fetchTopicOffsets(client, topicName('alerts', prefix));
  const result = runStinger(['replay', '--from', iso(OLD_MS - MINUTE), '--policy', file], env());
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /^\S+ HIGH +replay-shadow\/shadow-read shop\/web-1 pid \d+ \/usr\/bin\/cat → would kill\n$/);
  assert.match(result.stderr, /replayed 5 events .* 1 alerts; nothing was written to Kafka/);
  const json = runStinger(['replay', '--from', iso(OLD_MS - MINUTE), '--policy', file, '-o', 'json'], env());
  const [alert] = json.stdout.trim().split('\n').map((line) => JSON.parse(line) as { event: { id: string }; time: string });
  assert.equal(alert?.event.id, recent[0]!.id);
  assert.equal(alert?.time.slice(0, 19), iso(RECENT_MS).slice(0, 19), 'a replayed alert carries the time of its event');
  assert.deepEqual(await fetchTopicOffsets(client, topicName('alerts', prefix)), before, 'stinger.alerts unchanged');
});

test('replay refuses an invalid policy file field by field, and replays nothing', { timeout: 60_000 }, () => {
  const file = join(scratchDir('stinger-replay-'), 'bad.yaml');
  writeFileSync(file, SHADOW_POLICY.replace('event: file', 'event: files'));
  const result = runStinger(['replay', '--from', '1h', '--policy', file], env());
  assert.equal(result.status, 1);
  assert.match(result.stderr, /bad\.yaml:\d+:\d+: spec\.rules\[0\]\.event: .*\nstinger: 1 problem\(s\); nothing was replayed\n$/);
});

test('export writes one JSON line per record, with where it is stored', { timeout: 90_000 }, () => {
  const result = runStinger(['export', '--from', iso(OLD_MS - MINUTE)], env());
  assert.equal(result.status, 0, result.stderr);
  const lines = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as { topic: string; partition: number; offset: string; timestamp: string; key: string; value: { id: string } });
  assert.deepEqual(lines.map((l) => l.value.id), [oldExec.id, ...recent.map((e) => e.id)]);
  assert.deepEqual(lines.map((l) => [l.topic, l.key, l.timestamp]).at(0), [topicName('events', prefix), 'node-r', iso(OLD_MS)]);
  assert.match(result.stderr, /exported 5 of 5 records/);
});

test('a bad flag or value is one line on stderr and exit code 2', () => {
  for (const args of [['events', '--bogus'], ['events', '--from', 'yesterday'], ['replay', '--to', 'now'], ['alerts', '--severity', 'urgent'], ['events', '--follow', '--to', 'now']]) {
    const result = runStinger(args, env());
    assert.equal(result.status, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, /^stinger: [^\n]+\n$/, args.join(' '));
  }
});

test('every command has --help (exit 0); --version prints the version', () => {
  for (const command of ['events', 'alerts', 'replay', 'export', 'status', 'setup']) {
    const result = runStinger([command, '--help'], env());
    assert.equal(result.status, 0);
    assert.match(result.stdout, new RegExp(`^usage: stinger ${command}`));
  }
  assert.match(runStinger(['--version'], env()).stdout, /^stinger \d+\.\d+\.\d+\n$/);
});

test('status -o json is one JSON object with the same facts: each topic with its record count', { timeout: 60_000 }, () => {
  const result = runStinger(['status', '-o', 'json'], env());
  assert.equal(result.status, 0, result.stderr);
  const report = JSON.parse(result.stdout) as { brokers: string; topics: { topic: string; records?: number }[] };
  assert.equal(report.brokers, testBrokers());
  assert.equal(report.topics.find((t) => t.topic === topicName('events', prefix))?.records, 5);
});

test('events --follow keeps reading: a record produced after the start is printed, and --limit ends the command', { timeout: 90_000 }, async () => {
  const follower = startStinger(['events', '--follow', '--from', 'now', '--binary', 'follow-me', '-o', 'json', '--limit', '1'], env());
  const timer = setTimeout(() => follower.stop(), 60_000);
  try {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const later = event(Date.now() + 500, { binary: '/usr/bin/follow-me' });
    await produce('events', [{ key: later.node, value: encodeEvent(later), timestampMs: Date.now() + 500 }]);
    const result = await follower.exited;
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(ids(result.stdout), [later.id]);
  } finally {
    clearTimeout(timer);
  }
});

test('replay without --policy uses the signed policies in force on stinger.policies', { timeout: 90_000 }, () => {
  const file = join(scratchDir('stinger-replay-'), 'shadow.yaml');
  writeFileSync(file, SHADOW_POLICY);
  const applied = runStinger(['policy', 'apply', file], env());
  assert.equal(applied.status, 0, applied.stderr);
  const result = runStinger(['replay', '--from', iso(OLD_MS - MINUTE), '--to', iso(RECENT_MS + 4000)], env());
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /^\S+ HIGH +replay-shadow\/shadow-read shop\/web-1 pid \d+ \/usr\/bin\/cat → would kill\n$/);
  assert.match(result.stderr, /with 1 policies: 1 alerts/);
});
