/**
 * The enricher service outside a cluster (no KUBECONFIG, no service account), as `stinger up` runs it
 * on a laptop: it starts, says once that it adds container identity only, marks host processes host
 * and container processes not_enriched ('no cluster') with their container id, dead-letters
 * undecodable records, and publishes exactly the seqs it consumed, once each, in order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { processEnvironment } from '@stinger/config';
import { decodeDeadLetter, decodeEvent, encodeRawEvent, type RawEvent } from '@stinger/events';
import { bootstrapTopics, createProducer, topicName } from '@stinger/kafka';
import { sampleRawEvent } from '@stinger/testing';
import { collectTopic, testBrokers, testClient, uniqueName } from '../helpers/kafka.ts';
import { startService } from '../helpers/service.ts';

const containerId = (seq: number) => seq.toString(16).padStart(2, '0').repeat(32);
const podUid = '0f1e2d3c_4b5a_6978_8796_a5b4c3d2e1f0';

function rawEvent(seq: number): RawEvent {
  const raw = sampleRawEvent({ node: 'n1', seq: BigInt(seq), binary: '/bin/sh' });
  // Even seqs run in a pod's container (systemd driver, containerd), odd ones on the host.
  const cgroupPath =
    seq % 2 === 0
      ? `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${podUid}.slice/cri-containerd-${containerId(seq)}.scope`
      : '/system.slice/sshd.service';
  return { ...raw, process: { ...raw.process, cgroup_path: cgroupPath } };
}

test('outside a cluster: container identity only, host marked, dead letters, the same seqs out as in', { timeout: 120_000 }, async () => {
  const prefix = `${uniqueName('enricher-test')}.`;
  const client = testClient('enricher-test');
  await bootstrapTopics({ client, prefix, topics: ['eventsRaw', 'events', 'dlq'] });

  const env: Record<string, string | undefined> = { ...processEnvironment(), KAFKA_BROKERS: testBrokers(), STINGER_TOPIC_PREFIX: prefix, STINGER_NODE_NAME: 'enricher-test', STINGER_LOG_LEVEL: 'info', STINGER_ENRICHER_METRICS_ADDRESS: '127.0.0.1:0' };
  delete env['KUBECONFIG'];
  delete env['KUBERNETES_SERVICE_HOST'];
  const { child, log, running } = startService({ service: 'enricher', env, readyMessage: 'enricher running' });
  const events = await collectTopic(client, topicName('events', prefix));
  const letters = await collectTopic(client, topicName('dlq', prefix));
  try {
    await running;
    const count = 20;
    const values = Array.from({ length: count }, (_, seq) => encodeRawEvent(rawEvent(seq)));
    values.splice(5, 0, Buffer.from('{"not":"avro"}'));
    values.splice(12, 0, encodeRawEvent(rawEvent(99)).subarray(0, 20));
    const producer = createProducer({ client });
    await producer.connect();
    await producer.send(topicName('eventsRaw', prefix), values.map((value) => ({ key: 'n1', value })));
    await producer.disconnect();

    await events.waitFor(count, 60_000);
    await letters.waitFor(2, 30_000);
    // Anything more would be a duplicate: give it time to show up.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const decoded = events.records.map((r) => decodeEvent(r.value ?? Buffer.alloc(0)));
    assert.deepEqual(
      decoded.map((e) => Number(e.seq)),
      Array.from({ length: count }, (_, seq) => seq),
      'every seq once, in order',
    );
    assert.ok(events.records.every((r) => r.key?.toString() === 'n1'));
    for (const event of decoded) {
      const seq = Number(event.seq);
      if (seq % 2 === 0) {
        assert.deepEqual({ ...event.enrichment }, { status: 'not_enriched', reason: 'no cluster' }, `seq ${seq}`);
        assert.equal(event.process.container_id, containerId(seq));
      } else {
        assert.deepEqual({ ...event.enrichment }, { status: 'host', reason: null }, `seq ${seq}`);
        assert.equal(event.process.container_id, null);
      }
      assert.equal(event.pod, null);
    }
    const deadLetters = letters.records.map((r) => decodeDeadLetter(r.value ?? Buffer.alloc(0)));
    assert.deepEqual(deadLetters.map((d) => d.reason), ['bad-magic', 'truncated']);
    assert.deepEqual(deadLetters.map((d) => d.offset), [5n, 12n]);
    assert.equal(log.filter((line) => line.includes('no cluster: container identity only')).length, 1, 'said once');
  } finally {
    await events.stop();
    await letters.stop();
    const exited = new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', resolve)));
    child.kill('SIGTERM');
    const code = await exited;
    assert.equal(code, 0, `clean shutdown:\n${log.slice(-5).join('\n')}`);
  }
});
