import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { normaliseAbsolutePath, parseCidr, parseNumberRange, PORT_BOUNDS } from './values.ts';

describe('normaliseAbsolutePath', () => {
  test('collapses slashes, drops "." and resolves ".." lexically, never above /', () => {
    assert.equal(normaliseAbsolutePath('/etc//./shadow', false), '/etc/shadow');
    assert.equal(normaliseAbsolutePath('/../../etc/x/../shadow', false), '/etc/shadow');
    assert.equal(normaliseAbsolutePath('/etc/', false), '/etc');
    assert.equal(normaliseAbsolutePath('/etc/', true), '/etc/');
    assert.equal(normaliseAbsolutePath('/', true), '/');
    assert.equal(normaliseAbsolutePath('etc/shadow', false), null);
  });
});

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

describe('parseNumberRange', () => {
  test('numbers, numeric strings and ranges within bounds', () => {
    assert.deepEqual(parseNumberRange(80, PORT_BOUNDS), { low: 80, high: 80 });
    assert.deepEqual(parseNumberRange('8000-8080', PORT_BOUNDS), { low: 8000, high: 8080 });
    assert.equal(parseNumberRange('http', PORT_BOUNDS), null);
    assert.equal(parseNumberRange(80.5, PORT_BOUNDS), null);
    assert.equal(parseNumberRange('0', PORT_BOUNDS), null);
  });
});
