/** The agent refuses clearly, and loads nothing, when it lacks the privileges eBPF needs. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { processEnvironment } from '@stinger/config';
import { runNodeUnprivileged } from '@stinger/testing';

test('as an unprivileged user the agent exits 1 with one line naming what it needs', { timeout: 30_000 }, () => {
  // Nobody may not be able to enter the directory the checkout lives in: the helper lets it read the checkout alone.
  const result = runNodeUnprivileged((checkout) => [join(checkout, 'services/agent/src/main.ts')], {
    env: { ...processEnvironment(), KAFKA_BROKERS: '127.0.0.1:1', STINGER_HOME: '/tmp/stinger-unprivileged' },
  });
  assert.equal(result.status, 1, result.stderr);
  assert.match(result.stderr, /^stinger agent: loading BPF programs needs root, or CAP_BPF and CAP_PERFMON \(uid 65534/m);
});
