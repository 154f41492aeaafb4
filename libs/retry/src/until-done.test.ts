import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentLogger } from '@stinger/log';
import { untilDone } from './until-done.ts';

test('retries with growing, jittered delays until the step succeeds', async () => {
  const delays: number[] = [];
  let calls = 0;
  await untilDone({ what: 'x', logger: silentLogger(), backoff: { initialMs: 100, maxMs: 1000, jitter: 0.5, random: () => 1 }, sleep: async (ms) => void delays.push(ms) }, async () => {
    calls += 1;
    if (calls < 4) throw new Error('not yet');
  });
  assert.equal(calls, 4);
  assert.deepEqual(delays, [50, 100, 200]);
});

test('a fatal error ends the loop at once', async () => {
  let calls = 0;
  const fatal = new Error('bad credentials');
  await assert.rejects(
    untilDone({ what: 'x', logger: silentLogger(), isFatal: (e) => e === fatal, sleep: async () => {} }, async () => {
      calls += 1;
      throw fatal;
    }),
    /bad credentials/,
  );
  assert.equal(calls, 1);
});

test('quietFirstSuccess logs a success only when it needed retries', async () => {
  const lines: string[] = [];
  const logger = { ...silentLogger(), info: (_: unknown, message: string) => void lines.push(message), warn: () => undefined } as unknown as ReturnType<typeof silentLogger>;
  await untilDone({ what: 'send', logger, quietFirstSuccess: true, sleep: async () => {} }, async () => {});
  assert.deepEqual(lines, []);
  let calls = 0;
  await untilDone({ what: 'send', logger, quietFirstSuccess: true, sleep: async () => {} }, async () => {
    calls += 1;
    if (calls < 2) throw new Error('not yet');
  });
  assert.deepEqual(lines, ['send: done']);
});
