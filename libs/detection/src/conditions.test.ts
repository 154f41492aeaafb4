import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NO_FLOW, type MatchCondition } from '@stinger/events';
import { sampleEvent } from '@stinger/testing';
import { compileCondition, compileConditions } from './conditions.ts';

const connect = (daddr: string) =>
  sampleEvent({ kind: 'connect', payload: { group: 'network', family: daddr.includes(':') ? 'inet6' : 'inet', protocol: 'tcp', saddr: null, sport: null, daddr, dport: 443, result: 0, bytes: null, ...NO_FLOW } });
const condition = (operator: MatchCondition['operator'], values: string[]): MatchCondition => ({ field: 'daddr', operator, values });

test('cidr: IPv4 addresses are matched by number, v4-mapped and IPv6 addresses through the parser, non-canonical text never', () => {
  const inTen = compileCondition(condition('cidr', ['10.0.0.0/8', '192.168.1.128/25', '0.0.0.0/0', 'fd00::/8']));
  const matches = (daddr: string) => inTen(connect(daddr));
  assert.equal(matches('10.255.0.1'), true);
  assert.equal(matches('192.168.1.200'), true);
  assert.equal(matches('::ffff:10.1.2.3'), true, 'v4-mapped');
  assert.equal(matches('fd12::1'), true);
  assert.equal(matches('fe80::1'), false);
  assert.equal(matches('010.1.2.3'), false, 'a leading zero is not an address the parser accepts');
  assert.equal(matches('10.1.2'), false);
  const narrow = compileCondition(condition('cidr', ['192.168.1.128/25']));
  assert.equal(narrow(connect('192.168.1.127')), false);
  assert.equal(narrow(connect('192.168.1.128')), true);
  assert.equal(compileCondition(condition('not_cidr', ['10.0.0.0/8']))(connect('11.0.0.1')), true);
});

test('a file close event matches only conditions that name op: the open already matched the access', () => {
  const file = (op: 'open' | 'close') =>
    sampleEvent({ kind: 'file', payload: { group: 'file', op, path: '/etc/shadow', path_as_given: '/etc/shadow', new_path: null, flags: 0, mode: null, result: 0, reached_by: null, io: null } });
  const byPath = compileConditions([{ field: 'path', operator: 'equal', values: ['/etc/shadow'] }]);
  assert.deepEqual([byPath(file('open')), byPath(file('close'))], [true, false]);
  const reads = compileConditions([{ field: 'access', operator: 'equal', values: ['read'] }]);
  assert.deepEqual([reads(file('open')), reads(file('close'))], [true, false]);
  const closes = compileConditions([{ field: 'op', operator: 'equal', values: ['close'] }, { field: 'path', operator: 'equal', values: ['/etc/shadow'] }]);
  assert.deepEqual([closes(file('open')), closes(file('close'))], [false, true]);
});
