/**
 * Repeats of RawEvents on stinger.events.raw, found by (agent_id, seq). An agent resends what Kafka did not
 * acknowledge (its spool, libs/agent publisher.ts), under a new producer id (libs/kafka producer.ts), so a batch the
 * broker wrote but could not confirm arrives twice; the enricher passes the first copy and drops the others, so
 * stinger.events holds each (agent_id, seq) once.
 *
 * Contract (who calls what):
 *  - `firstTime(agentId, seq)` is called once per record in offset order (the enricher's transform and its replay of a
 *    partition's recent input); true the first time a pair is shown, false after.
 *  - Nothing is ever dropped that was not shown before: an agent forgotten (more than `maxAgents`, least recently
 *    seen first) or a range forgotten (more than `maxRanges` per agent, the oldest first) only lets a later repeat
 *    through. Order is not assumed: a resend may come after later records of the same agent (a failed batch resent
 *    after the next one was written).
 *  - Memory: per agent a sorted list of disjoint seen ranges (one while the agent's records arrive in order).
 */

/** Seen sequence numbers of one agent as sorted, disjoint, non-adjacent inclusive ranges. */
export class SeenRanges {
  readonly #from: bigint[] = [];
  readonly #to: bigint[] = [];
  readonly #maxRanges: number;

  constructor(maxRanges: number) {
    this.#maxRanges = maxRanges;
  }

  get ranges(): readonly (readonly [bigint, bigint])[] {
    return this.#from.map((from, i) => [from, this.#to[i]!] as const);
  }

  /** Adds `seq`; false when it was already in. */
  add(seq: bigint): boolean {
    // The last range first: in-order records extend it.
    const last = this.#to.length - 1;
    if (last >= 0 && seq === this.#to[last]! + 1n) {
      this.#to[last] = seq;
      return true;
    }
    // The first range i with to >= seq - 1 (binary search: ranges are sorted).
    let lo = 0;
    let hi = this.#to.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.#to[mid]! < seq - 1n) lo = mid + 1;
      else hi = mid;
    }
    const i = lo;
    if (i < this.#to.length && this.#from[i]! <= seq && seq <= this.#to[i]!) return false;
    if (i < this.#to.length && this.#from[i]! - 1n <= seq) {
      // Adjacent to range i: below its start (from - 1) or just past its end (to + 1).
      if (seq < this.#from[i]!) this.#from[i] = seq;
      else {
        this.#to[i] = seq;
        if (i + 1 < this.#from.length && this.#from[i + 1]! === seq + 1n) {
          this.#to[i] = this.#to[i + 1]!;
          this.#from.splice(i + 1, 1);
          this.#to.splice(i + 1, 1);
        }
      }
      return true;
    }
    this.#from.splice(i, 0, seq);
    this.#to.splice(i, 0, seq);
    if (this.#from.length > this.#maxRanges) {
      this.#from.shift();
      this.#to.shift();
    }
    return true;
  }
}

export interface RepeatFilterOptions {
  /** Agents remembered; the least recently seen is forgotten past it. Default 100,000. */
  readonly maxAgents?: number;
  /** Ranges remembered per agent (each gap in what arrived starts one). Default 64. */
  readonly maxRanges?: number;
}

export class RepeatFilter {
  /** Map order is recency: an agent seen again moves to the end, and the first is the one forgotten. */
  readonly #agents = new Map<string, SeenRanges>();
  readonly #maxAgents: number;
  readonly #maxRanges: number;

  constructor(options: RepeatFilterOptions = {}) {
    this.#maxAgents = options.maxAgents ?? 100_000;
    this.#maxRanges = options.maxRanges ?? 64;
  }

  get agents(): number {
    return this.#agents.size;
  }

  firstTime(agentId: string, seq: bigint): boolean {
    let seen = this.#agents.get(agentId);
    if (seen === undefined) {
      seen = new SeenRanges(this.#maxRanges);
      if (this.#agents.size >= this.#maxAgents) this.#agents.delete(this.#agents.keys().next().value!);
    } else this.#agents.delete(agentId);
    this.#agents.set(agentId, seen);
    return seen.add(seq);
  }
}
