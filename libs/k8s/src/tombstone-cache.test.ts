import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TombstoneCache } from './tombstone-cache.ts';

test('capacity: the least recently used entry goes first', () => {
  const cache = new TombstoneCache<string, number>({ capacity: 2, ttlMs: 1000, now: () => 0 });
  cache.put('a', 1);
  cache.put('b', 2);
  assert.equal(cache.get('a'), 1); // a is now more recent than b
  cache.put('c', 3);
  assert.equal(cache.get('b'), undefined);
  assert.equal(cache.get('a'), 1);
  assert.equal(cache.get('c'), 3);
  assert.equal(cache.size, 2);
});

test('ttl: entries expire ttlMs after put; prune drops expired ones', () => {
  let now = 0;
  const cache = new TombstoneCache<string, number>({ capacity: 10, ttlMs: 100, now: () => now });
  cache.put('a', 1);
  now = 50;
  cache.put('b', 2);
  now = 99;
  assert.equal(cache.get('a'), 1);
  now = 100;
  assert.equal(cache.get('a'), undefined);
  assert.equal(cache.get('b'), 2);
  now = 200;
  assert.equal(cache.prune(), 1);
  assert.equal(cache.size, 0);
});

test('capacity 0 keeps nothing; a negative capacity is refused', () => {
  const cache = new TombstoneCache<string, number>({ capacity: 0, ttlMs: 100 });
  cache.put('a', 1);
  assert.equal(cache.get('a'), undefined);
  assert.throws(() => new TombstoneCache({ capacity: -1, ttlMs: 1 }), RangeError);
});
