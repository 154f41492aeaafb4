/**
 * Per-event cost of AgentApiServer.publishEvent on the agent's side, with 0 and 1 GetEvents clients.
 * The client runs in a child process so the figures are the agent's CPU only.
 *   npx node libs/agent-api/scripts/bench-publish.ts
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { RawEvent } from '@stinger/events';
import { silentLogger } from '@stinger/log';
import { sampleRawEvent } from '@stinger/testing';
import { createAgentApiClient, createAgentApiServer, type EventFilter } from '../src/index.ts';

const out = (line: string): boolean => process.stdout.write(`${line}\n`);

if (process.argv[2] === 'client') {
  // Child: subscribe, say "ready", count envelopes, say each thousand.
  const filter = JSON.parse(process.argv[4] ?? '{}') as EventFilter;
  const client = createAgentApiClient(process.argv[3] ?? '');
  const subscription = client.getEvents(filter);
  await subscription.ready;
  out('ready');
  let count = 0;
  for await (const envelope of subscription) {
    count += 1 + envelope.dropped;
    if (count % 1000 === 0) out(`got ${count}`);
  }
} else {
  const events: RawEvent[] = Array.from({ length: 1000 }, (_v, i) =>
    sampleRawEvent({ node: 'node-a', seq: BigInt(i), binary: '/usr/bin/curl', args: ['-s', 'https://example.test/x'], pid: 1000 + i }),
  );
  const server = createAgentApiServer({ address: '127.0.0.1:0', sources: { health: () => { throw new Error('unused'); }, policies: () => [] }, logger: silentLogger() });
  const { port } = await server.start();

  // 0 clients.
  const n0 = 2_000_000;
  for (let i = 0; i < 100_000; i += 1) server.publishEvent(events[i % 1000] as RawEvent);
  let started = process.hrtime.bigint();
  for (let i = 0; i < n0; i += 1) server.publishEvent(events[i % 1000] as RawEvent);
  out(`0 clients: ${(Number(process.hrtime.bigint() - started) / n0).toFixed(1)} ns/event`);

  async function withClient(label: string, filter: EventFilter, expectDelivered: boolean): Promise<void> {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), 'client', `127.0.0.1:${port}`, JSON.stringify(filter)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let lines = '';
    let received = 0;
    const waiters: (() => void)[] = [];
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      lines += chunk;
      for (let nl = lines.indexOf('\n'); nl >= 0; nl = lines.indexOf('\n')) {
        const line = lines.slice(0, nl);
        lines = lines.slice(nl + 1);
        if (line.startsWith('got ')) received = Number(line.slice(4));
        waiters.splice(0).forEach((wake) => wake());
      }
    });
    await new Promise<void>((resolve) => waiters.push(resolve));
    const batches = 200;
    let syncNs = 0n;
    const cpuBefore = process.cpuUsage();
    const wallBefore = process.hrtime.bigint();
    for (let b = 0; b < batches; b += 1) {
      started = process.hrtime.bigint();
      for (const event of events) server.publishEvent(event);
      syncNs += process.hrtime.bigint() - started;
      // Pace by the client so nothing is dropped: the figure is the cost of delivering every event.
      if (expectDelivered) while (received < (b + 1) * 1000) await new Promise<void>((resolve) => waiters.push(resolve));
      else await new Promise((resolve) => setImmediate(resolve));
    }
    const cpu = process.cpuUsage(cpuBefore);
    const total = batches * events.length;
    const wallMs = Number(process.hrtime.bigint() - wallBefore) / 1e6;
    out(
      `${label}: publishEvent ${(Number(syncNs) / total).toFixed(0)} ns/event in the call; ` +
        `agent CPU incl. render + serialize + HTTP/2 ${(((cpu.user + cpu.system) * 1000) / total).toFixed(0)} ns/event; ` +
        `${Math.round(total / (wallMs / 1000))} events/s end to end`,
    );
    child.kill();
  }
  await withClient('1 client, filter matches none', { binaryContains: 'nothing-matches' }, false);
  await withClient('1 client, filter matches all', {}, true);
  await server.stop();
}
