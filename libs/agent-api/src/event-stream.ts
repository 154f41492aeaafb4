/**
 * EventStream: one GetEvents client. The agent offers it every event synchronously; the stream keeps
 * at most `capacity` events of its own, writes them to gRPC on a later turn of the event loop, and
 * stops writing while gRPC's writable buffer is full (HTTP/2 flow control pushing back from a slow
 * client). When its buffer is full it drops the new event and counts it; the count travels in the
 * `dropped` field of the next event that fits, so the client learns where the gap is.
 * Nothing here ever waits: a slow client costs the agent one compare and one counter increment per event.
 */
import type { RawEvent } from '@stinger/events';
import { envelopeOf, type WireEventEnvelope } from './wire.ts';

/** One published event, shared by every stream it matches; rendered at most once, when first written. */
export class PublishedEvent {
  readonly event: RawEvent;
  #envelope: WireEventEnvelope | null = null;

  constructor(event: RawEvent) {
    this.event = event;
  }

  get envelope(): WireEventEnvelope {
    this.#envelope ??= envelopeOf(this.event);
    return this.#envelope;
  }
}

/** The part of grpc-js's ServerWritableStream that a stream writes to. */
export interface EnvelopeWriter {
  write(envelope: WireEventEnvelope): boolean;
  once(event: 'drain', listener: () => void): unknown;
}

export interface EventStreamOptions {
  readonly writer: EnvelopeWriter;
  readonly matches: (event: RawEvent) => boolean;
  readonly capacity: number;
  readonly onDrop: () => void;
}

export class EventStream {
  readonly #writer: EnvelopeWriter;
  readonly #matches: (event: RawEvent) => boolean;
  readonly #onDrop: () => void;
  // A ring of pending events and, per slot, the drops just before it.
  readonly #events: (PublishedEvent | undefined)[];
  readonly #droppedBefore: number[];
  #head = 0;
  #size = 0;
  #droppedPending = 0;
  #dropped = 0;
  #blocked = false;
  #flushScheduled = false;
  #closed = false;

  constructor(options: EventStreamOptions) {
    this.#writer = options.writer;
    this.#matches = options.matches;
    this.#onDrop = options.onDrop;
    this.#events = new Array<PublishedEvent | undefined>(options.capacity);
    this.#droppedBefore = new Array<number>(options.capacity).fill(0);
  }

  /** Events dropped for this stream so far. */
  get dropped(): number {
    return this.#dropped;
  }

  get buffered(): number {
    return this.#size;
  }

  matches(event: RawEvent): boolean {
    return this.#matches(event);
  }

  /** Queues an event that matched; never blocks and never throws. */
  offer(published: PublishedEvent): void {
    if (this.#closed) return;
    const capacity = this.#events.length;
    if (this.#size === capacity) {
      this.#droppedPending += 1;
      this.#dropped += 1;
      this.#onDrop();
      return;
    }
    const slot = (this.#head + this.#size) % capacity;
    this.#events[slot] = published;
    this.#droppedBefore[slot] = this.#droppedPending;
    this.#droppedPending = 0;
    this.#size += 1;
    if (!this.#blocked && !this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => this.#flush());
    }
  }

  close(): void {
    this.#closed = true;
    this.#events.fill(undefined);
    this.#size = 0;
  }

  #flush(): void {
    this.#flushScheduled = false;
    const capacity = this.#events.length;
    while (this.#size > 0 && !this.#blocked && !this.#closed) {
      const published = this.#events[this.#head];
      const dropped = this.#droppedBefore[this.#head] ?? 0;
      this.#events[this.#head] = undefined;
      this.#head = (this.#head + 1) % capacity;
      this.#size -= 1;
      if (!published) continue;
      const envelope = dropped === 0 ? published.envelope : { ...published.envelope, dropped };
      if (!this.#writer.write(envelope)) {
        this.#blocked = true;
        this.#writer.once('drain', () => {
          this.#blocked = false;
          this.#flush();
        });
      }
    }
  }
}
