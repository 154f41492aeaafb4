/**
 * RingBufferReader: reads a BPF ring buffer map in batches without blocking the event loop.
 *
 * How: a koffi async call runs the native `ringdrain_wait` (epoll on the ring's fd plus a wake eventfd) on a
 * koffi worker thread; when it reports data, the main thread drains the ring with one FFI call per batch
 * (`ringdrain_drain`, a C callback copying records into the reader's preallocated buffer) and hands each batch to
 * `onBatch`. Records stay in the kernel ring until drained, so a slow consumer makes the kernel drop (counted in
 * the `lost_records` map, see readLostRecords), never this reader.
 *
 * Batch contract: `batch.buffer` is reused for the next batch — decode or copy inside `onBatch`. Records are
 * framed `u32 length | u32 0 | bytes | pad to 8`; iterate them with `forEachRecord`.
 */
import { promisify } from 'node:util';
import type { Logger } from '@stinger/log';
import { namespaced, silentLogger } from '@stinger/log';
import type { BpfMap } from './bpf-object.ts';
import { RingBufferError, errnoName } from './errors.ts';
import { ffi, lastErrno, type Pointer } from './libbpf.ts';
import { u32Key } from './map-keys.ts';

const BPF_MAP_TYPE_RINGBUF = 27;
const RECORD_FRAME_BYTES = 8;

export interface RecordBatch {
  /** The reader's buffer; bytes [0, bytes) are valid until onBatch returns. */
  readonly buffer: Buffer;
  /** A DataView over the same memory, for decoders. */
  readonly view: DataView;
  readonly bytes: number;
  readonly count: number;
}

/** Calls visit(offset, length) for each record of the batch; offset is where the record's first byte is. */
export function forEachRecord(batch: RecordBatch, visit: (offset: number, length: number) => void): void {
  const { view, bytes } = batch;
  for (let pos = 0; pos + RECORD_FRAME_BYTES <= bytes; ) {
    const length = view.getUint32(pos, true);
    visit(pos + RECORD_FRAME_BYTES, length);
    pos += RECORD_FRAME_BYTES + ((length + 7) & ~7);
  }
}

export interface RingBufferStats {
  readonly batches: number;
  readonly records: number;
  readonly bytes: number;
  /** Records dropped in user space: larger than the whole batch buffer, or in a batch whose onBatch threw. */
  readonly droppedInUserSpace: number;
}

export interface RingBufferReaderOptions {
  /** A BPF_MAP_TYPE_RINGBUF map of a loaded object. */
  readonly map: BpfMap;
  readonly onBatch: (batch: RecordBatch) => void;
  /** Batch buffer size; a batch holds as many framed records as fit. Default 4 MiB. */
  readonly bufferBytes?: number;
  /** Longest single wait on the worker thread; stop() does not wait for it (it wakes the waiter). Default 1000. */
  readonly waitTimeoutMs?: number;
  /** Batches drained per wake-up before waiting again (keeps the event loop responsive under a flood). Default 16. */
  readonly maxBatchesPerWake?: number;
  /**
   * After a wake-up, wait this long before draining so that records pile up and are handled in one batch:
   * each wake-up costs a thread-pool round trip, which dominates when records trickle in one by one.
   * Adds at most this much latency. Default 0 (drain at once).
   */
  readonly coalesceMs?: number;
  readonly logger?: Logger;
}

export interface RingBufferReader {
  /** Starts waiting on a worker thread and delivering batches. */
  start(): void;
  /** Drains what is in the ring now, on the calling thread, delivering batches; returns the records delivered. */
  drainNow(): number;
  /** Stops waiting, delivers nothing more and frees the native reader. Idempotent. */
  stop(): Promise<void>;
  stats(): RingBufferStats;
}

export function createRingBufferReader(options: RingBufferReaderOptions): RingBufferReader {
  const { map, onBatch, bufferBytes = 4 << 20, waitTimeoutMs = 1000, maxBatchesPerWake = 16, coalesceMs = 0 } = options;
  const logger = namespaced(options.logger ?? silentLogger(), 'RingBufferReader');
  if (map.type !== BPF_MAP_TYPE_RINGBUF) throw new RingBufferError(`map ${map.name} is not a ring buffer (type ${map.type})`);
  if (map.fd < 0) throw new RingBufferError(`map ${map.name} is not loaded`);
  const { native } = ffi();
  const created: Pointer | null = native.ringdrain_new(map.fd);
  if (created === null) {
    const errno = lastErrno();
    throw new RingBufferError(`ring buffer ${map.name}: cannot create reader: ${errnoName(errno)}`, { errno });
  }
  const drain: Pointer = created;
  const buffer = Buffer.alloc(bufferBytes);
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const wait = promisify(native.ringdrain_wait.async) as (d: Pointer, timeoutMs: number) => Promise<number>;
  let batches = 0;
  let records = 0;
  let bytesTotal = 0;
  let droppedByCallback = 0;
  let state: 'idle' | 'running' | 'stopped' = 'idle';
  let loop: Promise<void> | undefined;
  let freed = false;
  let oversizeAtFree = 0;
  const oversize = (): number => (freed ? oversizeAtFree : Number(native.ringdrain_oversize(drain)));

  function drainOnce(): number {
    if (freed || state === 'stopped') return 0;
    const bytes = Number(native.ringdrain_drain(drain, buffer, buffer.length));
    if (bytes < 0) throw new RingBufferError(`ring buffer ${map.name}: drain failed: ${errnoName(-bytes)}`, { errno: -bytes });
    if (bytes === 0) return 0;
    const count = native.ringdrain_count(drain);
    batches += 1;
    records += count;
    bytesTotal += bytes;
    try {
      onBatch({ buffer, view, bytes, count });
    } catch (error) {
      droppedByCallback += count;
      logger.error({ err: error, records: count }, 'onBatch threw; the batch is dropped');
    }
    return count;
  }

  function drainNow(): number {
    let delivered = 0;
    for (let n = drainOnce(); n > 0; n = drainOnce()) delivered += n;
    return delivered;
  }

  async function run(d: Pointer): Promise<void> {
    while (state === 'running') {
      const ready = await wait(d, waitTimeoutMs);
      if (state !== 'running') return;
      if (ready < 0) {
        logger.error({ errno: -ready }, 'ring buffer wait failed; reader stops');
        state = 'stopped';
        return;
      }
      if (ready === 1) {
        if (coalesceMs > 0) await new Promise((resolve) => setTimeout(resolve, coalesceMs));
        if (state !== 'running') return;
        try {
          for (let i = 0; i < maxBatchesPerWake && drainOnce() > 0; i++);
        } catch (error) {
          logger.error({ err: error }, 'ring buffer drain failed; reader stops');
          state = 'stopped';
          return;
        }
      }
    }
  }

  return {
    start() {
      if (state !== 'idle') return;
      state = 'running';
      loop = run(drain);
    },
    drainNow,
    async stop() {
      if (freed) return;
      state = 'stopped';
      native.ringdrain_wake(drain);
      const pending = loop;
      loop = undefined;
      if (pending) await pending;
      if (freed) return;
      oversizeAtFree = oversize();
      freed = true;
      native.ringdrain_free(drain);
    },
    stats() {
      return {
        batches,
        records,
        bytes: bytesTotal,
        droppedInUserSpace: droppedByCallback + oversize(),
      };
    },
  };
}

/** Sums slot `index` of a per-CPU u64 array (the sensors' `lost_records` and `shed_records`). */
export function readPerCpuCounter(map: BpfMap, index = 0): bigint {
  const cpus = ffi().libbpf.libbpf_num_possible_cpus();
  const key = u32Key(index);
  const values = new Uint8Array(8 * cpus);
  if (!map.lookup(key, values)) return 0n;
  const dv = new DataView(values.buffer);
  let sum = 0n;
  for (let cpu = 0; cpu < cpus; cpu++) sum += dv.getBigUint64(cpu * 8, true);
  return sum;
}
