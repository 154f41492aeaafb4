/** The agent refuses clearly, and loads nothing, when it lacks the privileges eBPF needs. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { processEnvironment } from '@stinger/config';

const AGENT_MAIN = fileURLToPath(new URL('../../services/agent/src/main.ts', import.meta.url));

test('as an unprivileged user the agent exits 1 with one line naming what it needs', { timeout: 30_000 }, () => {
  const result = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, AGENT_MAIN], {
    env: { ...processEnvironment(), KAFKA_BROKERS: '127.0.0.1:1', STINGER_HOME: '/tmp/stinger-unprivileged' },
    encoding: 'utf8',
  });
  assert.equal(result.status, 1, result.stderr);
  assert.match(result.stderr, /^stinger agent: loading BPF programs needs root, or CAP_BPF and CAP_PERFMON \(uid 65534/m);
});
