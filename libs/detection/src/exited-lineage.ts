/**
 * ExitedLineage: when the ancestry entry of an exited process may go. The detector keeps, per process identity, its
 * parent (PartitionDetector) and its pid, binary and container (AncestryIndex); with a size bound alone those maps
 * hold every process a node ever ran until the bound (65,536) is reached, which at a steady 25 short processes a
 * second took 44 minutes and ~30 MiB of heap (the 20-minute soak's growth).
 *
 * Contract: the owner of a map reports each parent link it makes (`linked`) and loses (`unlinked`), and each exit
 * event (`exited`, event time). An entry goes (`forget`, called back; it returns the parent the entry named, or null)
 * once its process exited at least `retentionNs` before the latest exit seen AND no entry names it as parent any
 * more: a live descendant's lineage keeps every exited ancestor it runs through (a daemon whose parent exited), and
 * forgetting a child may let its exited parent go in turn. Time is the events' own, so a replay forgets the same.
 */
export class ExitedLineage {
  readonly #retentionNs: bigint;
  readonly #forget: (id: string) => string | null;
  /** Identity → how many entries name it as parent. */
  readonly #children = new Map<string, number>();
  /** Identity → exit time, in the order the exits came (oldest first). */
  readonly #exited = new Map<string, bigint>();
  /** Exited past the retention, waiting for their last child entry to go. */
  readonly #expired = new Set<string>();

  constructor(options: { readonly retentionNs: bigint; readonly forget: (id: string) => string | null }) {
    this.#retentionNs = options.retentionNs;
    this.#forget = options.forget;
  }

  /** An entry now names `parent` as its parent. */
  linked(parent: string): void {
    this.#children.set(parent, (this.#children.get(parent) ?? 0) + 1);
  }

  /** An entry that named `parent` went (forgotten here or evicted by its map's size bound). */
  unlinked(parent: string): void {
    const left = (this.#children.get(parent) ?? 0) - 1;
    if (left > 0) {
      this.#children.set(parent, left);
      return;
    }
    this.#children.delete(parent);
    if (this.#expired.has(parent)) this.#remove(parent);
  }

  /** The entry of `id` went by its map's size bound: nothing to wait for any more. */
  dropped(id: string): void {
    this.#exited.delete(id);
    this.#expired.delete(id);
  }

  /** The process `id` exited at `timeNs`; entries whose exit is past the retention by then go or wait for children. */
  exited(id: string, timeNs: bigint): void {
    this.#exited.delete(id);
    this.#exited.set(id, timeNs);
    for (const [oldest, at] of this.#exited) {
      if (timeNs - at < this.#retentionNs) break;
      this.#exited.delete(oldest);
      if ((this.#children.get(oldest) ?? 0) > 0) this.#expired.add(oldest);
      else this.#remove(oldest);
    }
  }

  stats(): { readonly exited: number; readonly waiting: number; readonly parents: number } {
    return { exited: this.#exited.size, waiting: this.#expired.size, parents: this.#children.size };
  }

  #remove(id: string): void {
    this.#expired.delete(id);
    this.#children.delete(id);
    const parent = this.#forget(id);
    if (parent !== null) this.unlinked(parent);
  }
}
