// The egress view's names (issue 17): egress events grouped by pod, command, application and name, with counts, the
// bytes of the requests read, the destinations and how many were not read completely; connections stay apart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFilters } from '@stinger/console-api';
import type { EgressPayload, Event } from '@stinger/events';
import { sampleEgressPayload, sampleEvent } from '@stinger/testing';
import { ConsoleStore, queryEgress, queryEvents } from './index.ts';

const NOW = Date.parse('2026-12-02T08:00:00Z');
const ns = (ms: number): bigint => BigInt(ms) * 1_000_000n;

let seq = 0n;
function egress(msAgo: number, binary: string, fields: Partial<EgressPayload>): Event {
  seq += 1n;
  return sampleEvent({
    seq,
    time: ns(NOW - msAgo),
    kind: 'egress',
    process: { pid: 700, binary, args: [], exec_id: `node-a:700:${binary}`, start_time: 700n },
    parent: { pid: 100, binary: '/bin/sh', exec_id: 'node-a:100:sh', parent_exec_id: null },
    pod: { namespace: 'shop', name: 'web-1', uid: 'uid-web-1', labels: {}, annotations: {}, workload: 'web', workload_kind: 'Deployment', container: { id: 'c1', name: 'app', image: 'app:1' } },
    payload: sampleEgressPayload({ socket_cookie: seq, ...fields }),
  });
}

test('names per pod and command: resolved and contacted, counted, with bytes, destinations and incomplete reads', () => {
  const store = new ConsoleStore({ path: ':memory:', retentionMs: 3_600_000, maxEvents: 1000 });
  store.ingestEvents(
    [
      egress(3000, '/usr/bin/xmrig', { dns_name: 'pool.example', dns_type: 'A' }),
      egress(2000, '/usr/bin/xmrig', { dns_name: 'pool.example', dns_type: 'AAAA', daddr: '10.96.0.11' }),
      egress(1000, '/usr/bin/xmrig', { application: 'tls', protocol: 'tcp', daddr: '198.51.100.20', dport: 443, server_name: 'pool.example', payload_bytes: 517 }),
      egress(500, '/usr/bin/curl', { application: 'tls', protocol: 'tcp', daddr: '198.51.100.30', dport: 443, parse: 'fragmented', payload_bytes: 40 }),
      egress(400, '/usr/bin/curl', { application: 'http', protocol: 'tcp', daddr: '198.51.100.31', dport: 80, http_request: 'GET / HTTP/1.1', http_host: 'web.example', parse: 'truncated', payload_bytes: 700 }),
    ],
    NOW,
  );
  const { rows, names } = queryEgress(store, parseFilters(new URLSearchParams(''), NOW));
  assert.deepEqual(rows, [], 'egress events are not connections');
  assert.deepEqual(
    names.map((n) => [n.binary, n.application, n.name, n.count, n.bytes, [...n.destinations].sort(), n.incomplete]),
    [
      ['/usr/bin/xmrig', 'dns', 'pool.example', 2, 80, ['10.96.0.10', '10.96.0.11'], 0],
      ['/usr/bin/curl', 'http', 'web.example', 1, 700, ['198.51.100.31'], 1],
      ['/usr/bin/xmrig', 'tls', 'pool.example', 1, 517, ['198.51.100.20'], 0],
    ],
    'a ClientHello read without its name (fragmented) names nothing',
  );
  assert.deepEqual([names[0]?.namespace, names[0]?.pod, names[0]?.workload, names[0]?.ancestry], ['shop', 'web-1', 'web', ['/bin/sh']]);
  const listed = queryEvents(store, parseFilters(new URLSearchParams('kind=egress'), NOW)).events;
  assert.equal(listed.length, 5);
  assert.match(listed.find((e) => e.binary === '/usr/bin/curl' && e.summary.includes('http'))?.summary ?? '', /egress +pid=700 \/usr\/bin\/curl http "GET \/ HTTP\/1.1" host=web.example -> 198.51.100.31:80 \(truncated\)$/);
});
