// Kernel test (root): the egress parser reads what real clients send from a throwaway cgroup (a simulated pod's,
// with its own mount namespace for the resolver's address): a DNS lookup by getent through a local resolver, a TLS
// ClientHello by openssl s_client to openssl s_server, an HTTP request by curl; each record names the client's own
// pid, binary (comm) and cgroup. A ClientHello split over two segments is reported as fragmented, and a query
// storm is cut by the per-cgroup rate limit and counted.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@stinger/processes';
import { cgroupIdOf } from '../core/kernel-environment.ts';
import { buildBpf, collect, runCleanup, type Collector } from '../core/test-support.ts';
import { attachEgressParser, type EgressParser } from './egress-parser.ts';
import { decodeEgressRecord, type EgressRecord } from './egress-records.ts';
import { loadNetworkSensor, type NetworkSensor } from './sensor.ts';
import { createTestCgroup, runIn, type TestCgroup } from './test-support.ts';

/** Sends `count` DNS queries for `name` (type A) from one unconnected UDP socket to server:53 with sendto(2). */
const DNS_STORM_SOURCE = String.raw`
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
int main(int argc, char **argv) {
	unsigned char q[300];
	int n = 12, fd = socket(AF_INET, SOCK_DGRAM, 0);
	long count = atol(argv[3]);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(53) };
	inet_pton(AF_INET, argv[1], &sa.sin_addr);
	memset(q, 0, 12);
	q[2] = 0x01; q[5] = 1; /* recursion desired, one question */
	for (char *label = strtok(argv[2], "."); label; label = strtok(NULL, ".")) {
		q[n++] = strlen(label);
		memcpy(&q[n], label, strlen(label));
		n += strlen(label);
	}
	q[n++] = 0; q[n++] = 0; q[n++] = 1; q[n++] = 0; q[n++] = 1; /* root, type A, class IN */
	for (long i = 0; i < count; i++) {
		q[0] = i >> 8; q[1] = i;
		if (sendto(fd, q, n, 0, (struct sockaddr *)&sa, sizeof(sa)) != n) { perror("sendto"); return 1; }
	}
	printf("sent %ld\n", count);
	return 0;
}
`;

const inCgroup =
  (cgroupId: bigint, pid: number) =>
  (r: EgressRecord): r is EgressRecord =>
    r.cgroupId === cgroupId && r.pid === pid;

/** A DNS answer to `query` with one A record 192.0.2.1 (enough for getent to print it). */
function answer(query: Buffer): Buffer {
  let end = 12;
  while (end < query.length && query[end] !== 0) end += query[end]! + 1;
  const question = query.subarray(12, end + 5);
  const header = Buffer.from(query.subarray(0, 12));
  header[2] = 0x81;
  header[3] = 0x80;
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(query.readUInt16BE(end + 1) === 1 ? 1 : 0, 6); // answer A questions only
  header.writeUInt16BE(0, 8);
  header.writeUInt16BE(0, 10);
  const record = Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1]);
  return Buffer.concat(query.readUInt16BE(end + 1) === 1 ? [header, question, record] : [header, question]);
}

describe('egress parser (kernel)', () => {
  let sensor: NetworkSensor | undefined;
  let parser: EgressParser | undefined;
  let collector: Collector<EgressRecord> | undefined;
  let cgroup: TestCgroup | undefined;
  let cgroupId = 0n;
  let dir = '';
  let resolver: Socket | undefined;
  let resolverAddress = '';
  let tlsServer: ChildProcess | undefined;
  let tlsPort = 0;
  let httpServer: Server | undefined;
  let httpPort = 0;
  let storm = '';

  before(async () => {
    buildBpf();
    dir = mkdtempSync(join(tmpdir(), 'stinger-egress-'));
    writeFileSync(join(dir, 'storm.c'), DNS_STORM_SOURCE);
    storm = join(dir, 'dns-storm');
    execFileSync('cc', ['-O2', '-Wall', '-o', storm, join(dir, 'storm.c')]);
    // A resolver on port 53 of a loopback address of its own (any 127/8 address answers on lo).
    resolverAddress = `127.53.${1 + Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
    resolver = createSocket('udp4');
    resolver.on('message', (message, peer) => {
      if (message.length > 17) resolver!.send(answer(message), peer.port, peer.address);
    });
    resolver.bind(53, resolverAddress);
    await once(resolver, 'listening');
    writeFileSync(join(dir, 'resolv.conf'), `nameserver ${resolverAddress}\noptions attempts:1 timeout:1\n`);
    // openssl s_server with a throwaway self-signed certificate.
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=tls.stinger.test',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    tlsPort = await freePort('127.0.0.1');
    tlsServer = spawn('openssl', ['s_server', '-accept', `127.0.0.1:${tlsPort}`, '-cert', join(dir, 'cert.pem'), '-key', join(dir, 'key.pem'),
      '-alpn', 'h2', '-quiet'], { stdio: ['pipe', 'ignore', 'ignore'] });
    for (let attempt = 0; attempt < 100; attempt++) {
      const ok = await new Promise<boolean>((resolve) => {
        const probe = createServer().once('error', () => resolve(true)).listen(tlsPort, '127.0.0.1', () => probe.close(() => resolve(false)));
      });
      if (ok) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    httpServer = createServer((socket) => {
      socket.on('data', () => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok'));
      socket.on('error', () => undefined);
    });
    httpServer.listen(0, '127.0.0.1');
    await once(httpServer, 'listening');
    httpPort = (httpServer.address() as AddressInfo).port;

    cgroup = createTestCgroup();
    cgroupId = cgroupIdOf(cgroup.path);
    sensor = loadNetworkSensor();
    collector = collect(sensor, decodeEgressRecord);
    parser = attachEgressParser({ sensor, cgroupPath: cgroup.path, rateLimit: { perSecond: 1000, burst: 1000 } });
  });

  after(async () => {
    await runCleanup([
      () => parser?.close(),
      () => collector?.stop(),
      () => sensor?.close(),
      () => cgroup?.remove(),
      () => resolver?.close(),
      () => tlsServer?.kill(),
      () => httpServer?.close(),
      () => rmSync(dir, { recursive: true, force: true }),
    ]);
  });

  test('a DNS lookup through a local resolver (getent in its own mount namespace) names the query and getent', async () => {
    const { pid, stdout } = await runIn(cgroup!.path, 'unshare', ['-m', 'sh', '-c',
      `mount --bind ${join(dir, 'resolv.conf')} /etc/resolv.conf && exec getent ahostsv4 lookup.egress.stinger.test`]);
    assert.match(stdout, /192\.0\.2\.1/, 'the resolver answered');
    const record = await collector!.waitFor(
      (r): r is EgressRecord => r.cgroupId === cgroupId && r.app === 'dns' && r.name === 'lookup.egress.stinger.test',
    );
    assert.equal(record.pid, pid, 'the record names the process that sent the query (the shell exec-ed getent)');
    assert.equal(record.comm, 'getent');
    assert.equal(record.dnsType, 1);
    assert.equal(record.parse, 'ok');
    assert.equal(record.protocol, 'udp');
    assert.equal(record.daddr, resolverAddress);
    assert.equal(record.dport, 53);
  });

  test('DNS over IPv6 and over TCP (resolv.conf: nameserver ::1, options use-vc) are read as well', async () => {
    // Over TCP the query follows a 2-byte length in the connection's first payload; a listener on port 53 takes it and
    // hangs up (glibc waits for a TCP answer without a timeout).
    const tcpResolver = createServer((socket) => socket.on('data', () => socket.destroy()).on('error', () => undefined));
    tcpResolver.listen(53, resolverAddress);
    await once(tcpResolver, 'listening');
    try {
      const conf = (name: string, text: string) => {
        writeFileSync(join(dir, name), text);
        return join(dir, name);
      };
      const v6 = conf('resolv-v6.conf', 'nameserver ::1\noptions attempts:1 timeout:1\n');
      const tcp = conf('resolv-tcp.conf', `nameserver ${resolverAddress}\noptions use-vc attempts:1 timeout:1\n`);
      const lookup = (resolvConf: string, name: string) =>
        runIn(cgroup!.path, 'unshare', ['-m', 'sh', '-c', `mount --bind ${resolvConf} /etc/resolv.conf && exec timeout 10 getent ahostsv4 ${name}`]);
      // getent runs under timeout(1) here (a child of the process runIn started): named by its comm.
      await lookup(v6, 'v6.egress.stinger.test');
      const record6 = await collector!.waitFor((r): r is EgressRecord => r.cgroupId === cgroupId && r.name === 'v6.egress.stinger.test');
      assert.deepEqual([record6.comm, record6.family, record6.daddr, record6.protocol, record6.dnsType, record6.parse], ['getent', 'inet6', '::1', 'udp', 1, 'ok']);
      await lookup(tcp, 'tcp.egress.stinger.test');
      const recordTcp = await collector!.waitFor((r): r is EgressRecord => r.cgroupId === cgroupId && r.name === 'tcp.egress.stinger.test');
      assert.deepEqual([recordTcp.comm, recordTcp.protocol, recordTcp.dport, recordTcp.dnsType, recordTcp.parse], ['getent', 'tcp', 53, 1, 'ok']);
    } finally {
      tcpResolver.close();
    }
  });

  test('a TLS ClientHello (openssl s_client) names the server name, the ALPN list and openssl', async () => {
    const { pid } = await runIn(cgroup!.path, 'openssl', ['s_client', '-connect', `127.0.0.1:${tlsPort}`, '-servername', 'tls.egress.stinger.test',
      '-alpn', 'h2,http/1.1', '-brief']);
    const record = await collector!.waitFor(inCgroup(cgroupId, pid));
    assert.equal(record.app, 'tls');
    assert.equal(record.name, 'tls.egress.stinger.test');
    assert.deepEqual(record.alpn, ['h2', 'http/1.1']);
    assert.equal(record.parse, 'ok');
    assert.equal(record.comm, 'openssl');
    assert.equal(record.protocol, 'tcp');
    assert.equal(record.dport, tlsPort);
    assert.equal(record.daddr, '127.0.0.1');
  });

  test('an HTTP request (curl) names the request line and Host; the second request on the connection is not parsed', async () => {
    const url = `http://127.0.0.1:${httpPort}`;
    const { pid, code } = await runIn(cgroup!.path, 'curl', ['-s', '-o', '/dev/null', '-H', 'Host: web.egress.stinger.test',
      `${url}/first?q=1`, `${url}/second`]);
    assert.equal(code, 0);
    const record = await collector!.waitFor(inCgroup(cgroupId, pid));
    assert.equal(record.app, 'http');
    assert.equal(record.request, 'GET /first?q=1 HTTP/1.1');
    assert.equal(record.name, 'web.egress.stinger.test');
    assert.equal(record.parse, 'ok');
    assert.equal(record.comm, 'curl');
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual(collector!.settle().filter((r) => r.pid === pid).map((r) => r.request), ['GET /first?q=1 HTTP/1.1']);
  });

  test('a ClientHello split over two segments before its server name is reported as fragmented', async () => {
    const server = createServer((socket) => socket.resume().on('error', () => undefined));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    try {
      // Record header and handshake header claim 512 bytes of hello; only 40 go in the first segment.
      const script =
        `const s=require('net').connect(${port},'127.0.0.1',()=>{s.setNoDelay(true);` +
        `const h=Buffer.alloc(517);h.set([22,3,1,2,0,1,0,1,252,3,3]);` +
        `s.write(h.subarray(0,40));setTimeout(()=>s.end(h.subarray(40)),100);});`;
      const { pid } = await runIn(cgroup!.path, process.execPath, ['-e', script]);
      const record = await collector!.waitFor(inCgroup(cgroupId, pid));
      assert.equal(record.app, 'tls');
      assert.equal(record.parse, 'fragmented');
      assert.equal(record.name, '');
      assert.equal(record.payloadBytes, 40);
    } finally {
      server.close();
    }
  });

  test('a query storm is cut by the per-cgroup rate limit and the refused records are counted', async () => {
    parser!.setRateLimit({ perSecond: 50, burst: 100 });
    try {
      const before = parser!.counters();
      const { pid, stdout } = await runIn(cgroup!.path, storm, [resolverAddress, 'storm.egress.stinger.test', '3000']);
      assert.equal(stdout.trim(), 'sent 3000');
      await new Promise((resolve) => setTimeout(resolve, 200));
      const seen = collector!.settle().filter((r) => r.pid === pid && r.name === 'storm.egress.stinger.test').length;
      const counters = parser!.counters();
      const refused = Number(counters.rateLimited - before.rateLimited);
      assert.ok(seen >= 50 && seen < 400, `${seen} records of 3000 queries passed a limit of 50/s, burst 100`);
      assert.equal(seen + refused, 3000, `every query is a record or a count (${seen} + ${refused})`);
      assert.equal(counters.ringFull, 0n);
      const mine = parser!.rateLimited().find((entry) => entry.cgroupId === cgroupId);
      assert.ok(mine && mine.dropped >= BigInt(refused), 'the refusals are counted against the storming cgroup');
    } finally {
      parser!.setRateLimit({ perSecond: 1000, burst: 1000 });
    }
  });
});
