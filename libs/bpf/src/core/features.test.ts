// Kernel test (root): feature probing reports what the running kernel allows and never throws for a refusal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FEATURES, probeFeatures } from './features.ts';
import { buildBpf } from './test-support.ts';

test('probeFeatures reports tracepoint and ringbuf available, and every feature with a reason when not', () => {
  buildBpf();
  const report = probeFeatures();
  console.log(JSON.stringify(report));
  assert.deepEqual(Object.keys(report).sort(), [...FEATURES].sort());
  assert.deepEqual(report.tracepoint, { available: true });
  assert.deepEqual(report.ringbuf, { available: true });
  for (const feature of FEATURES) {
    const status = report[feature];
    if (!status.available) assert.match(status.reason ?? '', /^(open|load|attach|probe)/, `${feature} says why it is unavailable`);
  }
});
