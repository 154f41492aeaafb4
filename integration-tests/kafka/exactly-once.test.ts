/**
 * A transactional consume-transform-produce worker killed with SIGKILL mid-stream and restarted
 * leaves no duplicate and no gap for a read_committed consumer, counted by per-agent sequence numbers.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { decodeRawEvent, encodeRawEvent } from '@stinger/events';
import { createProducer, createTopics, fetchTopicOffsets, type KafkaClient } from '@stinger/kafka';
import { sampleRawEvent } from '@stinger/testing';
import { collectTopic, testClient, uniqueName } from '../helpers/kafka.ts';

const WORKER = fileURLToPath(new URL('../helpers/transform-worker.ts', import.meta.url));
const NODES = ['node-a', 'node-b', 'node-c'];
const PER_NODE = 5000;
const TOTAL = NODES.length * PER_NODE;

let client: KafkaClient;
const source = uniqueName('eos.src');
const target = uniqueName('eos.dst');
const dlq = uniqueName('eos.dlq');
const group = uniqueName('eos.worker');
const transactionalId = uniqueName('eos.tx');
const workers: ChildProcess[] = [];

function startWorker(): Promise<ChildProcess> {
  const child = spawn(process.execPath, [WORKER, source, target, dlq, group, transactionalId], { stdio: ['ignore', 'pipe', 'inherit'] });
  workers.push(child);
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`worker exited early with ${code}`)));
  });
}

before(async () => {
  client = testClient('eos-test');
  await createTopics(client, [
    { topic: source, partitions: 3 },
    { topic: target, partitions: 3 },
    { topic: dlq, partitions: 1 },
  ]);
  const producer = createProducer({ client, lingerMs: 2 });
  await producer.connect();
  const sends: Promise<void>[] = [];
  for (let seq = 0; seq < PER_NODE; seq += 1) {
    for (const node of NODES) {
      sends.push(producer.enqueue(source, { key: node, value: encodeRawEvent(sampleRawEvent({ node, seq: BigInt(seq) })) }));
    }
  }
  await Promise.all(sends);
  await producer.disconnect();
});

after(async () => {
  for (const worker of workers) worker.kill('SIGKILL');
});

test('SIGKILL mid-stream and restart: every sequence number exactly once, in order per node', { timeout: 180_000 }, async () => {
  const collector = await collectTopic(client, target);
  try {
    const first = await startWorker();
    await collector.waitFor(TOTAL / 5, 60_000);
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    const seenAtKill = collector.records.length;
    assert.ok(seenAtKill < TOTAL, `the worker must be killed mid-stream (it had already written ${seenAtKill} of ${TOTAL})`);

    await startWorker();
    await collector.waitFor(TOTAL, 120_000);
    // Anything duplicated would arrive shortly after the last expected record.
    await new Promise((resolve) => setTimeout(resolve, 2000));

    const seqsByNode = new Map<string, bigint[]>(NODES.map((n) => [n, []]));
    for (const record of collector.records) {
      assert.ok(record.value);
      const event = decodeRawEvent(record.value);
      assert.equal(record.key?.toString(), event.node);
      seqsByNode.get(event.node)?.push(event.seq);
    }
    for (const [node, seqs] of seqsByNode) {
      assert.equal(seqs.length, PER_NODE, `${node}: ${seqs.length} records, expected ${PER_NODE} (duplicates or gaps)`);
      seqs.forEach((seq, index) => assert.equal(seq, BigInt(index), `${node}: record ${index} has seq ${seq}`));
    }
    // The log holds more than the committed records when the kill left a transaction open (aborted).
    const offsets = await fetchTopicOffsets(client, target);
    const logged = offsets.partitions.reduce((sum, p) => sum + p.high, 0n);
    assert.ok(logged >= BigInt(TOTAL), `target log has ${logged} entries`);
  } finally {
    await collector.stop();
  }
});
