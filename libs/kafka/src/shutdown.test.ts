import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '@stinger/log';
import { installShutdown } from './shutdown.ts';

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
