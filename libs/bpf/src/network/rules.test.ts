// Unit tests (no kernel): CIDR parsing, rule-key encoding and input validation of the destination rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BpfMap } from '../core/bpf-object.ts';
import { KEEP_RECORDS_RULE_FLAG } from '../core/event-kinds.ts';
import { NetRuleError, createDestinationRuleMap, encodeNetRuleKey, parseCidr, validatePort, validateRuleId } from './rules.ts';
import { NET_RULE_VALUE_LAYOUT, STINGER_ACTION, formatIpv6 } from './records.ts';

const fieldOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof NetRuleError, String(error));
    return error.field;
  }
  assert.fail('no error thrown');
};

test('an IPv4 CIDR is stored IPv4-mapped with 96 + n prefix bits and host bits cleared', () => {
  const parsed = parseCidr('10.1.2.3/8');
  assert.equal(parsed.family, 'inet');
  assert.equal(parsed.prefix128, 104);
  assert.equal(parsed.text, '10.0.0.0/8');
  assert.deepEqual([...parsed.bytes], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 0]);
  assert.equal(parseCidr('127.0.0.1').text, '127.0.0.1/32');
});

test('IPv6 CIDRs parse with :: and an embedded IPv4 tail', () => {
  assert.equal(parseCidr('2001:db8::1/32').text, '2001:db8::/32');
  assert.equal(parseCidr('::1').text, '::1/128');
  assert.equal(parseCidr('::ffff:192.0.2.1/128').text, '::ffff:192.0.2.1/128');
  assert.deepEqual([...parseCidr('fe80::1:2/128').bytes.slice(12)], [0, 1, 0, 2]);
});

test('the rule key is prefixlen (16 + prefix) LE, port big-endian, then the 16 address bytes', () => {
  const key = encodeNetRuleKey(parseCidr('127.0.0.1/32'), 9);
  assert.equal(key.length, 24);
  const view = new DataView(key.buffer);
  assert.equal(view.getUint32(0, true), 16 + 128);
  assert.deepEqual([key[4], key[5]], [0, 9]);
  assert.deepEqual([...key.slice(16, 22)], [0xff, 0xff, 127, 0, 0, 1]);
  assert.deepEqual([key[22], key[23]], [0, 0]);
});

test('bad CIDRs, ports and rule ids are refused with the field named', () => {
  assert.equal(fieldOf(() => parseCidr('10.0.0.0/33')), 'cidr');
  assert.equal(fieldOf(() => parseCidr('10.0.0/8')), 'cidr');
  assert.equal(fieldOf(() => parseCidr('::1/129')), 'cidr');
  assert.equal(fieldOf(() => parseCidr('10.0.0.0/-1')), 'cidr');
  assert.equal(fieldOf(() => parseCidr(42)), 'cidr');
  assert.equal(fieldOf(() => validatePort(65536)), 'port');
  assert.equal(fieldOf(() => validatePort(1.5)), 'port');
  assert.equal(fieldOf(() => validatePort('80')), 'port');
  assert.equal(validatePort(undefined), 0);
  assert.equal(fieldOf(() => validateRuleId(0)), 'ruleId');
  assert.equal(fieldOf(() => validateRuleId(2 ** 32)), 'ruleId');
});

test('IPv6 text follows RFC 5952 (longest zero run compressed, single zero groups kept)', () => {
  const bytes = (groups: number[]): Uint8Array => new Uint8Array(groups.flatMap((g) => [g >> 8, g & 0xff]));
  assert.equal(formatIpv6(bytes([0x2001, 0xdb8, 0, 0, 1, 0, 0, 1])), '2001:db8::1:0:0:1');
  assert.equal(formatIpv6(bytes([0x2001, 0xdb8, 0, 1, 1, 1, 1, 1])), '2001:db8:0:1:1:1:1:1');
  assert.equal(formatIpv6(bytes([0, 0, 0, 0, 0, 0, 0, 0])), '::');
});

test('a destination rule with keepRecords carries the keep-records bit in its value; anything but a boolean is refused', () => {
  const values: Uint8Array[] = [];
  const map = { update: (_key: Uint8Array, value: Uint8Array) => void values.push(value), delete: () => true } as unknown as BpfMap;
  const rules = createDestinationRuleMap({ map, mapAll: map, action: STINGER_ACTION.audit });
  rules.add({ cidr: '10.1.0.0/16', ruleId: 5, keepRecords: true });
  rules.add({ cidr: '10.2.0.0/16', ruleId: 6 });
  const flags = (value: Uint8Array | undefined): number => new DataView(value!.buffer).getUint32(NET_RULE_VALUE_LAYOUT.offsets.flags, true);
  assert.deepEqual([flags(values[0]), flags(values[2])], [KEEP_RECORDS_RULE_FLAG, 0], 'the rule map and its all-tasks copy are written per rule');
  assert.throws(
    () => rules.add({ cidr: '10.3.0.0/16', ruleId: 7, keepRecords: 'yes' as unknown as boolean }),
    (error: unknown) => error instanceof NetRuleError && error.field === 'keepRecords',
  );
});
