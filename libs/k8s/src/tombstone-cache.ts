/**
 * A bounded cache of what was just deleted: at most `capacity` entries (least recently used go first),
 * each for at most `ttlMs` after it was put. The pod index keeps deleted pods here so events that
 * arrive after the pod's deletion (the agent is seconds behind the API server) still resolve.
 */

export interface TombstoneCacheOptions {
  readonly capacity: number;
  readonly ttlMs: number;
  /** Milliseconds clock; replaced in tests. */
  readonly now?: () => number;
}

export class TombstoneCache<K, V> {
  readonly #entries = new Map<K, { readonly value: V; readonly expiresAt: number }>();
  readonly #capacity: number;
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(options: TombstoneCacheOptions) {
    if (!Number.isInteger(options.capacity) || options.capacity < 0) throw new RangeError(`capacity must be a non-negative integer, got ${options.capacity}`);
    this.#capacity = options.capacity;
    this.#ttlMs = options.ttlMs;
    this.#now = options.now ?? Date.now;
  }

  get size(): number {
    return this.#entries.size;
  }

  put(key: K, value: V): void {
    if (this.#capacity === 0) return;
    this.#entries.delete(key);
    this.#entries.set(key, { value, expiresAt: this.#now() + this.#ttlMs });
    while (this.#entries.size > this.#capacity) {
      const oldest = this.#entries.keys().next();
      if (oldest.done) break;
      this.#entries.delete(oldest.value);
    }
  }

  /** The value, and marks it recently used; undefined when absent or expired. */
  get(key: K): V | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry.value;
  }

  delete(key: K): void {
    this.#entries.delete(key);
  }

  /** Drops every expired entry (the index calls this on its resync timer). */
  prune(): number {
    const now = this.#now();
    let dropped = 0;
    for (const [key, entry] of this.#entries) {
      if (entry.expiresAt <= now) {
        this.#entries.delete(key);
        dropped += 1;
      }
    }
    return dropped;
  }
}
