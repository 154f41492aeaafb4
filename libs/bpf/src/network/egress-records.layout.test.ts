// The egress parser's structs and constants of bpf/lib/stinger_net.h against the TypeScript tables (host compiler).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  EGRESS_ALPN_SIZE,
  EGRESS_APP,
  EGRESS_BUCKET_LAYOUT,
  EGRESS_CONFIG_LAYOUT,
  EGRESS_COUNTER,
  EGRESS_EVENT_LAYOUT,
  EGRESS_NAME_SIZE,
  EGRESS_PARSE,
  EGRESS_REQUEST_SIZE,
  EGRESS_SOCKET_DONE,
  EGRESS_SOCKET_LAYOUT,
  EGRESS_SOCKET_TUPLE,
  FLOW_EVENT_LAYOUT,
  FLOW_REASON,
} from './egress-records.ts';
import { testCLayout, type Layout } from '../core/test-support.ts';

const STRUCTS: Readonly<Record<string, Layout>> = {
  egress_event: EGRESS_EVENT_LAYOUT,
  egress_socket: EGRESS_SOCKET_LAYOUT,
  egress_config: EGRESS_CONFIG_LAYOUT,
  egress_bucket: EGRESS_BUCKET_LAYOUT,
  flow_event: FLOW_EVENT_LAYOUT,
};

const CONSTANTS: Readonly<Record<string, number>> = {
  EGRESS_APP_DNS: EGRESS_APP.dns,
  EGRESS_APP_TLS: EGRESS_APP.tls,
  EGRESS_APP_HTTP: EGRESS_APP.http,
  EGRESS_PARSE_OK: EGRESS_PARSE.ok,
  EGRESS_PARSE_TRUNCATED: EGRESS_PARSE.truncated,
  EGRESS_PARSE_FRAGMENTED: EGRESS_PARSE.fragmented,
  EGRESS_PARSE_MALFORMED: EGRESS_PARSE.malformed,
  EGRESS_NAME_SIZE,
  EGRESS_ALPN_SIZE,
  EGRESS_REQUEST_SIZE,
  EGRESS_SOCKET_DONE,
  EGRESS_SOCKET_TUPLE,
  FLOW_REASON_END: FLOW_REASON.end,
  FLOW_REASON_INTERIM: FLOW_REASON.interim,
  EGRESS_COUNTER_FLOWS: EGRESS_COUNTER.flows,
  EGRESS_COUNTER_FLOWS_RATE_LIMITED: EGRESS_COUNTER.flowsRateLimited,
  EGRESS_COUNTER_EMITTED: EGRESS_COUNTER.emitted,
  EGRESS_COUNTER_RATE_LIMITED: EGRESS_COUNTER.rateLimited,
  EGRESS_COUNTER_RING_FULL: EGRESS_COUNTER.ringFull,
  EGRESS_COUNTERS: Object.keys(EGRESS_COUNTER).length,
};

testCLayout({ headers: ['stinger_net.h'], structs: STRUCTS, constants: CONSTANTS, constantsTest: 'egress apps, parse results, field sizes and counter slots match the C constants' });

test('the egress record keeps the header first, an 8-byte size, and its text fields last', () => {
  assert.equal(EGRESS_EVENT_LAYOUT.offsets.hdr, 0);
  assert.equal(EGRESS_EVENT_LAYOUT.size % 8, 0);
  assert.equal(EGRESS_EVENT_LAYOUT.offsets.request + EGRESS_REQUEST_SIZE, EGRESS_EVENT_LAYOUT.size);
});
