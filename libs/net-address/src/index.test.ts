import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatIpv6 } from './index.ts';

const bytes = (...groups: number[]) => new Uint8Array(groups.flatMap((g) => [g >> 8, g & 0xff]));

test('RFC 5952: longest zero run compressed, leftmost on a tie, single zero groups kept, lower-case', () => {
  assert.equal(formatIpv6(bytes(0, 0, 0, 0, 0, 0, 0, 1)), '::1');
  assert.equal(formatIpv6(bytes(0, 0, 0, 0, 0, 0, 0, 0)), '::');
  assert.equal(formatIpv6(bytes(0x2001, 0xdb8, 0, 0, 1, 0, 0, 1)), '2001:db8::1:0:0:1');
  assert.equal(formatIpv6(bytes(0x2001, 0xdb8, 0, 1, 1, 1, 1, 1)), '2001:db8:0:1:1:1:1:1');
  assert.equal(formatIpv6(bytes(0xfe80, 0, 0, 0, 0xabcd, 0, 0, 0)), 'fe80::abcd:0:0:0');
});

test('an offset reads the address from inside a larger buffer', () => {
  const buffer = new Uint8Array(20);
  buffer.set(bytes(0, 0, 0, 0, 0, 0, 0, 1), 4);
  assert.equal(formatIpv6(buffer, 4), '::1');
});
