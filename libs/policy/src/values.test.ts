import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { normaliseAbsolutePath, parseNumberRange, PORT_BOUNDS } from './values.ts';

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

describe('parseNumberRange', () => {
  test('numbers, numeric strings and ranges within bounds', () => {
    assert.deepEqual(parseNumberRange(80, PORT_BOUNDS), { low: 80, high: 80 });
    assert.deepEqual(parseNumberRange('8000-8080', PORT_BOUNDS), { low: 8000, high: 8080 });
    assert.equal(parseNumberRange('http', PORT_BOUNDS), null);
    assert.equal(parseNumberRange(80.5, PORT_BOUNDS), null);
    assert.equal(parseNumberRange('0', PORT_BOUNDS), null);
  });
});
