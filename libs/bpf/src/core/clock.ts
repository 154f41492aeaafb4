/**
 * Kernel clocks. BPF programs stamp records with CLOCK_BOOTTIME (bpf_ktime_get_boot_ns); the agent adds
 * `bootToWallOffsetNs()` to get wall-clock time. Measured once at start: the offset moves only when
 * the wall clock is stepped, which the agent accepts (events are also ordered by sequence number).
 */
import koffi from 'koffi';

const CLOCK_REALTIME = 0;
const CLOCK_BOOTTIME = 7;

let clockGettime: ((clock: number, out: Uint8Array) => number) | undefined;

function bind(): (clock: number, out: Uint8Array) => number {
  clockGettime ??= koffi.load('libc.so.6').func('int clock_gettime(int clk, _Out_ uint8_t *ts)') as (clock: number, out: Uint8Array) => number;
  return clockGettime;
}

function readClockNs(clock: number): bigint {
  const timespec = new Uint8Array(16);
  if (bind()(clock, timespec) !== 0) throw new Error(`clock_gettime(${clock}) failed`);
  const view = new DataView(timespec.buffer);
  return view.getBigInt64(0, true) * 1_000_000_000n + view.getBigInt64(8, true);
}

/** CLOCK_BOOTTIME now, in ns: the clock of every record's time_ns. */
export function boottimeNs(): bigint {
  return readClockNs(CLOCK_BOOTTIME);
}

/** Wall-clock ns minus boot-clock ns; add it to a record's time_ns for the wall-clock time. */
export function bootToWallOffsetNs(): bigint {
  const before = readClockNs(CLOCK_BOOTTIME);
  const wall = readClockNs(CLOCK_REALTIME);
  const after = readClockNs(CLOCK_BOOTTIME);
  return wall - (before + (after - before) / 2n);
}
