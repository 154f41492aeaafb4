/**
 * The enricher service (services/enricher, a child process outside a cluster) killed with SIGKILL
 * mid-stream and started again loses and duplicates nothing: a read_committed consumer of
 * stinger.events sees every (agent, seq) of stinger.events.raw exactly once, in order per node.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { processEnvironment } from '@stinger/config';
import { decodeEvent, encodeRawEvent } from '@stinger/events';
import { bootstrapTopics, createProducer, topicName } from '@stinger/kafka';
import { sampleRawEvent } from '@stinger/testing';
import { freePort } from '../helpers/agent.ts';
import { collectTopic, testBrokers, testClient, uniqueName } from '../helpers/kafka.ts';
import { startService } from '../helpers/service.ts';

const NODES = ['node-a', 'node-b', 'node-c'];
const PER_NODE = 5000;
const TOTAL = NODES.length * PER_NODE;

const children: ChildProcess[] = [];

after(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** Starts the enricher with `prefix`; resolves once it logs "enricher running". */
async function startEnricher(prefix: string, log: string[]): Promise<ChildProcess> {
  const env: Record<string, string | undefined> = {
    ...processEnvironment(),
    KAFKA_BROKERS: testBrokers(),
    STINGER_TOPIC_PREFIX: prefix,
    // The same node name on both starts: the same transactional id, so the restart fences the killed one.
    STINGER_NODE_NAME: 'enricher-restart-test',
    STINGER_LOG_LEVEL: 'info',
    // Its own metrics port: a running `stinger up` holds the default one.
    STINGER_ENRICHER_METRICS_ADDRESS: `127.0.0.1:${await freePort()}`,
  };
  delete env['KUBECONFIG'];
  delete env['KUBERNETES_SERVICE_HOST'];
  const started = startService({ service: 'enricher', env, readyMessage: 'enricher running', timeoutMs: 30_000 });
  children.push(started.child);
  started.child.stderr?.on('data', (chunk: Buffer) => log.push(chunk.toString()));
  await started.running;
  return started.child;
}

test('enricher SIGKILLed mid-stream and restarted: every (agent, seq) exactly once, in order per node', { timeout: 120_000 }, async (t) => {
  const prefix = `${uniqueName('enricher-restart')}.`;
  const client = testClient('enricher-restart-test');
  await bootstrapTopics({ client, prefix, topics: ['eventsRaw', 'events', 'dlq'] });

  const producer = createProducer({ client, lingerMs: 2 });
  await producer.connect();
  const sends: Promise<void>[] = [];
  for (let seq = 0; seq < PER_NODE; seq += 1) {
    for (const node of NODES) {
      await producer.whenWritable();
      sends.push(producer.enqueue(topicName('eventsRaw', prefix), { key: node, value: encodeRawEvent(sampleRawEvent({ node, seq: BigInt(seq) })) }));
    }
  }
  await Promise.all(sends);
  await producer.disconnect();

  const events = await collectTopic(client, topicName('events', prefix));
  const letters = await collectTopic(client, topicName('dlq', prefix));
  const log: string[] = [];
  try {
    const first = await startEnricher(prefix, log);
    const exited = new Promise((resolve) => first.once('exit', resolve));
    await events.waitFor(TOTAL / 5, 60_000);
    first.kill('SIGKILL');
    await exited;
    const seenAtKill = events.records.length;
    assert.ok(seenAtKill < TOTAL, `the enricher must be killed mid-stream (it had already written ${seenAtKill} of ${TOTAL})`);

    const restarted = Date.now();
    const second = await startEnricher(prefix, log);
    await events.waitFor(TOTAL, 90_000);
    t.diagnostic(`killed with ${seenAtKill} of ${TOTAL} visible; the restart took ${Date.now() - restarted} ms to finish them`);
    // Anything duplicated would arrive shortly after the last expected record.
    await new Promise((resolve) => setTimeout(resolve, 2000));

    const seqsByNode = new Map<string, bigint[]>(NODES.map((node) => [node, []]));
    for (const record of events.records) {
      assert.ok(record.value, `tombstone at ${record.partition}/${record.offset}`);
      const event = decodeEvent(record.value);
      assert.equal(record.key?.toString(), event.node, 'keyed by node');
      assert.deepEqual({ ...event.enrichment }, { status: 'host', reason: null }, 'enriched by the service, not copied');
      const seqs = seqsByNode.get(event.node);
      assert.ok(seqs, `unexpected node ${event.node}`);
      seqs.push(event.seq);
    }
    for (const [node, seqs] of seqsByNode) {
      assert.equal(seqs.length, PER_NODE, `${node}: ${seqs.length} events, expected ${PER_NODE} (duplicates or gaps)`);
      seqs.forEach((seq, index) => assert.equal(seq, BigInt(index), `${node}: event ${index} has seq ${seq}`));
    }
    assert.equal(letters.records.length, 0, 'no dead letters');

    const stopped = new Promise<number | null>((resolve) => second.once('exit', resolve));
    second.kill('SIGTERM');
    assert.equal(await stopped, 0, `clean shutdown after the restart:\n${log.slice(-5).join('\n')}`);
  } finally {
    await events.stop();
    await letters.stop();
  }
});
