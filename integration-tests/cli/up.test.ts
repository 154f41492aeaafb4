/**
 * `stinger up` in the foreground, as a user runs it: it prints KAFKA_BROKERS, starts every service of this build
 * (the agent too, as root) with each service's log in its own file, says in one short line when each is running —
 * the terminal shows no service's JSON log — and on Ctrl-C — SIGINT to the terminal's whole process group — stops
 * each service with one SIGTERM, so that each runs its graceful shutdown instead of taking a second signal as
 * "exit now".
 *
 * Against the test run's broker (KAFKA_BROKERS), under a topic prefix, a state dir and ports of its own.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { processEnvironment } from '@stinger/config';
import { freePorts } from '@stinger/processes';
import { buildBpf } from '../helpers/agent.ts';
import { testBrokers, uniqueName } from '../helpers/kafka.ts';

const STINGER = fileURLToPath(new URL('../../libs/cli/bin/stinger.mjs', import.meta.url));
const SERVICES = ['policy-controller', 'enricher', 'detector', 'enforcer', 'agent'];

test('Ctrl-C stops every service `stinger up` started with one SIGTERM each, and leaves no state behind', { timeout: 120_000 }, async () => {
  buildBpf();
  const home = mkdtempSync(join(tmpdir(), 'stinger-up-home-'));
  const [grpc, metrics, enricherMetrics] = await freePorts('127.0.0.1', 3);
  // Its own process group, as a shell gives a foreground job: the SIGINT below reaches every process in it.
  const up = spawn(process.execPath, ['--disable-warning=TimeoutNegativeWarning', STINGER, 'up'], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...processEnvironment(),
      KAFKA_BROKERS: testBrokers(),
      STINGER_TOPIC_PREFIX: `${uniqueName('up')}.`,
      STINGER_HOME: home,
      STINGER_AGENT_GRPC_ADDRESS: `127.0.0.1:${grpc}`,
      STINGER_AGENT_METRICS_ADDRESS: `127.0.0.1:${metrics}`,
      STINGER_ENRICHER_METRICS_ADDRESS: `127.0.0.1:${enricherMetrics}`,
    },
  });
  let output = '';
  up.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  up.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const closed = once(up, 'close');
  try {
    const deadline = Date.now() + 90_000;
    // Up once `stinger up` says every service is running.
    while (!/^all running; logs in /m.test(output)) {
      if (up.exitCode !== null || Date.now() > deadline) assert.fail(`stinger up did not come up:\n${output.slice(-3000)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.match(output, new RegExp(`^KAFKA_BROKERS=${testBrokers()}$`, 'm'));
    for (const service of SERVICES) assert.match(output, new RegExp(`^${service}: running$`, 'm'));
    assert.doesNotMatch(output, /"level":/, 'a calm terminal: no service log lines');
    process.kill(-up.pid!, 'SIGINT'); // what Ctrl-C in a terminal does
    const [code] = (await closed) as [number | null];
    assert.equal(code, 0, output.slice(-3000));
    for (const service of SERVICES) {
      const log = readFileSync(join(home, 'run', 'logs', `${service}.log`), 'utf8');
      const lines = log.split('\n').filter((line) => line.includes('"ns":"Shutdown"'));
      assert.equal(lines.length, 1, `${service}: one shutdown, no second signal:\n${lines.join('\n')}`);
      assert.match(lines[0] ?? '', /"reason":"SIGTERM"/);
    }
    assert.match(output, /^stopped$/m);
    assert.deepEqual(readdirSync(join(home, 'run', 'services')), [], 'no service left recorded as running');
  } finally {
    if (up.exitCode === null) process.kill(-up.pid!, 'SIGKILL');
    rmSync(home, { recursive: true, force: true });
  }
});
