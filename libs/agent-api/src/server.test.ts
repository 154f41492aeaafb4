import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import type { RawEvent } from '@stinger/events';
import { silentLogger } from '@stinger/log';
import { sampleRawEvent } from '@stinger/testing';
import { createAgentApiClient, type AgentApiClient, type EventEnvelopeView, type EventSubscription } from './client.ts';
import { AgentApiCallError } from './errors.ts';
import { createAgentApiServer, type AgentApiServer } from './server.ts';
import type { AgentApiSources, AgentHealth, PolicyStatusView } from './types.ts';
import { agentServiceDefinition, type WireEventEnvelope, type WireGetEventsRequest } from './wire.ts';

const health: AgentHealth = {
  agentId: 'agent-1',
  node: 'node-a',
  uptimeSeconds: 12.5,
  sensors: [
    { name: 'process', state: 'loaded', reason: null, mode: 'tracepoint' },
    { name: 'feature:kprobe', state: 'unavailable', reason: 'attach: EPERM', mode: null },
    { name: 'feature:tracepoint', state: 'available', reason: null, mode: null },
  ],
  lostRecords: [
    { sensor: 'process', cause: 'ring_full', count: 7 },
    { sensor: 'process', cause: 'user_space', count: 1 },
    { sensor: 'publisher', cause: 'spool_full', count: 3 },
  ],
  queueDepth: 42,
  kafka: { mode: 'spooling', published: 1000, acknowledged: 950, spooled: 8, spoolBytes: 4096 },
  processCache: { live: 120, exited: 30, misses: 5 },
};

const policies: PolicyStatusView[] = [
  { name: 'deny-shadow', generation: 3, mode: 'enforce', state: 'applied', kernelRules: 2, pipelineRules: 0, messages: [] },
  { name: 'watch-curl', generation: 1, mode: 'monitor', state: 'partial', kernelRules: 0, pipelineRules: 1, messages: ['rule x needs kprobe'] },
  { name: 'broken', generation: 4, mode: null, state: 'rejected', kernelRules: 0, pipelineRules: 0, messages: ['spec.rules[0].event: unknown'] },
];

const sources: AgentApiSources = { health: () => health, policies: () => policies };

let seq = 0n;
function event(overrides: { binary?: string; pid?: number; kind?: RawEvent['kind'] } = {}): RawEvent {
  const base = sampleRawEvent({ node: 'node-a', seq, binary: overrides.binary, pid: overrides.pid });
  seq += 1n;
  return overrides.kind ? { ...base, kind: overrides.kind } : base;
}

/** Reads `count` envelopes, failing after `timeoutMs`. */
async function take(subscription: AsyncIterable<EventEnvelopeView>, count: number, timeoutMs = 10_000): Promise<EventEnvelopeView[]> {
  const out: EventEnvelopeView[] = [];
  if (count === 0) return out;
  const iterator = subscription[Symbol.asyncIterator]();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`got ${out.length} of ${count} envelopes`)), timeoutMs);
  });
  try {
    while (out.length < count) {
      const next = await Promise.race([iterator.next(), deadline]);
      if (next.done) throw new Error(`stream ended after ${out.length} of ${count} envelopes`);
      out.push(next.value);
    }
    return out;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A GetEvents call made with node:http2 and gRPC's framing (5-byte prefix: compressed flag, length),
 * paused until readUntil() is called: a client that stops reading, as a hung CLI would.
 */
async function openRawEventStream(port: number, filter: Partial<WireGetEventsRequest>) {
  const method = agentServiceDefinition().GetEvents;
  const session = connect(`http://127.0.0.1:${port}`);
  const stream = session.request({ ':method': 'POST', ':path': method.path, 'content-type': 'application/grpc', te: 'trailers' });
  stream.pause();
  const body = method.requestSerialize({ kinds: [], binary_contains: '', pid: 0, exec_id: '', ...filter });
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(body.length, 1);
  stream.end(Buffer.concat([prefix, body]));
  await once(stream, 'response');
  return {
    async readUntil(done: (envelope: WireEventEnvelope) => boolean): Promise<WireEventEnvelope[]> {
      const out: WireEventEnvelope[] = [];
      let pending = Buffer.alloc(0);
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        pending = Buffer.concat([pending, chunk]);
        while (pending.length >= 5 && pending.length >= 5 + pending.readUInt32BE(1)) {
          const length = pending.readUInt32BE(1);
          const envelope = method.responseDeserialize(pending.subarray(5, 5 + length));
          pending = pending.subarray(5 + length);
          out.push(envelope);
          if (done(envelope)) return out;
        }
      }
      throw new Error(`stream ended after ${out.length} envelopes`);
    },
    close(): void {
      stream.close();
      session.close();
    },
  };
}

describe('agent API server over loopback gRPC', { timeout: 30_000 }, () => {
  let server: AgentApiServer;
  let client: AgentApiClient;
  let port: number;
  const subscriptions: EventSubscription[] = [];

  before(async () => {
    server = createAgentApiServer({ address: '127.0.0.1:0', sources, logger: silentLogger(), streamBufferEvents: 500 });
    ({ port } = await server.start());
    client = createAgentApiClient(`127.0.0.1:${port}`);
  });

  after(async () => {
    for (const subscription of subscriptions) subscription.cancel();
    client.close();
    await server.stop();
  });

  function subscribe(filter: Parameters<AgentApiClient['getEvents']>[0]): EventSubscription {
    const subscription = client.getEvents(filter);
    subscriptions.push(subscription);
    return subscription;
  }

  it('GetHealth returns what the sources say, plus the stream figures', async () => {
    const report = await client.getHealth();
    assert.deepEqual(report, { ...health, eventStreams: server.eventStreams, eventStreamDropped: report.eventStreamDropped });
    assert.equal(report.eventStreamDropped, 0);
  });

  it('ListPolicies returns what the sources say', async () => {
    assert.deepEqual(await client.listPolicies(), policies);
  });

  it('GetEvents delivers only the events matching the filter, in order, as the JSON rendering', async () => {
    const curl = subscribe({ kinds: ['exec'], binaryContains: 'curl' });
    const byPid = subscribe({ pid: 777 });
    await Promise.all([curl.ready, byPid.ready]);

    const published = [
      event({ binary: '/usr/bin/curl' }),
      event({ binary: '/usr/bin/bash' }),
      event({ binary: '/usr/bin/curl', kind: 'exit' }),
      event({ binary: '/usr/bin/ls', pid: 777 }),
      event({ binary: '/usr/local/bin/curl', pid: 777 }),
      event({ binary: '/usr/bin/wget' }),
      event({ binary: '/opt/curl-static' }),
    ];
    for (const item of published) server.publishEvent(item);

    const isCurlExec = (e: RawEvent): boolean => e.kind === 'exec' && e.process.binary.includes('curl');
    const expectedCurl = published.filter(isCurlExec);
    const expectedPid = published.filter((e) => e.process.pid === 777);
    // A further matching event: had a non-matching one slipped through, it would sit where this one is expected.
    const sentinel = event({ binary: '/usr/bin/curl', pid: 777 });
    server.publishEvent(sentinel);

    const gotCurl = await take(curl, expectedCurl.length + 1);
    const gotPid = await take(byPid, expectedPid.length + 1);
    assert.deepEqual(gotCurl.map((e) => e.seq), [...expectedCurl, sentinel].map((e) => e.seq));
    assert.deepEqual(gotPid.map((e) => e.seq), [...expectedPid, sentinel].map((e) => e.seq));

    const first = gotCurl[0];
    assert.ok(first);
    assert.equal(first.kind, 'exec');
    assert.equal(first.node, 'node-a');
    assert.equal(first.dropped, 0);
    assert.match(first.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    const json = JSON.parse(first.json) as { process: { binary: string }; exec: unknown; time: string };
    assert.equal(json.process.binary, '/usr/bin/curl');
    assert.equal(json.time, first.time);
    assert.ok(json.exec, 'payload under its group name');
    curl.cancel();
    byPid.cancel();
  });

  it('GetEvents refuses an unknown kind with INVALID_ARGUMENT', async () => {
    const bad = client.getEvents({ kinds: ['exec', 'teleport' as never] });
    await assert.rejects(bad.ready, (error: unknown) => error instanceof AgentApiCallError && error.code === status.INVALID_ARGUMENT && /teleport/.test(error.message));
  });

  it('a slow client has its overflow dropped and counted while a fast client gets every event', async () => {
    // The slow client speaks gRPC over its own HTTP/2 connection and stops reading, so HTTP/2 flow
    // control pushes back on the server. (grpc-js's own client keeps pulling a paused stream's bytes
    // into its memory, so it cannot play a client that stopped reading.)
    const slow = await openRawEventStream(port, {});
    const fast = subscribe({});
    await fast.ready;
    const streamsBefore = server.eventStreams;

    // 20,000 events go out while the slow client reads nothing; the fast one keeps up, batch by batch.
    const total = 20_000;
    const batch = 250;
    const fastIterator = fast[Symbol.asyncIterator]();
    const fastSeqs: bigint[] = [];
    const fastDropped: number[] = [];
    const firstSeq = seq;
    for (let sent = 0; sent < total; sent += batch) {
      for (let i = 0; i < batch; i += 1) server.publishEvent(event({ binary: '/usr/bin/stress' }));
      for (const item of await take({ [Symbol.asyncIterator]: () => fastIterator }, batch)) {
        fastSeqs.push(item.seq);
        fastDropped.push(item.dropped);
      }
    }
    assert.deepEqual(fastSeqs, Array.from({ length: total }, (_v, i) => firstSeq + BigInt(i)));
    assert.ok(fastDropped.every((d) => d === 0), 'the fast client lost nothing');
    assert.equal(server.eventStreams, streamsBefore, 'both streams are still open');

    // Now the slow client reads what it was kept. The event that follows the gap carries the drop count,
    // so events keep coming (one every 10 ms) until one reaches the slow client after its backlog.
    let tail = event({ binary: '/usr/bin/stress' });
    let reading = true;
    const reader = slow.readUntil((envelope) => BigInt(envelope.seq) > firstSeq + BigInt(total) - 1n).finally(() => {
      reading = false;
    });
    server.publishEvent(tail);
    while (reading) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      if (!reading) break;
      tail = event({ binary: '/usr/bin/stress' });
      server.publishEvent(tail);
    }
    const received = await reader;
    slow.close();
    const lastReceived = received.at(-1);
    assert.ok(lastReceived);
    const publishedUpToLast = Number(BigInt(lastReceived.seq) - firstSeq) + 1;
    let droppedSum = 0;
    let gapsMatchDrops = true;
    let previous = firstSeq - 1n;
    for (const item of received) {
      const itemSeq = BigInt(item.seq);
      droppedSum += Number(item.dropped);
      if (itemSeq - previous - 1n !== BigInt(item.dropped)) gapsMatchDrops = false;
      previous = itemSeq;
    }
    assert.ok(droppedSum > 0, 'the slow client overflowed');
    assert.ok(received.length < total / 2, `the slow client was kept only part of the events (${received.length})`);
    assert.equal(received.length + droppedSum, publishedUpToLast, 'every event is either delivered or counted as dropped');
    assert.ok(gapsMatchDrops, 'each gap in seq is announced by the dropped count of the envelope after it');
    assert.equal((await client.getHealth()).eventStreamDropped, droppedSum);
  });

  it('stop() ends open streams so clients finish iterating', async () => {
    const other = createAgentApiServer({ address: '127.0.0.1:0', sources, logger: silentLogger() });
    const { port } = await other.start();
    const otherClient = createAgentApiClient(`127.0.0.1:${port}`);
    try {
      const subscription = otherClient.getEvents();
      await subscription.ready;
      other.publishEvent(event());
      const received: EventEnvelopeView[] = [];
      const stopped = other.stop();
      for await (const item of subscription) received.push(item);
      await stopped;
      assert.ok(received.length <= 1);
      assert.equal(other.eventStreams, 0);
    } finally {
      otherClient.close();
      await other.stop();
    }
  });
});
