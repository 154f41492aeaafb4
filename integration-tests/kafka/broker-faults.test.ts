/**
 * Issue 11 item 1: broker faults under the settings production uses. A three-node KRaft cluster runs as containers
 * of the locally built Kafka image (`stinger images kafka`) through testcontainers on podman's Docker API
 * (libs/testing's startKafkaContainerCluster); Stinger's topics get three copies and min.insync.replicas=2, every
 * producer sends acks=all. The test writes RawEvents to stinger.events.raw as three agents would (per-agent sequence
 * numbers from 0, ~300 a second, every 25th an exec a monitor-mode rule alerts on), through the real enricher →
 * detector → enforcer, and meanwhile:
 *   1. kills -9 the leader of agent 0's partition of stinger.events.raw: the stream goes on through the other two;
 *      starts it again and waits until every partition has its three in-sync replicas;
 *   2. kills the current leader and a second broker: one of three is left, below min.insync.replicas (and the
 *      controller quorum is lost), so writes stall: nothing new reaches stinger.events for STALL_MS;
 *   3. starts both again: the stream resumes.
 * Like the agent, the synthetic one never drops an event: a send that fails after the client's retries is sent again
 * with the same records, under a new producer id (libs/kafka producer.ts), so a batch the broker wrote but did not
 * confirm is on stinger.events.raw twice; the enricher drops the repeat by (agent_id, seq). The resends and the
 * repeats on stinger.events.raw are counted and reported.
 *
 * Asserted for read_committed readers: stinger.events holds every sequence number of every agent exactly once,
 * stinger.alerts exactly one alert per alerting event, every alert an outcome; no service exited or was restarted.
 * Needs root, podman, runc and what `stinger images kafka` needs (mmdebstrap, umoci, skopeo); the containers and the
 * podman API it starts are removed in after() whatever happened.
 *
 * Runs by default (2-3 minutes with the image cached); STINGER_BROKER_FAULTS=0 skips it, visibly, for a quick local
 * run. It was opt-in until it passed reliably, since `npm test` gates every change:
 * of 7 runs before 2026-12-03 only the last passed; the causes found since are fixed (a
 * transform stopped for good on a non-retriable wrap of UNKNOWN_MEMBER_ID, the enforcer dropping an outcome whose send
 * failed, the detector's state keeping an aborted batch's events). On 2026-12-03, acknowledged records went missing
 * from stinger.events.raw three times (20, 30 and 10 records, the last with no resend at all: seq 400-409 of the agent
 * whose partition leader was killed). The cause is kafkajs 2.2.4's send retry (libs/kafka partition-router.ts): a
 * send spanning partitions on several brokers skips, on retry, a broker that had already answered, even when a
 * partition whose leader died has moved to it, and resolves without that partition's records. Every Stinger send now
 * goes to one partition per kafkajs call, transactions included. Repeats (seq 2040-2049 twice, run 2) fit a resend of
 * a batch the brokers had partly written; resends now go out under a new producer id and the enricher drops repeats
 * by (agent_id, seq). Then two runs found monitor-mode alerts recorded `expired` after the stall (the enforcer
 * now says expired only for an alert it would act on); the three runs after all these fixes passed.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, processEnvironment } from '@stinger/config';
import { decodeAlert, decodeEnforcement, decodeEvent, decodeRawEvent } from '@stinger/events';
import { bootstrapTopics, createKafkaClient, fetchPartitionReplicas, topicName, type ConsumedRecord, type KafkaClient } from '@stinger/kafka';
import { createLogger } from '@stinger/log';
import { startKafkaContainerCluster, type KafkaContainerCluster } from '@stinger/testing';
import { runStinger } from '../helpers/cli.ts';
import { collectTopic, uniqueName, type Collector } from '../helpers/kafka.ts';
import { startPipeline, type Pipeline } from '../helpers/pipeline.ts';
import { gapsAndRepeats, startSyntheticAgents, type SyntheticAgents } from '../helpers/synthetic-agents.ts';

const ENABLED = processEnvironment()['STINGER_BROKER_FAULTS'] !== '0';
const SKIP_REASON = 'STINGER_BROKER_FAULTS=0 skips it';
const tag = randomBytes(4).toString('hex');
const prefix = `${uniqueName('broker-faults')}.`;
const dir = mkdtempSync(join(tmpdir(), 'stinger-broker-faults-'));
const NODES = ['a', 'b', 'c'].map((n) => `faults-${n}-${tag}`);
const PER_TICK = 10;
const TICK_MS = 100;
const ALERT_EVERY = 25n;
const PROGRESS = 600;
/** How long writes must stay stalled with two of three brokers down. */
const STALL_MS = 12_000;
const policy = `broker-faults-${tag}`;
const alertPrefix = `/usr/bin/alert-${tag}-`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let cluster: KafkaContainerCluster | undefined;
let client: KafkaClient;
let brokers = '';
let pipeline: Pipeline | undefined;
let collectors: Record<'raw' | 'events' | 'alerts' | 'enforcements', Collector> | undefined;
let stream: SyntheticAgents | undefined;

before(async () => {
  if (!ENABLED) return;
  // The image is cached after its first build (~45 s); a cached run only checks podman has it.
  const image = runStinger(['images', 'kafka'], {}, { timeoutMs: 600_000 });
  assert.equal(image.status, 0, `stinger images kafka: ${image.stderr}`);
  const config = loadConfig();
  const logger = createLogger({ name: 'broker-faults', level: config.logLevel === 'info' ? 'warn' : config.logLevel });
  cluster = await startKafkaContainerCluster({ logger });
  brokers = cluster.brokers.join(',');
  client = createKafkaClient({ brokers: [...cluster.brokers], connection: config.kafka, role: 'broker-faults', logger });
  await bootstrapTopics({ client, prefix, replicationFactor: cluster.replication.replicationFactor });
  const file = join(dir, 'policy.yaml');
  writeFileSync(
    file,
    `apiVersion: stinger.io/v1alpha1
kind: TracingPolicy
metadata: { name: ${policy} }
spec:
  mode: monitor
  rules:
    - name: alert-exec
      event: exec
      match: { binary: { prefix: [${alertPrefix}] } }
      action: kill
      severity: low
`,
  );
  // Right after creation a topic's leader may not be known to every broker yet ("This server is not the leader for
  // that topic-partition"), which `stinger policy apply` reports instead of retrying: try it a few times.
  let applied = runStinger(['policy', 'apply', file], { KAFKA_BROKERS: brokers, STINGER_TOPIC_PREFIX: prefix });
  for (let attempt = 1; attempt < 5 && applied.status !== 0 && /not the leader/.test(applied.stderr); attempt++) {
    await sleep(2000);
    applied = runStinger(['policy', 'apply', file], { KAFKA_BROKERS: brokers, STINGER_TOPIC_PREFIX: prefix });
  }
  assert.equal(applied.status, 0, applied.stderr);
  collectors = {
    raw: await collectTopic(client, topicName('eventsRaw', prefix)),
    events: await collectTopic(client, topicName('events', prefix)),
    alerts: await collectTopic(client, topicName('alerts', prefix)),
    enforcements: await collectTopic(client, topicName('enforcements', prefix)),
  };
  pipeline = await startPipeline({ brokers, topicPrefix: prefix, extraEnv: { STINGER_TOPIC_REPLICATION_FACTOR: '3' } });
  stream = startSyntheticAgents({ client, prefix, nodes: NODES, perTick: PER_TICK, tickMs: TICK_MS, alertEvery: ALERT_EVERY, alertPrefix, resendFailed: true });
});

after(async () => {
  if (!ENABLED) return;
  stream?.abandon();
  await stream?.done.catch(() => undefined);
  await pipeline?.stop();
  // A collector leaving its group while brokers are down retries for minutes (a test that failed with two killed).
  for (const collector of Object.values(collectors ?? {})) await Promise.race([collector.stop().catch(() => undefined), sleep(10_000)]);
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** `what` is said when the wait times out; a function is called then, to say what was missing. */
async function until(what: string | (() => string), done: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) {
      // The last warnings and errors say more than the last (stats) lines when a service stopped moving.
      const logs = Object.entries(pipeline?.services ?? {}).map(([name, s]) => `--- ${name}\n${[...s.log.filter((line) => /"level":[456]0/.test(line)).slice(-12), ...s.log.slice(-3)].map((line) => line.slice(0, 600)).join('\n')}`);
      const counts = (['raw', 'events', 'alerts', 'enforcements'] as const).map((id) => `${id} ${distinct(collectors![id].records).length}`).join(', ');
      throw new Error(`${typeof what === 'string' ? what : what()}: not within ${timeoutMs} ms (distinct records: ${counts}; the agents' stream: ${JSON.stringify(stream?.resends())})\n${logs.join('\n')}`);
    }
    await sleep(250);
  }
}

/**
 * The records of a collector, each once: a collector's consumer reads at least once, so after a broker fault it may
 * be handed records again that it had (its group's offsets were not committed); the topic holds each once.
 */
function distinct(records: readonly ConsumedRecord[]): ConsumedRecord[] {
  const seen = new Set<string>();
  return records.filter((r) => {
    const key = `${r.partition}@${r.offset}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * The count once it has not moved for SETTLED_QUIET_MS; fails if it still moves after SETTLED_MAX_MS (writes that do
 * not stall).
 */
const SETTLED_QUIET_MS = 4000;
const SETTLED_MAX_MS = 40_000;
async function settled(what: string, count: () => number): Promise<number> {
  const deadline = Date.now() + SETTLED_MAX_MS;
  let last = count();
  let since = Date.now();
  while (Date.now() - since < SETTLED_QUIET_MS) {
    if (Date.now() > deadline) throw new Error(`${what} still grows ${SETTLED_MAX_MS} ms after two of three brokers were killed (${last} records): writes did not stall`);
    await sleep(250);
    const now = count();
    if (now !== last) {
      last = now;
      since = Date.now();
    }
  }
  return last;
}

async function progress(by: number, what: string): Promise<void> {
  const from = distinct(collectors!.events.records).length;
  await until(what, () => distinct(collectors!.events.records).length >= from + by, 180_000);
}

/** The partition agent 0's records go to (its key decides it), as seen on stinger.events.raw. */
function agentZeroPartition(): number {
  const record = collectors!.raw.records.find((r) => r.key?.toString() === NODES[0]);
  assert.ok(record, 'agent 0 has records on stinger.events.raw');
  return record.partition;
}

async function leaderOf(partition: number): Promise<number> {
  const replicas = await fetchPartitionReplicas(client, topicName('eventsRaw', prefix));
  const leader = replicas.find((p) => p.partition === partition)?.leader ?? -1;
  assert.ok(leader > 0, `partition ${partition} of stinger.events.raw has a leader`);
  return leader;
}

/** True when every partition of the pipeline's topics has all three replicas in sync. */
async function fullyReplicated(): Promise<boolean> {
  for (const id of ['eventsRaw', 'events', 'alerts', 'enforcements'] as const) {
    const replicas = await fetchPartitionReplicas(client, topicName(id, prefix)).catch(() => []);
    if (replicas.length === 0 || replicas.some((p) => p.isr.length < 3 || p.leader < 0)) return false;
  }
  return true;
}

test('leader killed -9 and restarted, then two of three brokers down: writes stall, resume, every event exactly once, no service restarted', { timeout: 1_200_000, skip: ENABLED ? false : SKIP_REASON }, async (t) => {
  const c = collectors!;
  const services = Object.values(pipeline!.services);
  const pids = services.map((s) => s.child.pid);
  await progress(PROGRESS, 'the stream flows through the pipeline');
  assert.deepEqual(cluster!.replication, { replicationFactor: 3, minInsyncReplicas: 2 });

  // 1. The leader of agent 0's partition dies; the other two carry on.
  const partition = agentZeroPartition();
  const first = await leaderOf(partition);
  const killedAt = Date.now();
  await cluster!.kill(first);
  await progress(PROGRESS, `the stream goes on with broker ${first} (leader of stinger.events.raw[${partition}]) killed`);
  const flowedWithoutLeaderMs = Date.now() - killedAt;
  await cluster!.start(first);
  await until('every partition has its three in-sync replicas again', fullyReplicated, 180_000);
  await progress(PROGRESS, 'the stream flows with all three brokers');

  // 2. The leader and a second broker die: one in sync is fewer than min.insync.replicas=2; writes must stall.
  const leader = await leaderOf(partition);
  const second = cluster!.nodes.map((n) => n.nodeId).find((id) => id !== leader)!;
  await Promise.all([cluster!.kill(leader), cluster!.kill(second)]);
  // What was acknowledged before the kills reaches the readers first: a reader that fetched from a killed leader finds
  // the new one only after a metadata refresh, seconds later (a fixed 3 s wait once took 2,730 such records for writes).
  const rawStalledAt = await settled('stinger.events.raw', () => distinct(c.raw.records).length);
  const stalledAt = await settled('stinger.events', () => distinct(c.events.records).length);
  const acknowledgedAt = stream!.resends().acknowledged;
  await sleep(STALL_MS);
  // Acknowledged, not visible: a leader left without its followers shrinks its in-sync set to itself and then commits
  // what it had appended before the kills (seen: 20 records on stinger.events.raw during the stall). Their writer got
  // no acknowledgement and sends them again later; the enricher drops the repeat.
  assert.equal(stream!.resends().acknowledged, acknowledgedAt, `no write to stinger.events.raw is acknowledged with brokers ${leader} and ${second} down`);
  const rawDuringStall = distinct(c.raw.records).length - rawStalledAt;
  assert.equal(distinct(c.events.records).length, stalledAt, 'nothing new reaches stinger.events while writes stall');

  // 3. Both back: the stream resumes.
  const restartedAt = Date.now();
  await Promise.all([cluster!.start(leader), cluster!.start(second)]);
  await progress(PROGRESS, 'the stream resumes after both brokers are back');
  const resumedMs = Date.now() - restartedAt;

  stream!.stop();
  await stream!.done;
  const sent = stream!.sent();
  const total = sent.reduce((sum, s) => sum + Number(s.count), 0);
  // When some never come: which sequence numbers stinger.events.raw lacks, per node, and where each node's records are.
  const rawGaps = () =>
    sent
      .map(({ node, count }) => {
        const records = distinct(c.raw.records).filter((r) => decodeRawEvent(r.value ?? Buffer.alloc(0)).node === node);
        const { gaps } = gapsAndRepeats(records.map((r) => decodeRawEvent(r.value ?? Buffer.alloc(0)).seq), count);
        return `; ${node} (partition ${records[0]?.partition}) lacks on stinger.events.raw: ${gaps.join(', ') || 'nothing'}`;
      })
      .join('');
  await until(() => `all ${total} events on stinger.events${rawGaps()}`, () => distinct(c.events.records).length >= total, 300_000);
  const alertsOfPolicy = () => distinct(c.alerts.records).map((r) => decodeAlert(r.value ?? Buffer.alloc(0))).filter((a) => a.policy === policy);
  await until(`all ${stream!.alerting.size} alerts`, () => alertsOfPolicy().length >= stream!.alerting.size, 180_000);
  const alertIds = new Set(alertsOfPolicy().map((a) => a.id));
  const outcomes = () => distinct(c.enforcements.records).map((r) => decodeEnforcement(r.value ?? Buffer.alloc(0))).filter((e) => alertIds.has(e.alert_id));
  await until('an outcome for every alert', () => new Set(outcomes().map((e) => e.alert_id)).size >= alertIds.size, 180_000);
  await sleep(3000); // anything that would come twice has had time to arrive

  const events = distinct(c.events.records).map((r) => decodeEvent(r.value ?? Buffer.alloc(0)));
  const raw = distinct(c.raw.records).map((r) => decodeRawEvent(r.value ?? Buffer.alloc(0)));
  for (const { node, count } of sent) {
    const { gaps, repeats } = gapsAndRepeats(events.filter((e) => e.node === node).map((e) => e.seq), count);
    // Where a repeat comes from: the agents' stand-in writing a batch twice to stinger.events.raw (a resend of a batch
    // the broker had written), or the pipeline (the same raw record enriched twice).
    const rawRepeats = gapsAndRepeats(raw.filter((e) => e.node === node).map((e) => e.seq), count).repeats;
    assert.deepEqual(
      { node, gaps, repeats },
      { node, gaps: [], repeats: [] },
      `stinger.events: every sequence number of ${node} from 0 to ${count - 1n} exactly once (on stinger.events.raw, repeated: ${rawRepeats.slice(0, 10).join(', ') || 'none'})`,
    );
  }
  assert.equal(events.length, total, 'nothing else on stinger.events');
  const alerted = alertsOfPolicy().map((a) => `${a.event.node}/${a.event.seq}`);
  assert.equal(new Set(alerted).size, alerted.length, `no alert twice: ${alerted.filter((k, i) => alerted.indexOf(k) !== i).slice(0, 10).join(', ')}`);
  assert.deepEqual(new Set(alerted), stream!.alerting, 'one alert for every alerting event');
  assert.deepEqual([...new Set(outcomes().map((e) => e.outcome))], ['monitor_only'], 'monitor-mode alerts are never acted on');

  assert.deepEqual(services.map((s) => [s.child.pid, s.child.exitCode, s.child.signalCode]), pids.map((pid) => [pid, null, null]), 'every service is the process started before the faults, still running');
  const { resends, lastError } = stream!.resends();
  const rawRepeats = raw.length - new Set(raw.map((e) => `${e.node}/${e.seq}`)).size;
  t.diagnostic(
    `${total} events (${sent.map((s) => `${s.node}: ${s.count}`).join(', ')}), ${alertIds.size} alerts; flowed on ${PROGRESS} events ${flowedWithoutLeaderMs} ms after leader ${first} was killed; ` +
      `stalled ${STALL_MS} ms with ${leader} and ${second} down (${rawDuringStall} records appended before the kills became visible on stinger.events.raw meanwhile); resumed ${resumedMs} ms after their restart began; agent batch resends ${resends}${resends > 0 ? ` (last: ${lastError})` : ''}, repeats on stinger.events.raw dropped by the enricher ${rawRepeats}`,
  );
});
