/**
 * A transactional consume-transform-produce worker killed with SIGKILL mid-stream and restarted
 * leaves no duplicate and no gap for a read_committed consumer, counted by per-agent sequence numbers.
 * The first kill lands inside an open transaction for sure (the worker's records and offsets are sent, its
 * commit is held: transform-worker's hangAtCommit); the second at whatever point the restarted worker has reached.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { decodeRawEvent, encodeRawEvent } from '@stinger/events';
import { createProducer, createTopics, type KafkaClient } from '@stinger/kafka';
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

interface Worker {
  readonly child: ChildProcess;
  /** Resolves when the worker says its transaction is open and its commit held (only with hangAtCommit). */
  readonly transactionOpen: Promise<void>;
}

/** Starts a worker; resolves once it consumes. hangAtCommit: its n-th transaction's commit never completes. */
function startWorker(hangAtCommit?: number): Promise<Worker> {
  const args = [WORKER, source, target, dlq, group, transactionalId, ...(hangAtCommit === undefined ? [] : [String(hangAtCommit)])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  workers.push(child);
  let output = '';
  let transactionOpened = () => {};
  const transactionOpen = new Promise<void>((resolve) => (transactionOpened = resolve));
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('ready')) resolve({ child, transactionOpen });
      if (output.includes('open transaction')) transactionOpened();
    });
    child.once('exit', (code) => reject(new Error(`worker exited early with ${code}`)));
  });
}

async function kill(worker: Worker): Promise<void> {
  const exited = new Promise((resolve) => worker.child.once('exit', resolve));
  worker.child.kill('SIGKILL');
  await exited;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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

test('SIGKILL inside an open transaction, SIGKILL again mid-stream, restart: every sequence number exactly once, in order per node', { timeout: 240_000 }, async () => {
  const collector = await collectTopic(client, target);
  try {
    // Kill 1: the second transaction has sent its records and offsets, its commit is held.
    const first = await startWorker(2);
    await Promise.race([first.transactionOpen, sleep(60_000).then(() => assert.fail('the worker never opened its second transaction'))]);
    await kill(first);
    const committedAtKill = collector.records.length;
    assert.ok(committedAtKill < TOTAL, `the open transaction's records are not committed (${committedAtKill} of ${TOTAL} seen)`);
    await sleep(2000);
    assert.equal(collector.records.length, committedAtKill, 'nothing of the killed open transaction became visible to read_committed');

    // Kill 2: wherever the restarted worker is once it has committed something.
    const second = await startWorker();
    await collector.waitFor(committedAtKill + 1, 60_000);
    await kill(second);

    await startWorker();
    await collector.waitFor(TOTAL, 120_000);
    // Anything duplicated would arrive shortly after the last expected record.
    await sleep(2000);

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
  } finally {
    await collector.stop();
  }
});
