import { test } from 'node:test';
import assert from 'node:assert/strict';
import { INITIAL_CONSUMER_HEALTH, judgeCatchUp, judgeConsumerHealth, nextCatchUp, nextConsumerHealth, type ConsumerHealthEvent, type ConsumerHealthState } from './consumer-health.ts';

const STALE_MS = 90_000;
const replay = (events: readonly ConsumerHealthEvent[]): ConsumerHealthState => events.reduce(nextConsumerHealth, INITIAL_CONSUMER_HEALTH);
const joined: ConsumerHealthEvent = { type: 'joined', atMs: 1000, assignment: { 'stinger.events': [0, 1], other: [3] } };

test('a consumer is ready once joined, with its partitions counted; live but unready before', () => {
  assert.deepEqual(judgeConsumerHealth(INITIAL_CONSUMER_HEALTH, 0, STALE_MS), { live: true, ready: false, detail: { joined: false, partitions: 0, sinceHeartbeatMs: null } });
  assert.deepEqual(judgeConsumerHealth(replay([joined]), 1500, STALE_MS), { live: true, ready: true, detail: { joined: true, partitions: 3, sinceHeartbeatMs: 500 } });
  const standby = replay([{ type: 'joined', atMs: 1000, assignment: {} }]);
  assert.equal(judgeConsumerHealth(standby, 1000, STALE_MS).ready, true, 'a member without partitions is a ready standby');
});

test('a rebalance, stop or retried crash unreadies until the next join; none of them is a reason to restart', () => {
  for (const left of [{ type: 'left' }, { type: 'crashed', error: 'broker gone', restarting: true }] as const) {
    const state = replay([joined, left]);
    assert.deepEqual([judgeConsumerHealth(state, 2000, STALE_MS).ready, judgeConsumerHealth(state, 10 * STALE_MS, STALE_MS).live], [false, true], left.type);
    assert.equal(judgeConsumerHealth(replay([joined, left, { ...joined, atMs: 3000 }]), 3000, STALE_MS).ready, true);
  }
});

test('not live: joined but silent past the limit (a stuck batch handler), or a crash kafkajs gave up on', () => {
  const state = replay([joined, { type: 'heartbeat', atMs: 50_000 }]);
  assert.equal(judgeConsumerHealth(state, 50_000 + STALE_MS, STALE_MS).live, true);
  assert.equal(judgeConsumerHealth(state, 50_001 + STALE_MS, STALE_MS).live, false);
  const gaveUp = judgeConsumerHealth(replay([joined, { type: 'crashed', error: 'not authorized', restarting: false }]), 2000, STALE_MS);
  assert.deepEqual(gaveUp, { live: false, ready: false, detail: { joined: false, partitions: 3, sinceHeartbeatMs: 1000, gaveUp: 'not authorized' } });
});

test('caught up once the lag was at or below the limit; falling behind later keeps it ready', () => {
  const initial = { lag: null, caughtUp: false };
  assert.deepEqual(judgeCatchUp(initial), { live: true, ready: false, detail: { caughtUp: false, lag: null } });
  const behind = nextCatchUp(initial, 5000n, 1000n);
  assert.equal(judgeCatchUp(behind).ready, false);
  const caughtUp = nextCatchUp(behind, 1000n, 1000n);
  assert.equal(judgeCatchUp(caughtUp).ready, true);
  assert.deepEqual(judgeCatchUp(nextCatchUp(caughtUp, 9000n, 1000n)), { live: true, ready: true, detail: { caughtUp: true, lag: 9000 } });
});
