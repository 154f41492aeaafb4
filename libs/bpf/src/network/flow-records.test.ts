// Kernel test (root): the egress parser's per-socket counters. From a throwaway cgroup (a simulated pod's), curl
// downloads a body of known size from a local HTTP server and uploads one; each connection's flow record (written
// when curl releases the socket) has byte counts within the headers' slack of the body, its own tuple and the
// socket cookie of its HTTP egress record. A connection storm is cut by the flow rate limit and counted. A
// connection that stays open past the flow interval gets interim records whose counts grow, then its final one.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cgroupIdOf } from '../core/kernel-environment.ts';
import { createRecordDispatcher } from '../core/record-dispatch.ts';
import { buildBpf, collect, runCleanup, type Collector } from '../core/test-support.ts';
import { attachEgressParser, type EgressParser } from './egress-parser.ts';
import { EGRESS_RECORD_DECODERS, type EgressRecord, type FlowRecord } from './egress-records.ts';
import { loadNetworkSensor, type NetworkSensor } from './sensor.ts';
import { createTestCgroup, runIn, type TestCgroup } from './test-support.ts';

type Recorded = EgressRecord | FlowRecord;

const DOWNLOAD_BYTES = 1_000_000;
const UPLOAD_BYTES = 300_000;
/** Interim flow records in this test: every 300 ms of a connection's life (the agent's default is 60 s). */
const FLOW_INTERVAL_MS = 300;
/** Connections of the storm test. */
const STORM = 600;

/**
 * Network-layer headers on top of the payload: at least one IPv4 + TCP header (52 bytes with timestamps) per
 * packet the stack handled, and the handshake, ACKs and FIN. A loopback packet carries up to 64 KiB, so a
 * megabyte is a few dozen packets; 2 % + 8 KiB is far above what they add and far below a missing chunk of body.
 */
const slack = (payload: number): number => Math.ceil(payload * 0.02) + 8192;

/** The largest segment loopback TCP resends (64 KiB of payload, its headers included with room to spare). */
const RESENT_SEGMENT_BYTES = 66 * 1024;

/** TCP segments this machine has retransmitted (/proc/net/snmp, Tcp RetransSegs). */
function retransmittedSegments(): number {
  const tcp = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((line) => line.startsWith('Tcp:'));
  const names = (tcp[0] ?? '').split(/\s+/);
  const values = (tcp[1] ?? '').split(/\s+/);
  return Number(values[names.indexOf('RetransSegs')] ?? 0);
}

/**
 * The most a flow may count for `payload`: the slack above, plus every segment the machine resent meanwhile. The
 * hooks count each packet a socket sent or got, a resent one too, and a loaded loopback resends a 64 KiB segment
 * now and then (a CI run counted 1,096,760 bytes for the 1,000,000-byte download). The counter is the machine's, so
 * other traffic's resends widen the bound too, only when there were some.
 */
const mostCounted = (payload: number, resentSegments: number): number => payload + slack(payload) + resentSegments * RESENT_SEGMENT_BYTES;

describe('flow records (kernel)', () => {
  let sensor: NetworkSensor | undefined;
  let parser: EgressParser | undefined;
  let collector: Collector<Recorded> | undefined;
  let cgroup: TestCgroup | undefined;
  let cgroupId = 0n;
  let http: HttpServer | undefined;
  let httpPort = 0;
  let uploaded = 0;
  let dir = '';

  before(async () => {
    buildBpf();
    dir = mkdtempSync(join(tmpdir(), 'stinger-flow-'));
    writeFileSync(join(dir, 'upload.bin'), Buffer.alloc(UPLOAD_BYTES, 0x61));
    const body = Buffer.alloc(DOWNLOAD_BYTES, 0x62);
    http = createHttpServer((request, response) => {
      let received = 0;
      request.on('data', (chunk: Buffer) => (received += chunk.length));
      request.on('end', () => {
        if (request.method === 'POST') uploaded = received;
        response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': request.method === 'GET' ? DOWNLOAD_BYTES : 2 });
        response.end(request.method === 'GET' ? body : 'ok');
      });
    });
    http.listen(0, '127.0.0.1');
    await once(http, 'listening');
    httpPort = (http.address() as AddressInfo).port;
    cgroup = createTestCgroup();
    cgroupId = cgroupIdOf(cgroup.path);
    sensor = loadNetworkSensor();
    const dispatcher = createRecordDispatcher<Recorded>([EGRESS_RECORD_DECODERS]);
    collector = collect(sensor, (slice) => dispatcher.decode(slice));
    parser = attachEgressParser({ sensor, cgroupPath: cgroup.path, rateLimit: { perSecond: 1000, burst: 1000 }, flowIntervalMs: FLOW_INTERVAL_MS });
  });

  after(async () => {
    await runCleanup([
      () => parser?.close(),
      () => collector?.stop(),
      () => sensor?.close(),
      () => cgroup?.remove(),
      () => http?.close(),
      () => rmSync(dir, { recursive: true, force: true }),
    ]);
  });

  const httpOf = (pid: number) => (r: Recorded): r is EgressRecord => r.kind === 'egress' && r.pid === pid && r.cgroupId === cgroupId;
  const endOf = (pid: number) => (r: Recorded): r is FlowRecord => r.kind === 'flow' && r.reason === 'end' && r.pid === pid && r.cgroupId === cgroupId;

  test('a curl download of 1,000,000 bytes: its flow record counts them received, with the egress record\'s cookie', async () => {
    const resentBefore = retransmittedSegments();
    const { pid, code } = await runIn(cgroup!.path, 'curl', ['-s', '-o', '/dev/null', `http://127.0.0.1:${httpPort}/blob`]);
    assert.equal(code, 0);
    const resent = retransmittedSegments() - resentBefore;
    const request = await collector!.waitFor(httpOf(pid));
    const flow = await collector!.waitFor(endOf(pid));
    assert.equal(request.request, 'GET /blob HTTP/1.1');
    assert.equal(flow.socketCookie, request.socketCookie, 'the flow and the egress record are of one socket');
    assert.notEqual(flow.socketCookie, 0n);
    const received = Number(flow.bytesReceived);
    assert.ok(received >= DOWNLOAD_BYTES && received <= mostCounted(DOWNLOAD_BYTES, resent), `received ${received} for a ${DOWNLOAD_BYTES}-byte body, ${resent} segments resent`);
    // Sent: the request (~80 bytes) and the ACKs, nothing like the body.
    const sent = Number(flow.bytesSent);
    assert.ok(sent >= request.payloadBytes && sent < 64 * 1024, `sent ${sent}`);
    assert.ok(flow.packetsReceived >= 2n && flow.packetsSent >= 3n, `packets ${flow.packetsSent} out, ${flow.packetsReceived} in`);
    assert.deepEqual([flow.protocol, flow.family, flow.saddr, flow.sport, flow.daddr, flow.dport], ['tcp', 'inet', request.saddr, request.sport, '127.0.0.1', httpPort]);
    assert.equal(flow.comm, 'curl');
    assert.ok(flow.startNs > 0n && flow.startNs <= request.timeNs && request.timeNs <= flow.timeNs, 'connected, then the request, then the release');
  });

  test('a curl upload of 300,000 bytes: its flow record counts them sent', async () => {
    uploaded = 0;
    const resentBefore = retransmittedSegments();
    const { pid, code } = await runIn(cgroup!.path, 'curl', ['-s', '-o', '/dev/null', '-H', 'Expect:', '--data-binary', `@${join(dir, 'upload.bin')}`,
      `http://127.0.0.1:${httpPort}/upload`]);
    assert.equal(code, 0);
    assert.equal(uploaded, UPLOAD_BYTES, 'the server got the whole body');
    const resent = retransmittedSegments() - resentBefore;
    const request = await collector!.waitFor(httpOf(pid));
    const flow = await collector!.waitFor(endOf(pid));
    assert.equal(flow.socketCookie, request.socketCookie);
    const sent = Number(flow.bytesSent);
    assert.ok(sent >= UPLOAD_BYTES && sent <= mostCounted(UPLOAD_BYTES, resent), `sent ${sent} for a ${UPLOAD_BYTES}-byte body, ${resent} segments resent`);
    assert.ok(Number(flow.bytesReceived) < 64 * 1024, `received ${flow.bytesReceived}`);
  });

  test('a connection storm is cut by the per-cgroup flow rate limit, and the refused flow records are counted', async () => {
    // A parser of its own with a low flow limit (sockets are counted by the parser that saw them connect).
    parser!.close();
    parser = attachEgressParser({ sensor: sensor!, cgroupPath: cgroup!.path, rateLimit: { perSecond: 0, burst: 1 }, flowIntervalMs: 0, flowRateLimit: { perSecond: 20, burst: 50 } });
    const server: Server = createServer((socket) => socket.end());
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    try {
      // 600 connections, one after another, each sending a byte and closed: 600 sockets released within a second or two.
      const script =
        `const net=require('net');let n=0;const next=()=>{if(n++===${STORM}){process.exit(0);}` +
        `const s=net.connect(${port},'127.0.0.1',()=>s.end('x'));s.on('close',next);s.on('error',next);};next();`;
      const started = Date.now();
      const { pid, code } = await runIn(cgroup!.path, process.execPath, ['-e', script]);
      const seconds = (Date.now() - started) / 1000;
      assert.equal(code, 0);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const seen = collector!.settle().filter((r) => r.kind === 'flow' && r.pid === pid).length;
      const counters = parser!.counters();
      const refused = Number(counters.flowsRateLimited);
      // The burst, then 20 a second for as long as the storm lasted (this machine may be slow: bound by its duration).
      assert.ok(seen >= 50 && seen <= 50 + Math.ceil(20 * seconds) + 2, `${seen} flow records of ${STORM} connections in ${seconds} s passed a limit of 20/s, burst 50`);
      assert.ok(seen < STORM / 2, `the limit cut the storm (${seen} of ${STORM})`);
      assert.equal(seen + refused, STORM, `every connection is a flow record or a count (${seen} + ${refused})`);
      assert.equal(counters.ringFull, 0n);
    } finally {
      server.close();
      parser!.close();
      parser = attachEgressParser({ sensor: sensor!, cgroupPath: cgroup!.path, rateLimit: { perSecond: 1000, burst: 1000 }, flowIntervalMs: FLOW_INTERVAL_MS });
    }
  });

  test('a connection open past the flow interval gets interim records, growing, before its final one', async () => {
    const server: Server = createServer((socket) => socket.resume().on('error', () => undefined));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    try {
      // 100 bytes every 100 ms for 1.5 s, then close: five flow intervals.
      const script =
        `const s=require('net').connect(${port},'127.0.0.1',()=>{let n=0;` +
        `const t=setInterval(()=>{s.write(Buffer.alloc(100,99));if(++n===15){clearInterval(t);s.end();}},100);});` +
        `s.on('close',()=>process.exit(0));`;
      const { pid, code } = await runIn(cgroup!.path, process.execPath, ['-e', script]);
      assert.equal(code, 0);
      const final = await collector!.waitFor(endOf(pid));
      const flows = collector!.settle().filter((r): r is FlowRecord => r.kind === 'flow' && r.socketCookie === final.socketCookie);
      const interim = flows.filter((r) => r.reason === 'interim');
      assert.ok(interim.length >= 2, `${interim.length} interim records over 1.5 s at a ${FLOW_INTERVAL_MS} ms interval`);
      const sent = flows.map((r) => r.bytesSent);
      assert.deepEqual(sent, [...sent].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)), 'counts only grow');
      assert.equal(flows.at(-1), final, 'the final record comes last');
      assert.ok(interim[0]!.bytesSent < final.bytesSent);
      assert.ok(Number(final.bytesSent) >= 1500 && Number(final.bytesSent) <= 1500 + slack(1500), `sent ${final.bytesSent} for 1500 bytes of payload`);
    } finally {
      server.close();
    }
  });
});
