// The egress view's bytes (issue 17): flow events joined to egress events on (node, socket cookie). A name row
// shows the traffic of the sockets that asked for it, each socket once however many queries it sent; interim flow
// records (totals so far) and a record delivered twice are not counted twice; another node's socket with the same
// cookie is not joined; a name whose socket has no flow yet shows null. Per-destination rows get the flows' bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFilters } from '@stinger/console-api';
import { NO_FLOW, type EgressPayload, type Event, type NetworkPayload } from '@stinger/events';
import { sampleEgressPayload, sampleEvent } from '@stinger/testing';
import { ConsoleStore, queryEgress } from './index.ts';

const NOW = Date.parse('2026-12-02T08:00:00Z');
const ns = (ms: number): bigint => BigInt(ms) * 1_000_000n;
const POD = { namespace: 'shop', name: 'web-1', uid: 'uid-web-1', labels: {}, annotations: {}, workload: 'web', workload_kind: 'Deployment', container: { id: 'c1', name: 'app', image: 'app:1' } };

let seq = 0n;
interface At {
  readonly msAgo: number;
  readonly binary: string;
  readonly node?: string;
  /** The event's id (default: a new one), to deliver one record twice. */
  readonly id?: string;
}

function event(at: At, kind: 'egress' | 'flow', payload: Event['payload']): Event {
  const node = at.node ?? 'node-a';
  seq += 1n;
  const made = sampleEvent({
    seq,
    time: ns(NOW - at.msAgo),
    node,
    kind,
    process: { pid: 700, binary: at.binary, args: [], exec_id: `${node}:700:${at.binary}`, start_time: 700n },
    parent: { pid: 100, binary: '/bin/sh', exec_id: `${node}:100:sh`, parent_exec_id: null },
    pod: POD,
    payload,
  });
  return at.id === undefined ? made : { ...made, id: at.id };
}

const egress = (at: At, cookie: bigint, fields: Partial<EgressPayload>): Event =>
  event(at, 'egress', sampleEgressPayload({ socket_cookie: cookie, ...fields }));

interface Traffic {
  readonly cookie: bigint;
  readonly daddr: string;
  readonly dport: number;
  readonly sent: number;
  readonly received: number;
  readonly state: 'open' | 'ended';
}

function flow(at: At, traffic: Traffic): Event {
  const { cookie, daddr, dport, sent, received, state } = traffic;
  const payload: NetworkPayload = {
    group: 'network',
    family: 'inet',
    protocol: dport === 53 ? 'udp' : 'tcp',
    saddr: '10.244.0.5',
    sport: 40000,
    daddr,
    dport,
    result: 0,
    bytes: BigInt(sent + received),
    ...NO_FLOW,
    socket_cookie: cookie,
    bytes_sent: BigInt(sent),
    bytes_received: BigInt(received),
    packets_sent: 1n,
    packets_received: 1n,
    flow_state: state,
    flow_start: ns(NOW - 10_000),
  };
  return event(at, 'flow', payload);
}

const XMRIG = '/usr/bin/xmrig';
const POOL = { cookie: 12n, daddr: '198.51.100.20', dport: 443 };

test('names show the sent and received bytes of their sockets, joined on node and socket cookie', () => {
  const store = new ConsoleStore({ path: ':memory:', retentionMs: 3_600_000, maxEvents: 1000 });
  const interim = flow({ msAgo: 1500, binary: XMRIG, id: 'flow-12-interim' }, { ...POOL, sent: 1000, received: 50_000, state: 'open' });
  store.ingestEvents(
    [
      // One resolver socket (cookie 11) asks twice for the same name: its traffic counts once.
      egress({ msAgo: 3000, binary: XMRIG }, 11n, { dns_name: 'pool.example', dns_type: 'A' }),
      egress({ msAgo: 2900, binary: XMRIG }, 11n, { dns_name: 'pool.example', dns_type: 'AAAA' }),
      egress({ msAgo: 2000, binary: XMRIG }, 12n, { application: 'tls', protocol: 'tcp', daddr: POOL.daddr, dport: 443, server_name: 'pool.example', payload_bytes: 517 }),
      egress({ msAgo: 1000, binary: '/usr/bin/curl' }, 13n, { application: 'http', protocol: 'tcp', daddr: '198.51.100.31', dport: 80, http_request: 'GET / HTTP/1.1', http_host: 'web.example' }),
      flow({ msAgo: 2800, binary: XMRIG }, { cookie: 11n, daddr: '10.96.0.10', dport: 53, sent: 160, received: 400, state: 'ended' }),
      interim,
      // Another node's socket that happens to have cookie 12: not pool.example's.
      flow({ msAgo: 1400, binary: XMRIG, node: 'node-b' }, { cookie: 12n, daddr: '203.0.113.9', dport: 443, sent: 7777, received: 7777, state: 'ended' }),
    ],
    NOW,
  );
  // The interim record again (Kafka's at-least-once), then the socket's final totals.
  store.ingestEvents([interim, flow({ msAgo: 500, binary: XMRIG }, { ...POOL, sent: 2000, received: 1_000_000, state: 'ended' })], NOW);

  const { rows, names } = queryEgress(store, parseFilters(new URLSearchParams(''), NOW));
  assert.deepEqual(
    names.map((n) => [n.node, n.binary, n.application, n.name, n.count, n.bytes, n.bytesSent, n.bytesReceived]),
    [
      ['node-a', '/usr/bin/xmrig', 'dns', 'pool.example', 2, 80, 160, 400],
      ['node-a', '/usr/bin/curl', 'http', 'web.example', 1, 40, null, null],
      ['node-a', '/usr/bin/xmrig', 'tls', 'pool.example', 1, 517, 2000, 1_000_000],
    ],
  );
  // Per destination: each socket's final totals once (not the interim record's on top of them).
  const byDestination = new Map(rows.map((r) => [`${r.node} ${r.daddr}:${r.dport}`, [r.bytes, r.connections]]));
  assert.deepEqual(byDestination.get('node-a 198.51.100.20:443'), [1_002_000, 1], 'one socket, its interim and final records');
  assert.deepEqual(byDestination.get('node-a 10.96.0.10:53'), [560, 1]);
  assert.deepEqual(byDestination.get('node-b 203.0.113.9:443'), [15_554, 1]);
});

test('a flow stored before its egress event is joined all the same', () => {
  const store = new ConsoleStore({ path: ':memory:', retentionMs: 3_600_000, maxEvents: 1000 });
  const wget = { msAgo: 900, binary: '/usr/bin/wget' };
  store.ingestEvents([flow(wget, { cookie: 21n, daddr: '198.51.100.40', dport: 443, sent: 300, received: 9000, state: 'ended' })], NOW);
  const before = queryEgress(store, parseFilters(new URLSearchParams(''), NOW)).names;
  assert.deepEqual(before, [], 'a flow alone names nothing');
  store.ingestEvents([egress({ ...wget, msAgo: 1000 }, 21n, { application: 'tls', protocol: 'tcp', daddr: '198.51.100.40', dport: 443, server_name: 'files.example' })], NOW);
  const names = queryEgress(store, parseFilters(new URLSearchParams(''), NOW)).names;
  assert.deepEqual(names.map((n) => [n.name, n.bytesSent, n.bytesReceived]), [['files.example', 300, 9000]]);
});
