import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { kernelLossCounts, policyStatusView, sensorHealthOf } from './types.ts';

describe('sensorHealthOf', () => {
  it('lists loaded sensors, then each probed feature as available or unavailable with its reason', () => {
    const sensors = sensorHealthOf({
      loaded: ['process', 'file-guard'],
      features: { tracepoint: { available: true }, kprobe: { available: false, reason: 'attach: EPERM' } },
      modeOf: (sensor) => (sensor === 'process' ? 'tracepoint' : null),
    });
    assert.deepEqual(sensors, [
      { name: 'process', state: 'loaded', reason: null, mode: 'tracepoint' },
      { name: 'file-guard', state: 'loaded', reason: null, mode: null },
      { name: 'feature:tracepoint', state: 'available', reason: null, mode: null },
      { name: 'feature:kprobe', state: 'unavailable', reason: 'attach: EPERM', mode: null },
    ]);
  });

  it('leaves every mode null without modeOf', () => {
    assert.deepEqual(sensorHealthOf({ loaded: ['process'], features: {} }), [{ name: 'process', state: 'loaded', reason: null, mode: null }]);
  });
});

describe('kernelLossCounts', () => {
  it("reports each sensor's ring_full and shed counts, zeros included, in the sensors' order", () => {
    const sensor = (name: string, lost: bigint, shed: bigint) => ({ name, lostRecords: () => lost, shedRecords: () => shed });
    assert.deepEqual(kernelLossCounts([sensor('process', 0n, 0n), sensor('file', 3n, 48_210n)]), [
      { sensor: 'process', cause: 'ring_full', count: 0 },
      { sensor: 'process', cause: 'shed', count: 0 },
      { sensor: 'file', cause: 'ring_full', count: 3 },
      { sensor: 'file', cause: 'shed', count: 48_210 },
    ]);
  });
});

describe('policyStatusView', () => {
  it('maps a NodePolicies PolicyStatus, taking the mode from the caller', () => {
    const view = policyStatusView(
      { policy: 'deny-shadow', generation: 3n, node: 'n', agent_id: 'a', state: 'partial', kernel_rules: 2, pipeline_rules: 1, messages: ['m'], reported_at_ns: 1n },
      'enforce',
    );
    assert.deepEqual(view, { name: 'deny-shadow', generation: 3, mode: 'enforce', state: 'partial', kernelRules: 2, pipelineRules: 1, messages: ['m'] });
  });
});
