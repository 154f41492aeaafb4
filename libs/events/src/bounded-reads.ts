/**
 * Array and map reads that cannot be made to allocate without bound. avsc reads a block's item count from the bytes
 * and allocates for it before it knows the record is valid, so a corrupt or hostile record claiming 2^31 items ran
 * the process out of memory (found by fuzz.test.ts). Every array and map item of this project's schemas takes at
 * least one byte (a string's length, an enum or a record of such fields), so a count above the bytes left is
 * impossible: the read stops there and the tap is marked past its end, which the codec reports as a body that
 * ends early (a DecodeError).
 *
 * Installed once, when codec.ts is loaded, before any type or resolver is built (resolvers copy `_read`).
 */
import avro from 'avsc';

interface Tap {
  buf: Buffer;
  pos: number;
  readLong(): number;
  skipLong(): void;
  readString(): string;
}

interface ItemsReader {
  _read(tap: Tap): unknown;
}

/** A block's item count (Avro: a negative count is followed by the block's size in bytes), or -1 when impossible. */
function blockCount(tap: Tap): number {
  let n = tap.readLong();
  if (n < 0) {
    n = -n;
    tap.skipLong();
  }
  return n > tap.buf.length - tap.pos ? -1 : n;
}

function pastTheEnd(tap: Tap): void {
  tap.pos = tap.buf.length + 1;
}

let installed = false;

export function installBoundedReads(): void {
  if (installed) return;
  installed = true;
  const types = avro.types as unknown as { ArrayType: { prototype: { _read: unknown } }; MapType: { prototype: { _read: unknown } } };
  types.ArrayType.prototype._read = function readArray(this: { itemsType: ItemsReader }, tap: Tap): unknown[] {
    const items: unknown[] = [];
    for (let n = blockCount(tap); n !== 0; n = blockCount(tap)) {
      if (n < 0) {
        pastTheEnd(tap);
        return items;
      }
      while (n-- > 0) items.push(this.itemsType._read(tap));
    }
    return items;
  };
  types.MapType.prototype._read = function readMap(this: { valuesType: ItemsReader }, tap: Tap): Record<string, unknown> {
    const values: Record<string, unknown> = {};
    for (let n = blockCount(tap); n !== 0; n = blockCount(tap)) {
      if (n < 0) {
        pastTheEnd(tap);
        return values;
      }
      while (n-- > 0) {
        const key = tap.readString();
        values[key] = this.valuesType._read(tap);
      }
    }
    return values;
  };
}
