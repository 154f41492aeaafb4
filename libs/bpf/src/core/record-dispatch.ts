/**
 * Record dispatch by event_header.kind: every sensor contributes a table kind -> decoder, and a consumer of the
 * shared ring buffer builds one dispatcher from the tables of the sensors it loaded. Adding a sensor adds a
 * table; existing decoders (decodeProcessRecord, …) are unchanged and still usable on their own. Each sensor folder
 * exports its own table (PROCESS_RECORD_DECODERS in process/records.ts, …); this module knows none of them.
 */
import { sliceKind, type RecordSlice } from './record-header.ts';

/** Decodes a record of the kinds it was registered for; undefined when the record is malformed. */
export type RecordDecoder<T> = (slice: RecordSlice) => T | undefined;

/** kind number -> decoder. */
export type RecordDecoderTable<T> = ReadonlyMap<number, RecordDecoder<T>>;

export interface RecordDispatcher<T> {
  /** Decodes with the decoder registered for the record's kind; undefined for an unregistered kind. */
  decode(slice: RecordSlice): T | undefined;
  /** The registered kind numbers. */
  readonly kinds: readonly number[];
}

/** Merges decoder tables into one dispatcher; a kind registered twice is a programming error (throws). */
export function createRecordDispatcher<T>(tables: readonly RecordDecoderTable<T>[]): RecordDispatcher<T> {
  const byKind: (RecordDecoder<T> | undefined)[] = [];
  for (const table of tables) {
    for (const [kind, decoder] of table) {
      if (!Number.isInteger(kind) || kind < 0 || kind > 0xffff) throw new RangeError(`record kind ${kind} is not a u16`);
      if (byKind[kind] !== undefined) throw new Error(`record kind ${kind} has two decoders`);
      byKind[kind] = decoder;
    }
  }
  const kinds = byKind.flatMap((decoder, kind) => (decoder === undefined ? [] : [kind]));
  return {
    kinds,
    decode(slice) {
      const decoder = byKind[sliceKind(slice)];
      return decoder === undefined ? undefined : decoder(slice);
    },
  };
}
