import { test } from 'node:test';
import assert from 'node:assert/strict';
import { retryRetriable } from './admin.ts';

test('retriable failures are retried, others surface at once', async () => {
  let calls = 0;
  const flaky = async () => {
    calls += 1;
    if (calls < 3) throw Object.assign(new Error('not the leader'), { retriable: true });
    return 'ok';
  };
  assert.equal(await retryRetriable(flaky), 'ok');
  assert.equal(calls, 3);
  let fatalCalls = 0;
  await assert.rejects(
    retryRetriable(async () => {
      fatalCalls += 1;
      throw Object.assign(new Error('bad config'), { retriable: false });
    }),
    /bad config/,
  );
  assert.equal(fatalCalls, 1);
  await assert.rejects(retryRetriable(async () => Promise.reject(Object.assign(new Error('still moving'), { retriable: true })), 2), /still moving/);
});
