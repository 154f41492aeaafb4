/**
 * A broker outage is survived without loss: while the agent's broker is down its events go to the
 * on-disk spool, and once the broker is back every event arrives, sequence numbers without a gap.
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

function runMarked(marker: string, count: number): void {
  for (let i = 0; i < count; i += 1) spawnSync('/bin/true', [marker, String(i)]);
}

test('events produced while the broker is down arrive after it returns, with no sequence gap', { timeout: 240_000 }, async () => {
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
  await broker.stop();
  runMarked('during-outage', 20);
  await new Promise((resolve) => setTimeout(resolve, 3000));
  broker = await start();
  runMarked('after-outage', 5);

  const collector = await collectTopic(client, topicName('eventsRaw', prefix));
  try {
    const deadline = Date.now() + 90_000;
    const markers = () =>
      collector.records
        .map((r) => decodeRawEvent(r.value ?? Buffer.alloc(0)))
        .filter((e) => e.kind === 'exec' && /-outage$/.test(e.process.args[0] ?? ''))
        .map((e) => `${e.process.args[0]}:${e.process.args[1]}`);
    while (new Set(markers()).size < 30 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 250));
    const seen = new Set(markers());
    for (const phase of ['before-outage', 'during-outage', 'after-outage']) {
      const expected = phase === 'during-outage' ? 20 : 5;
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
