/**
 * EventSpool: the agent's on-disk buffer for records Kafka has not taken yet (a broker outage, a full
 * producer queue). Records are appended to segment files in `dir` and handed back oldest first, so
 * the topic receives them in the order they were produced; a segment is deleted only after the caller
 * confirms it was delivered. Segments left by a previous run are delivered too.
 *
 * Bounded: past `maxBytes` on disk a record is refused and counted in `stats().dropped` — loss beyond
 * the spool is counted and reported, never silent. Audit records (append's `audit`: no action taken, no process
 * life cycle) give way first: past SPOOL_AUDIT_SHARE of `maxBytes` they are refused and counted in `stats().shed`,
 * so the rest stays for the records of kills and denials, as in the kernel's ring buffer (bpf/README.md "Loss and
 * shedding"). Not thread-safe; one agent owns one directory.
 *
 * Segment format: repeated [u32le key length][u32le value length][key bytes][value bytes].
 */
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export interface SpooledRecord {
  readonly key: Buffer;
  readonly value: Buffer;
}

export interface EventSpoolOptions {
  readonly dir: string;
  readonly maxBytes: number;
  readonly segmentBytes?: number;
}

export interface SpoolSegment {
  readonly name: string;
  readonly records: readonly SpooledRecord[];
}

export interface SpoolStats {
  readonly segments: number;
  readonly bytes: number;
  readonly records: number;
  /** Records refused because the spool was full. */
  readonly dropped: number;
  /** Audit records refused because the spool was past SPOOL_AUDIT_SHARE of its bound. */
  readonly shed: number;
}

/** What append did with a record: written, refused as audit past SPOOL_AUDIT_SHARE, or refused at maxBytes. */
export type SpoolAppend = 'spooled' | 'shed' | 'full';

/** The share of maxBytes audit records may fill: the last quarter stays for records of actions and life cycle. */
export const SPOOL_AUDIT_SHARE = 0.75;

const SEGMENT = /^segment-(\d{16})\.spool$/;

export function encodeSpoolEntry(record: SpooledRecord): Buffer {
  const entry = Buffer.allocUnsafe(8 + record.key.length + record.value.length);
  entry.writeUInt32LE(record.key.length, 0);
  entry.writeUInt32LE(record.value.length, 4);
  record.key.copy(entry, 8);
  record.value.copy(entry, 8 + record.key.length);
  return entry;
}

/** Parses a segment; a torn last entry (the agent died mid-write) is ignored. */
export function decodeSpoolSegment(bytes: Buffer): SpooledRecord[] {
  const records: SpooledRecord[] = [];
  let offset = 0;
  while (offset + 8 <= bytes.length) {
    const keyLength = bytes.readUInt32LE(offset);
    const valueLength = bytes.readUInt32LE(offset + 4);
    const end = offset + 8 + keyLength + valueLength;
    if (end > bytes.length) break;
    records.push({ key: bytes.subarray(offset + 8, offset + 8 + keyLength), value: bytes.subarray(offset + 8 + keyLength, end) });
    offset = end;
  }
  return records;
}

export class EventSpool {
  readonly #dir: string;
  readonly #maxBytes: number;
  readonly #segmentBytes: number;
  readonly #sealed: string[] = [];
  #bytes = 0;
  #records = 0;
  #dropped = 0;
  #shed = 0;
  #next = 0;
  #open: { name: string; fd: number; bytes: number } | null = null;

  constructor(options: EventSpoolOptions) {
    this.#dir = options.dir;
    this.#maxBytes = options.maxBytes;
    this.#segmentBytes = options.segmentBytes ?? 4 * 1024 * 1024;
    mkdirSync(this.#dir, { recursive: true });
    for (const name of readdirSync(this.#dir).filter((n) => SEGMENT.test(n)).sort()) {
      const size = statSync(join(this.#dir, name)).size;
      this.#sealed.push(name);
      this.#bytes += size;
      this.#records += decodeSpoolSegment(readFileSync(join(this.#dir, name))).length;
      this.#next = Math.max(this.#next, Number(SEGMENT.exec(name)?.[1]) + 1);
    }
  }

  get isEmpty(): boolean {
    return this.#records === 0;
  }

  /**
   * Appends a record. Refused and counted when the spool is full (`full`), and an `audit` record already when it is
   * past SPOOL_AUDIT_SHARE of its bound (`shed`).
   */
  append(record: SpooledRecord, audit = false): SpoolAppend {
    const entry = encodeSpoolEntry(record);
    if (audit && this.#bytes + entry.length > this.#maxBytes * SPOOL_AUDIT_SHARE) {
      this.#shed += 1;
      return 'shed';
    }
    if (this.#bytes + entry.length > this.#maxBytes) {
      this.#dropped += 1;
      return 'full';
    }
    if (!this.#open || this.#open.bytes + entry.length > this.#segmentBytes) this.#rotate();
    const open = this.#open as { name: string; fd: number; bytes: number };
    writeSync(open.fd, entry);
    open.bytes += entry.length;
    this.#bytes += entry.length;
    this.#records += 1;
    return 'spooled';
  }

  /** The oldest segment (the open one is sealed first if it is the only one left), or null when empty. */
  oldest(): SpoolSegment | null {
    if (this.#sealed.length === 0 && this.#open) this.#seal();
    const name = this.#sealed[0];
    if (name === undefined) return null;
    return { name, records: decodeSpoolSegment(readFileSync(join(this.#dir, name))) };
  }

  /** The caller delivered `segment`: delete it. */
  delivered(segment: SpoolSegment): void {
    if (this.#sealed[0] !== segment.name) throw new Error(`spool segment ${segment.name} is not the oldest`);
    const path = join(this.#dir, segment.name);
    this.#bytes -= statSync(path).size;
    this.#records -= segment.records.length;
    rmSync(path);
    this.#sealed.shift();
  }

  stats(): SpoolStats {
    return { segments: this.#sealed.length + (this.#open ? 1 : 0), bytes: this.#bytes, records: this.#records, dropped: this.#dropped, shed: this.#shed };
  }

  close(): void {
    if (this.#open) this.#seal();
  }

  #rotate(): void {
    if (this.#open) this.#seal();
    const name = `segment-${String(this.#next).padStart(16, '0')}.spool`;
    this.#next += 1;
    this.#open = { name, fd: openSync(join(this.#dir, name), 'a'), bytes: 0 };
  }

  #seal(): void {
    const open = this.#open;
    if (!open) return;
    closeSync(open.fd);
    this.#sealed.push(open.name);
    this.#open = null;
  }
}
