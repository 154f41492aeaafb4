// The network structs and constants of bpf/lib/stinger_net.h against the TypeScript tables (host compiler).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  FLOW_DIRECTION,
  FLOW_KEY_LAYOUT,
  FLOW_VALUE_LAYOUT,
  NET_AF,
  NET_EVENT_LAYOUT,
  NET_FLAG,
  NET_RULE_KEY_LAYOUT,
  NET_RULE_VALUE_LAYOUT,
  NET_RULE_FLAG,
  NET_WATCH,
  NET_WATCH_CONFIG_LAYOUT,
  STINGER_ACTION,
} from './records.ts';
import { testCLayout, type Layout } from '../core/test-support.ts';

const STRUCTS: Readonly<Record<string, Layout>> = {
  net_event: NET_EVENT_LAYOUT,
  net_watch_config: NET_WATCH_CONFIG_LAYOUT,
  net_rule_key: NET_RULE_KEY_LAYOUT,
  net_rule_value: NET_RULE_VALUE_LAYOUT,
  flow_key: FLOW_KEY_LAYOUT,
  flow_value: FLOW_VALUE_LAYOUT,
};

const CONSTANTS: Readonly<Record<string, number>> = {
  NET_AF_INET: NET_AF.inet,
  NET_AF_INET6: NET_AF.inet6,
  STINGER_ACTION_NONE: STINGER_ACTION.none,
  STINGER_ACTION_AUDIT: STINGER_ACTION.audit,
  STINGER_ACTION_KILLED: STINGER_ACTION.killed,
  STINGER_ACTION_DENIED: STINGER_ACTION.denied,
  NET_FLAG_ADDR_KNOWN: NET_FLAG.addrKnown,
  NET_FLAG_ADDR_FAULT: NET_FLAG.addrFault,
  NET_FLAG_FROM_CGROUP: NET_FLAG.fromCgroup,
  NET_FLAG_UNSUPPORTED_FAMILY: NET_FLAG.unsupportedFamily,
  NET_WATCH_CONNECT: NET_WATCH.connect,
  NET_WATCH_ACCEPT: NET_WATCH.accept,
  NET_WATCH_BIND: NET_WATCH.bind,
  NET_WATCH_LISTEN: NET_WATCH.listen,
  NET_WATCH_CONNECT_RULES: NET_WATCH.connectRules,
  NET_RULE_FLAG_HOST_ONLY: NET_RULE_FLAG.hostOnly,
  NET_RULE_FLAG_PODS_ONLY: NET_RULE_FLAG.podsOnly,
  FLOW_INGRESS: FLOW_DIRECTION.ingress,
  FLOW_EGRESS: FLOW_DIRECTION.egress,
};

testCLayout({ headers: ['stinger_net.h'], structs: STRUCTS, constants: CONSTANTS, constantsTest: 'network actions and flag bits match the C constants' });

test('the network record keeps the header first and an 8-byte size', () => {
  assert.equal(NET_EVENT_LAYOUT.offsets.hdr, 0);
  assert.equal(NET_EVENT_LAYOUT.size % 8, 0);
});
