/**
 * The real agent on the real kernel publishing to the real broker: a known binary's exec with its
 * args, the fork tree's parent exec ids, exit codes, and gap-free per-agent sequence numbers.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { decodeRawEvent, type RawEvent } from '@stinger/events';
import { bootstrapTopics, topicName, type KafkaClient } from '@stinger/kafka';
import { buildBpf, startAgent, type RunningAgent } from '../helpers/agent.ts';
import { collectTopic, testBrokers, testClient, uniqueName, type Collector } from '../helpers/kafka.ts';

let client: KafkaClient;
let agent: RunningAgent;
let collector: Collector;
const prefix = `${uniqueName('agent')}.`;

before(async () => {
  buildBpf();
  client = testClient('agent-test');
  await bootstrapTopics({ client, prefix });
  collector = await collectTopic(client, topicName('eventsRaw', prefix));
  agent = await startAgent({ brokers: testBrokers(), topicPrefix: prefix });
});

after(async () => {
  const code = await agent?.stop();
  await collector?.stop();
  assert.equal(code, 0, 'the agent shuts down cleanly on SIGTERM');
});

async function eventsMatching(predicate: (e: RawEvent) => boolean, count: number, timeoutMs = 20_000): Promise<RawEvent[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = collector.records.map((r) => decodeRawEvent(r.value ?? Buffer.alloc(0))).filter(predicate);
    if (found.length >= count) return found;
    if (Date.now() > deadline) throw new Error(`only ${found.length} of ${count} matching events after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

test('exec of a known binary with its args, inside a fork tree with correct parent exec ids', { timeout: 60_000 }, async () => {
  const marker = `stinger-${randomBytes(4).toString('hex')}`;
  const result = spawnSync('/bin/sh', ['-c', `/bin/true ${marker} a b; exit 3`]);
  assert.equal(result.status, 3);

  const [trueExec] = await eventsMatching((e) => e.kind === 'exec' && e.process.args[0] === marker, 1);
  assert.ok(trueExec);
  assert.match(trueExec.process.binary, /\/true$/);
  assert.deepEqual(trueExec.process.args, [marker, 'a', 'b']);
  assert.equal(trueExec.node, 'test-node');

  const [shExec] = await eventsMatching((e) => e.kind === 'exec' && e.process.pid === result.pid, 1);
  assert.ok(shExec, 'the shell exec is seen');
  assert.deepEqual(shExec.process.args, ['-c', `/bin/true ${marker} a b; exit 3`]);

  // sh forks a child which execs /bin/true: the fork names the child's exec id, and /bin/true's parent is the shell's execution.
  const [fork] = await eventsMatching((e) => e.kind === 'fork' && e.payload.group === 'fork' && e.payload.child_pid === trueExec.process.pid, 1);
  assert.ok(fork);
  assert.equal(fork.process.exec_id, shExec.process.exec_id);
  assert.equal(trueExec.process.parent_exec_id, shExec.process.exec_id);
  assert.equal(trueExec.parent?.exec_id, shExec.process.exec_id);

  const [shExit] = await eventsMatching((e) => e.kind === 'exit' && e.process.exec_id === shExec.process.exec_id, 1);
  assert.ok(shExit && shExit.payload.group === 'exit');
  assert.equal(shExit.payload.code, 3);
});

test('sequence numbers of the agent are contiguous from 0, with one agent id', { timeout: 30_000 }, async () => {
  const marker = `seq-${randomBytes(4).toString('hex')}`;
  for (let i = 0; i < 4; i += 1) spawnSync('/bin/true', [marker]);
  await eventsMatching((e) => e.kind === 'exec' && e.process.args[0] === marker, 4);
  const events = collector.records.map((r) => decodeRawEvent(r.value ?? Buffer.alloc(0)));
  assert.equal(new Set(events.map((e) => e.agent_id)).size, 1);
  const seqs = events.map((e) => e.seq).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  seqs.forEach((seq, index) => assert.equal(seq, BigInt(index), `gap or duplicate at ${index}`));
});
