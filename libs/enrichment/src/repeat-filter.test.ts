import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RepeatFilter, SeenRanges } from './repeat-filter.ts';

test('SeenRanges: in order is one range; a repeat anywhere is found; gaps fill and merge', () => {
  const seen = new SeenRanges(64);
  for (let seq = 0n; seq < 10n; seq++) assert.equal(seen.add(seq), true);
  assert.deepEqual(seen.ranges, [[0n, 9n]]);
  assert.equal(seen.add(0n), false);
  assert.equal(seen.add(5n), false);
  assert.equal(seen.add(9n), false);
  // A failed batch (10-12) resent after the next one (13-15) was written: neither is a repeat.
  for (const seq of [13n, 14n, 15n]) assert.equal(seen.add(seq), true);
  assert.deepEqual(seen.ranges, [[0n, 9n], [13n, 15n]]);
  assert.equal(seen.add(11n), true);
  assert.deepEqual(seen.ranges, [[0n, 9n], [11n, 11n], [13n, 15n]]);
  assert.equal(seen.add(12n), true, 'fills up to the next range: merged');
  assert.deepEqual(seen.ranges, [[0n, 9n], [11n, 15n]]);
  assert.equal(seen.add(10n), true);
  assert.deepEqual(seen.ranges, [[0n, 15n]]);
  assert.equal(seen.add(14n), false);
  assert.equal(seen.add(16n), true);
  assert.deepEqual(seen.ranges, [[0n, 16n]]);
});

test('SeenRanges: first seen mid-stream (a restarted enricher), older records are new; below a range start extends it', () => {
  const seen = new SeenRanges(64);
  assert.equal(seen.add(100n), true);
  assert.equal(seen.add(99n), true);
  assert.equal(seen.add(50n), true);
  assert.deepEqual(seen.ranges, [[50n, 50n], [99n, 100n]]);
  assert.equal(seen.add(99n), false);
  assert.equal(seen.add(50n), false);
});

test('SeenRanges: past maxRanges the lowest range is forgotten, so its repeats pass (never a drop of something unseen)', () => {
  const seen = new SeenRanges(3);
  for (const seq of [0n, 10n, 20n, 30n]) assert.equal(seen.add(seq), true);
  assert.deepEqual(seen.ranges, [[10n, 10n], [20n, 20n], [30n, 30n]]);
  assert.equal(seen.add(0n), true, 'forgotten: passes again');
  assert.equal(seen.add(30n), false);
});

test('RepeatFilter: agents apart; the least recently seen agent is forgotten past maxAgents', () => {
  const filter = new RepeatFilter({ maxAgents: 2 });
  assert.equal(filter.firstTime('a', 0n), true);
  assert.equal(filter.firstTime('b', 0n), true, 'same seq, other agent');
  assert.equal(filter.firstTime('a', 0n), false);
  assert.equal(filter.firstTime('c', 0n), true); // forgets b: a was seen more recently
  assert.equal(filter.agents, 2);
  assert.equal(filter.firstTime('a', 0n), false, 'a is remembered');
  assert.equal(filter.firstTime('b', 0n), true, 'b was forgotten: its repeat passes');
});

test('RepeatFilter: random resends of random batches — every pair passes exactly once', () => {
  let state = 42;
  const random = (n: number) => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state % n;
  };
  const filter = new RepeatFilter();
  const passed: string[] = [];
  for (const agent of ['x', 'y']) {
    const order: bigint[] = [];
    for (let batch = 0; batch < 200; batch++) {
      const seqs = Array.from({ length: 10 }, (_, i) => BigInt(batch * 10 + i));
      order.push(...seqs);
      if (random(4) === 0) order.push(...seqs.slice(random(10))); // written, unacknowledged, resent at once
      if (random(8) === 0 && batch > 0) order.push(...Array.from({ length: 10 }, (_, i) => BigInt((batch - 1) * 10 + i))); // resent after the next
    }
    for (const seq of order) if (filter.firstTime(agent, seq)) passed.push(`${agent}/${seq}`);
  }
  assert.equal(passed.length, 4000);
  assert.equal(new Set(passed).size, 4000);
});
