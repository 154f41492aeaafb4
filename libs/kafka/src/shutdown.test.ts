import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger, silentLogger, type Logger } from '@stinger/log';
import { installShutdown } from './shutdown.ts';

/** A logger whose lines (level label and message) land in `lines`. */
function recordingLogger(lines: { level: string; msg: string }[]): Logger {
  const levels: Record<number, string> = { 60: 'fatal', 50: 'error', 40: 'warn', 30: 'info', 20: 'debug', 10: 'trace' };
  return createLogger({
    name: 'shutdown-test',
    destination: {
      write(line: string) {
        const { level, msg } = JSON.parse(line) as { level: number; msg: string };
        lines.push({ level: levels[level] ?? String(level), msg });
      },
    },
  });
}

test('closers run in reverse registration order, once, then exit 0', async () => {
  const order: string[] = [];
  const exits: number[] = [];
  const shutdown = installShutdown({ logger: silentLogger(), signals: [], exit: (code) => exits.push(code) });
  shutdown.register('producer', async () => void order.push('producer'));
  shutdown.register('consumer', async () => void order.push('consumer'));
  const [first, second] = await Promise.all([shutdown.trigger('test'), shutdown.trigger('again')]);
  assert.deepEqual(order, ['consumer', 'producer']);
  assert.deepEqual([first, second, exits], [0, 0, [0]]);
});

test('a failing closer does not stop the others and makes the exit code 1', async () => {
  const order: string[] = [];
  const exits: number[] = [];
  const shutdown = installShutdown({ logger: silentLogger(), signals: [], exit: (code) => exits.push(code) });
  shutdown.register('a', async () => void order.push('a'));
  shutdown.register('b', async () => {
    throw new Error('stuck');
  });
  assert.equal(await shutdown.trigger('test'), 1);
  assert.deepEqual(order, ['a']);
  assert.deepEqual(exits, [1]);
});

test('a closer that hangs past the timeout exits 1', async () => {
  const exits: number[] = [];
  const shutdown = installShutdown({ logger: silentLogger(), signals: [], timeoutMs: 50, exit: (code) => exits.push(code) });
  shutdown.register('hang', () => new Promise<void>(() => {}));
  assert.equal(await shutdown.trigger('test'), 1);
  assert.deepEqual(exits, [1]);
});

test('fail logs the error as the one fatal line, runs the closers, and exits 1 even when they closed cleanly', async () => {
  const lines: { level: string; msg: string }[] = [];
  const logger = recordingLogger(lines);
  const order: string[] = [];
  const exits: number[] = [];
  const shutdown = installShutdown({ logger, signals: [], exit: (code) => exits.push(code) });
  shutdown.register('transform', async () => void order.push('transform'));
  assert.equal(await shutdown.fail(new Error('cannot write stinger.events: refused')), 1);
  assert.deepEqual(order, ['transform']);
  assert.deepEqual(exits, [1]);
  assert.deepEqual(
    lines.filter((line) => line.level === 'fatal').map((line) => line.msg),
    ['cannot write stinger.events: refused'],
  );
});

test('fail during a shutdown already under way still makes the exit code 1', async () => {
  const exits: number[] = [];
  const shutdown = installShutdown({ logger: silentLogger(), signals: [], exit: (code) => exits.push(code) });
  let release = (): void => {};
  shutdown.register('slow', () => new Promise<void>((resolve) => (release = resolve)));
  const signalled = shutdown.trigger('SIGTERM');
  const failed = shutdown.fail(new Error('refused'));
  release();
  assert.deepEqual([await signalled, await failed, exits], [1, 1, [1]]);
});

test('stopping is false until the closers start, then true while they run', async () => {
  const shutdown = installShutdown({ logger: silentLogger(), signals: [], exit: () => undefined });
  const seen: boolean[] = [];
  shutdown.register('producer', async () => void seen.push(shutdown.stopping));
  assert.equal(shutdown.stopping, false);
  await shutdown.trigger('test');
  assert.deepEqual([seen, shutdown.stopping], [[true], true]);
});
