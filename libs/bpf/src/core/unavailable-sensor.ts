/**
 * A sensor that did not load, as an object: each sensor folder builds its "unavailable" implementation on this
 * (unavailableFileSensor, …), so a consumer holds one type whether or not the kernel took the sensor and never
 * checks for null. The contract every unavailable implementation keeps: an operation that would put a rule in
 * the kernel throws SensorUnavailableError (naming the sensor and why it did not load); reads return empty (no
 * rules, no records lost or shed, no counters); configuration that only switches reporting on or off and close() do
 * nothing. There is no ring buffer behind it: `events` and sharedMap() throw. Build on it with Object.assign, not
 * a spread, which would read (and throw from) `events`.
 */
import type { BpfMap } from './bpf-object.ts';
import { SensorUnavailableError } from './errors.ts';
import type { Sensor } from './sensor.ts';

/** The Sensor half of an unavailable sensor named `name` that failed to load with `loadError`. */
export function unavailableSensor(name: string, loadError: unknown): Sensor {
  const refuse = (): never => {
    throw new SensorUnavailableError(name, loadError);
  };
  return {
    name,
    objects: [],
    get events(): BpfMap {
      return refuse();
    },
    sharedMap: refuse,
    lostRecords: () => 0n,
    shedRecords: () => 0n,
    close: () => undefined,
  };
}
