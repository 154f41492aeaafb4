/**
 * Checks the run-wide sharing contract of kafka-global-setup.ts on the real Node test runner: a nested
 * `node --test --test-global-setup` run over two test files starts exactly one broker, both files (separate
 * processes) get that same broker through KAFKA_BROKERS and reach it, and the broker is gone after the run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createConnection } from 'node:net';
import { processEnvironment } from '@stinger/config';

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

function refusesConnections(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

test('one broker serves every test file of a --test-global-setup run and is stopped at its end', { timeout: 240_000 }, async () => {
  const args = [
    '--test',
    '--test-concurrency=1',
    '--test-reporter=tap',
    `--test-global-setup=${here('./kafka-global-setup.ts')}`,
    here('./fixtures/shared-broker-a.fixture.ts'),
    here('./fixtures/shared-broker-b.fixture.ts'),
  ];
  // A clean environment for the nested run: no broker handed in, and not marked as a child of this runner.
  const env = { ...processEnvironment(), KAFKA_BROKERS: undefined, NODE_TEST_CONTEXT: undefined, STINGER_LOG_LEVEL: 'info' };
  const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
    execFile(process.execPath, args, { env, timeout: 200_000 }, (error, out, err) => {
      if (error) reject(new Error(`nested run failed: ${error.message}\n${out}\n${err}`));
      else resolve({ stdout: out, stderr: err });
    });
  });

  const reports = [...stdout.matchAll(/shared-broker-(a|b) source=(\S+) brokers=(\S+) errorCode=(-?\d+) pid=(\d+)/g)].map((m) => ({
    file: m[1],
    source: m[2],
    brokers: m[3] ?? '',
    errorCode: Number(m[4]),
    pid: Number(m[5]),
  }));
  assert.deepEqual(reports.map((r) => r.file).sort(), ['a', 'b'], stdout);
  const [a, b] = reports;
  assert.ok(a && b);
  assert.equal(a.source, 'environment', 'file a was handed the broker, it did not start one');
  assert.equal(b.source, 'environment', 'file b was handed the broker, it did not start one');
  assert.equal(a.brokers, b.brokers, 'both files got the same broker');
  assert.notEqual(a.pid, b.pid, 'the files ran in separate processes');
  assert.equal(a.errorCode, 0);
  assert.equal(b.errorCode, 0);
  assert.equal(stderr.match(/"msg":"local broker launched"/g)?.length, 1, `exactly one broker start:\n${stderr}`);
  assert.match(stderr, /"msg":"local broker stopped"/);

  const [host, port] = a.brokers.split(':');
  assert.equal(await refusesConnections(host ?? '', Number(port)), true, 'the broker no longer listens after the run');
});
