import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PolicyStatus } from '@stinger/events';
import { silentLogger } from '@stinger/log';
import { PolicyStatusReporter } from './status-reporter.ts';

const status = (policy: string, generation: bigint): PolicyStatus => ({
  policy,
  generation,
  node: 'n',
  agent_id: 'a',
  state: 'applied',
  kernel_rules: 1,
  pipeline_rules: 0,
  messages: [],
  reported_at_ns: 1n,
});

test('statuses wait for start, failed sends are retried, and only the latest per policy is sent', async () => {
  const sent: string[] = [];
  let up = false;
  const reporter = new PolicyStatusReporter({
    logger: silentLogger(),
    send: async (key, s) => {
      if (!up) throw new Error('producer is disconnected');
      sent.push(`${key}:${s === null ? 'tombstone' : s.generation}`);
    },
  });
  reporter.report('a', status('a', 1n));
  reporter.report('a', status('a', 2n));
  reporter.report('b', status('b', 1n));
  assert.deepEqual(sent, [], 'nothing is sent before start');
  await reporter.start();
  assert.deepEqual(sent, [], 'the broker is still away');
  assert.equal(reporter.pending, 2);
  up = true;
  await reporter.flush();
  assert.deepEqual(sent, ['a:2', 'b:1']);
  reporter.report('b', null);
  await reporter.flush();
  assert.deepEqual(sent, ['a:2', 'b:1', 'b:tombstone']);
  assert.equal(reporter.pending, 0);
});
