import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { mappedNetwork, parseCidr } from './cidr.ts';

describe('parseCidr', () => {
  test('canonical IPv4 and IPv6 text, bare addresses as hosts, host bits cleared and flagged', () => {
    assert.deepEqual([parseCidr('10.1.2.3/8')?.canonical, parseCidr('10.1.2.3/8')?.hostBitsCleared], ['10.0.0.0/8', true]);
    assert.deepEqual([parseCidr('169.254.169.254')?.canonical, parseCidr('169.254.169.254')?.hostBitsCleared], ['169.254.169.254/32', false]);
    assert.equal(parseCidr('2001:0DB8:0000:0000:0001:0000:0000:0001/128')?.canonical, '2001:db8::1:0:0:1/128');
    assert.equal(parseCidr('::ffff:10.0.0.1')?.canonical, '::ffff:a00:1/128');
    assert.equal(parseCidr('::/0')?.canonical, '::/0');
    assert.equal(parseCidr('fe80::1%eth0'), null);
    assert.equal(parseCidr('10.0.0.0/33'), null);
    assert.equal(parseCidr('example.com'), null);
  });
});

test('mappedNetwork: IPv4 into ::ffff:0:0/96, IPv6 as is', () => {
  const v4 = mappedNetwork(parseCidr('10.0.0.0/8')!);
  assert.equal(v4.prefix128, 104);
  assert.deepEqual([...v4.bytes.slice(10, 13)], [0xff, 0xff, 10]);
  assert.equal(mappedNetwork(parseCidr('2001:db8::/32')!).prefix128, 32);
});
