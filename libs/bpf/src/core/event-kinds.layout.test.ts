// The kind table of core/event-kinds.ts against bpf/lib/stinger_event.h: the host compiler prints every
// EVENT_KIND_* macro the table names, and the header's text must define no kind the table lacks. The sensors'
// lost_records / shed_records slots, the ring's size, the shedding threshold and the keep-records rule bit against
// bpf/lib/stinger_loss.h likewise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { EVENT_KINDS, EVENTS_RING_BYTES, KEEP_RECORDS_RULE_FLAG, SENSOR_KIND_RANGES, SENSOR_LOSS_SLOTS, SHED_AUDIT_ABOVE_BYTES, sensorEventKinds, type SensorName } from './event-kinds.ts';
import { testCLayout } from './test-support.ts';

const EVENT_HEADER = fileURLToPath(new URL('../../../../bpf/lib/stinger_event.h', import.meta.url));

testCLayout({
  headers: ['stinger_event.h'],
  structs: {},
  constants: Object.fromEntries(Object.entries(EVENT_KINDS).map(([macro, entry]) => [macro, entry.value])),
  constantsTest: 'every kind of the table has the number of its EVENT_KIND_* macro',
});

testCLayout({
  headers: ['stinger_loss.h'],
  structs: {},
  constants: {
    ...Object.fromEntries(Object.entries(SENSOR_LOSS_SLOTS).map(([sensor, slot]) => [`LOSS_SLOT_${sensor.toUpperCase()}`, slot])),
    LOSS_SLOTS: Object.keys(SENSOR_LOSS_SLOTS).length,
    EVENTS_RINGBUF_BYTES: EVENTS_RING_BYTES,
    SHED_AUDIT_ABOVE_BYTES,
    KEEP_RECORDS_RULE_FLAG,
  },
  constantsTest:
    "each sensor's lost_records and shed_records slot is its LOSS_SLOT_* macro, the maps have a slot for every sensor, and the ring's size, shedding threshold and keep-records rule bit are stinger_loss.h's",
});

test('the table names every EVENT_KIND_* macro stinger_event.h defines', () => {
  const defined = [...readFileSync(EVENT_HEADER, 'utf8').matchAll(/^#define\s+(EVENT_KIND_\w+)\s/gm)].map((m) => m[1]);
  assert.ok(defined.length > 0, 'no EVENT_KIND_* macro found: has the header moved?');
  assert.deepEqual([...defined].sort(), Object.keys(EVENT_KINDS).sort());
});

test('each kind lies in its sensor range, the ranges do not overlap and no number is used twice', () => {
  for (const [macro, entry] of Object.entries(EVENT_KINDS)) {
    const range = SENSOR_KIND_RANGES[entry.sensor];
    assert.ok(entry.value >= range.first && entry.value <= range.last, `${macro} = ${entry.value} outside ${entry.sensor} ${range.first}..${range.last}`);
  }
  const ranges = Object.values(SENSOR_KIND_RANGES).sort((a, b) => a.first - b.first);
  for (let i = 1; i < ranges.length; i++) assert.ok(ranges[i - 1]!.last < ranges[i]!.first, 'sensor kind ranges overlap');
  const values = Object.values(EVENT_KINDS).map((entry) => entry.value);
  assert.equal(new Set(values).size, values.length);
});

test("a sensor's constant holds exactly its kinds of the table", () => {
  for (const sensor of Object.keys(SENSOR_KIND_RANGES) as SensorName[]) {
    const expected = Object.values(EVENT_KINDS).filter((entry) => entry.sensor === sensor).map((entry) => [entry.name, entry.value]);
    assert.deepEqual(Object.entries(sensorEventKinds(sensor)), expected);
  }
  assert.deepEqual(sensorEventKinds('file'), { file: 10, execRule: 11, close: 12 });
});
