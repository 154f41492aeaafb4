/**
 * A broker outage is survived without loss: while the agent's broker is down its events go to the
 * on-disk spool, and once the broker is back every event arrives, sequence numbers without a gap.
 * The outage lasts until the agent says it switched to the spool (its producer first retries for
 * ≈16 s, longer than a short outage: without that wait the test could pass with a broken spool),
 * and the test waits for it to say it delivered the spool and publishes directly again.
 * Uses a broker of its own (a second local Kafka), since the shared one must stay up for other tests.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@stinger/config';
import { decodeRawEvent } from '@stinger/events';
import { bootstrapTopics, createKafkaClient, topicName } from '@stinger/kafka';
import { startLocalBroker, type LocalBroker } from '@stinger/local-broker';
import { createLogger } from '@stinger/log';
import { buildBpf, freePort, startAgent, type RunningAgent } from '../helpers/agent.ts';
import { collectTopic } from '../helpers/kafka.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'stinger-outage-broker-'));
const logger = createLogger({ name: 'outage-test', level: 'warn' });
let broker: LocalBroker | undefined;
let agent: RunningAgent | undefined;

after(async () => {
  await agent?.stop();
  await broker?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** The EventPublisher's log messages when it switches to the spool and back (libs/agent/src/publisher.ts). */
const SPOOLING = 'Kafka did not take records; spooling to disk';
const DIRECT_AGAIN = 'spool delivered; publishing directly again';

/** Runs /bin/true `count` times with args [marker, first + i]: exec events the test finds again by their args. */
function runMarked(marker: string, count: number, first = 0): void {
  for (let i = first; i < first + count; i += 1) spawnSync('/bin/true', [marker, String(i)]);
}

test('events produced while the broker is down go to the spool, the agent says it spooled and left the spool, and every event arrives with no sequence gap', { timeout: 300_000 }, async () => {
  buildBpf();
  const port = await freePort();
  const start = () => startLocalBroker({ cacheDir: loadConfig().cacheDir, dataDir, port, logger });
  broker = await start();
  const client = createKafkaClient({ brokers: [broker.brokers], connection: loadConfig().kafka, role: 'outage-test', logger });
  const prefix = 'outage.';
  await bootstrapTopics({ client, prefix, topics: ['eventsRaw'] });
  agent = await startAgent({ brokers: broker.brokers, topicPrefix: prefix });

  runMarked('before-outage', 5);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const logBeforeOutage = agent.log.length;
  await broker.stop();
  // Events keep coming while the broker is away, until the agent has moved to the spool (EventPublisher's log lines).
  let duringOutage = 0;
  const spooling = () => agent!.log.slice(logBeforeOutage).findIndex((line) => line.includes(`"msg":"${SPOOLING}"`));
  const spoolDeadline = Date.now() + 90_000;
  while (spooling() < 0) {
    assert.ok(Date.now() < spoolDeadline, `the agent never switched to its spool while the broker was down:\n${agent.log.slice(-20).join('\n')}`);
    runMarked('during-outage', 1, duringOutage);
    duringOutage += 1;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  runMarked('during-outage', 5, duringOutage); // these go to the spool directly
  duringOutage += 5;
  const spooledAt = logBeforeOutage + spooling();
  broker = await start();
  runMarked('after-outage', 5);
  const directDeadline = Date.now() + 90_000;
  while (!agent.log.slice(spooledAt).some((line) => line.includes(`"msg":"${DIRECT_AGAIN}"`))) {
    assert.ok(Date.now() < directDeadline, `the agent never delivered its spool after the broker returned:\n${agent.log.slice(-20).join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }

  const collector = await collectTopic(client, topicName('eventsRaw', prefix));
  try {
    const deadline = Date.now() + 90_000;
    const markers = () =>
      collector.records
        .map((r) => decodeRawEvent(r.value ?? Buffer.alloc(0)))
        .filter((e) => e.kind === 'exec' && /-outage$/.test(e.process.args[0] ?? ''))
        .map((e) => `${e.process.args[0]}:${e.process.args[1]}`);
    const expectedCount = { 'before-outage': 5, 'during-outage': duringOutage, 'after-outage': 5 };
    const total = 10 + duringOutage;
    while (new Set(markers()).size < total && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 250));
    const seen = new Set(markers());
    for (const [phase, expected] of Object.entries(expectedCount)) {
      for (let i = 0; i < expected; i += 1) assert.ok(seen.has(`${phase}:${i}`), `missing ${phase} exec ${i}`);
    }
    const events = collector.records.map((r) => decodeRawEvent(r.value ?? Buffer.alloc(0)));
    const seqs = [...new Set(events.map((e) => e.seq))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    assert.equal(seqs[0], 0n);
    seqs.forEach((seq, index) => assert.equal(seq, BigInt(index), `sequence gap at ${index}`));
  } finally {
    await collector.stop();
  }
});
