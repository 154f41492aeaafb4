import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseSensorMode, SENSOR_MODES } from './sensor-modes.ts';

const LOCKED_DOWN = { tracepoint: { available: true }, kprobe: { available: false }, lsm: { available: false } };
const STOCK = { tracepoint: { available: true }, kprobe: { available: true }, lsm: { available: true } };

test('the file sensor runs in lsm where the kernel allows BPF LSM, on tracepoints elsewhere; the other BPF sensors on tracepoints', () => {
  assert.equal(chooseSensorMode('file', STOCK).mode, 'lsm');
  assert.equal(chooseSensorMode('file', LOCKED_DOWN).mode, 'tracepoint');
  assert.equal(chooseSensorMode('file', { ...STOCK, lsm: { available: false } }).mode, 'tracepoint');
  for (const sensor of ['process', 'network', 'privilege']) {
    assert.equal(chooseSensorMode(sensor, LOCKED_DOWN).mode, 'tracepoint', sensor);
    assert.equal(chooseSensorMode(sensor, STOCK).mode, 'tracepoint', sensor);
  }
  assert.equal(chooseSensorMode('file-guard', LOCKED_DOWN).mode, 'fanotify');
});

test('kernelAllows names the richer modes a stock kernel offers and a locked-down one refuses', () => {
  assert.deepEqual(chooseSensorMode('file', STOCK).kernelAllows, ['lsm', 'kprobe', 'tracepoint']);
  assert.deepEqual(chooseSensorMode('file', LOCKED_DOWN).kernelAllows, ['tracepoint']);
  assert.deepEqual(chooseSensorMode('file', { ...STOCK, lsm: { available: false } }).kernelAllows, ['kprobe', 'tracepoint']);
});

test('no mode when the kernel allows none of the sensor\'s, or the sensor is unknown', () => {
  assert.deepEqual(chooseSensorMode('process', { tracepoint: { available: false } }), { mode: null, kernelAllows: [] });
  assert.deepEqual(chooseSensorMode('no-such-sensor', STOCK), { mode: null, kernelAllows: [] });
});

test('a sensor with LSM programs would run in lsm where the kernel allows it, tracepoint elsewhere (best mode first)', () => {
  const modes = { ...SENSOR_MODES, file: ['lsm', 'tracepoint'] } as const;
  assert.equal(chooseSensorMode('file', STOCK, modes).mode, 'lsm');
  assert.equal(chooseSensorMode('file', LOCKED_DOWN, modes).mode, 'tracepoint');
});
