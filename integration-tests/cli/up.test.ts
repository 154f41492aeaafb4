/**
 * `stinger up` as a user runs it. In the foreground it prints the broker, the console's URL (when this build has the
 * console) and KAFKA_BROKERS, starts every service of this build (the agent too, as root) with each service's log in
 * a file it names, says in one short line when each is running — the terminal shows no service's JSON log — then a
 * status line; with --logs it prints the services' logs as readable lines. On Ctrl-C — SIGINT to the terminal's whole
 * process group — it stops each service with one SIGTERM, so that each runs its graceful shutdown instead of taking a
 * second signal as "exit now". With --detach it prints the same addresses and returns; `stinger down` stops it all.
 *
 * Against the test run's broker (KAFKA_BROKERS), under a topic prefix, a state dir and ports of its own.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { processEnvironment } from '@stinger/config';
import { buildBpf } from '../helpers/agent.ts';
import { runStinger } from '../helpers/cli.ts';
import { testBrokers } from '../helpers/kafka.ts';
import { UP_SERVICES, upEnvironment, waitForUpServices } from '../helpers/up.ts';

const STINGER = fileURLToPath(new URL('../../libs/cli/bin/stinger.mjs', import.meta.url));
const HAS_CONSOLE = UP_SERVICES.includes('console');

function assertAddresses(output: string, consolePort: number): void {
  assert.match(output, new RegExp(`^broker: ${testBrokers()}$`, 'm'));
  assert.match(output, new RegExp(`^KAFKA_BROKERS=${testBrokers()}$`, 'm'));
  if (HAS_CONSOLE) assert.match(output, new RegExp(`^console: http://127\\.0\\.0\\.1:${consolePort}$`, 'm'));
  else assert.doesNotMatch(output, /^console:/m, 'no console URL without a console in this build');
}

/**
 * Runs `stinger up <args>` in the foreground until `ready` shows in its output, then presses Ctrl-C and checks the
 * clean stop. Returns the whole output.
 */
async function upUntil(args: readonly string[], ready: RegExp, check: (output: string, home: string, consolePort: number) => void): Promise<void> {
  buildBpf();
  const { home, consolePort, env } = await upEnvironment();
  // Its own process group, as a shell gives a foreground job: the SIGINT below reaches every process in it.
  const up = spawn(process.execPath, ['--disable-warning=TimeoutNegativeWarning', STINGER, 'up', ...args], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...processEnvironment(), ...env },
  });
  let output = '';
  up.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  up.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const closed = once(up, 'close');
  try {
    const deadline = Date.now() + 90_000;
    while (!ready.test(output)) {
      if (up.exitCode !== null || Date.now() > deadline) assert.fail(`stinger up did not show ${ready}:\n${output.slice(-3000)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    check(output, home, consolePort);
    process.kill(-up.pid!, 'SIGINT'); // what Ctrl-C in a terminal does
    const [code] = (await closed) as [number | null];
    assert.equal(code, 0, output.slice(-3000));
    for (const service of UP_SERVICES) {
      const log = readFileSync(join(home, 'run', 'logs', `${service}.log`), 'utf8');
      const lines = log.split('\n').filter((line) => line.includes('"ns":"Shutdown"'));
      assert.equal(lines.length, 1, `${service}: one shutdown, no second signal:\n${lines.join('\n')}`);
      assert.match(lines[0] ?? '', /"reason":"SIGTERM"/);
    }
    assert.match(output, /^stopped$/m);
    assert.doesNotMatch(output, /: killed/, 'every service stopped by itself');
    assert.deepEqual(readdirSync(join(home, 'run', 'services')), [], 'no service left recorded as running');
  } finally {
    if (up.exitCode === null) process.kill(-up.pid!, 'SIGKILL');
    rmSync(home, { recursive: true, force: true });
  }
}

// Without a terminal the first status line comes as soon as every service runs (then at most one a minute).
const STATUS_LINE = /^\d\d:\d\d:\d\d {2}\d+\/\d+ services running · \S+ events\/s · \d+ alerts? · (no consumer lag|lagging: .+)$/m;

test('foreground: addresses, each service running with its log file named, a status line, no service log; Ctrl-C stops every service with one SIGTERM', { timeout: 150_000 }, async () => {
  await upUntil([], STATUS_LINE, (output, home, consolePort) => {
    assertAddresses(output, consolePort);
    for (const service of UP_SERVICES) {
      assert.match(output, new RegExp(`^${service}: started; log: ${join(home, 'run', 'logs', `${service}.log`)}$`, 'm'));
      assert.match(output, new RegExp(`^${service}: running$`, 'm'));
    }
    assert.match(output, /^all running; logs in /m);
    assert.doesNotMatch(output, /"level":/, 'a calm terminal: no service log lines');
  });
});

test('foreground --logs: every service log record as one readable line, no JSON', { timeout: 150_000 }, async () => {
  await upUntil(['--logs'], /^all running; logs in /m, (output) => {
    for (const service of UP_SERVICES) assert.match(output, new RegExp(`^\\d\\d:\\d\\d:\\d\\d\\.\\d{3} INFO  ${service} {2}.*${service} running`, 'm'));
    // Written before `stinger up` followed the files, and still shown.
    assert.match(output, /^\d\d:\d\d:\d\d\.\d{3} INFO  agent {2}kernel features probed features=/m);
    assert.doesNotMatch(output, /"level":/, 'pretty lines, not JSON');
  });
});

test('--detach prints the broker and the console URL and returns; down stops it all; --logs needs the foreground', { timeout: 150_000 }, async () => {
  buildBpf();
  const { home, consolePort, env } = await upEnvironment();
  try {
    const refused = runStinger(['up', '--detach', '--logs'], env);
    assert.equal(refused.status, 2, refused.stderr);
    assert.match(refused.stderr, /--logs prints the logs of a foreground `stinger up`/);

    const up = runStinger(['up', '--detach'], env);
    assert.equal(up.status, 0, up.stdout + up.stderr);
    assertAddresses(up.stdout, consolePort);
    assert.match(up.stdout, /^running in the background; `stinger down` stops it$/m);
    // As a user would: down once everything runs (a service signalled while it starts may not stop in time).
    await waitForUpServices(home);

    const down = runStinger(['down'], env);
    assert.equal(down.status, 0, down.stdout + down.stderr);
    for (const service of UP_SERVICES) assert.match(down.stdout, new RegExp(`^${service}: stopped \\(pid \\d+\\)$`, 'm'));
    assert.deepEqual(readdirSync(join(home, 'run', 'services')), [], 'no service left recorded as running');
  } finally {
    runStinger(['down'], env);
    rmSync(home, { recursive: true, force: true });
  }
});
