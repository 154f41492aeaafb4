/**
 * The file sensor when it did not load (contract in core/unavailable-sensor.ts): exec and file rule installs
 * throw SensorUnavailableError, lists are empty, removals find nothing, descriptor tracking is detached and lost
 * nothing, and it runs in no mode.
 */
import { SensorUnavailableError } from '../core/errors.ts';
import { unavailableSensor } from '../core/unavailable-sensor.ts';
import { FILE_IO_LOSS, type FileIoLoss } from './records.ts';
import type { FileSensor } from './sensor.ts';

export function unavailableFileSensor(loadError: unknown): FileSensor {
  const refuse = (): never => {
    throw new SensorUnavailableError('file', loadError);
  };
  const noRules = { addExact: refuse, addPrefix: refuse, removeExact: () => false, removePrefix: () => false, clear: () => undefined, list: () => [] };
  const noLosses = Object.fromEntries(Object.keys(FILE_IO_LOSS).map((loss) => [loss, 0n])) as Record<FileIoLoss, bigint>;
  return Object.assign(unavailableSensor('file', loadError), {
    filePolicy: noRules,
    execPolicy: noRules,
    io: { attached: false, losses: () => ({ ...noLosses }) },
    mode: null,
  });
}
