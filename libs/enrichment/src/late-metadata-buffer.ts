/**
 * The bounded wait for pod metadata that is not known yet (a pod's first events reach the enricher
 * before the API server's watch event for the pod, or before its containerStatuses carry the new id).
 *
 * Design (why the BATCH waits, not single events): the enricher is an exactly-once
 * consume-transform-produce (libs/kafka createTransactionalTransform): each fetched batch of one
 * partition is transformed synchronously and committed with its offsets in one transaction. Holding
 * single events back while later ones pass would need a second, durable store of held events and
 * offsets that skip over them — and would reorder a node's events. Instead, before the batch is
 * transformed (`prepareBatch`), the enricher collects the identities of the batch that belong to a
 * pod (kubelet's cgroup) but are not in the index, and `hold`s the whole batch until the index knows
 * all of them or `maxWaitMs` passed. Then the synchronous transform looks each event up again; what
 * is still unknown is published not_enriched ('pod-not-found').
 *  - No loss, no duplicates: nothing leaves the transaction; a crash during the wait just re-runs it.
 *  - Order per node (= per partition key) is kept: the batch goes out in offset order.
 *  - Latency: at most `maxWaitMs` per batch, only for batches with an unknown pod identity. An identity
 *    that timed out once does not stall later batches for `giveUpTtlMs` (a CRI sandbox container, or
 *    a pod the API server never shows, would otherwise cost every batch the full wait).
 * The wait wakes on the index's change notifications and also polls every `pollIntervalMs`.
 */
import type { PodLookup } from '@stinger/k8s';
import { lookupPod, type ContainerIdentity } from './enrich-event.ts';

/**
 * Known well enough to stop waiting: the container itself when the event names one (a new container's
 * first events come before kubelet reports its id in the pod's status, and the pod alone would leave
 * `pod.container` empty), else the pod.
 */
function isKnown(identity: ContainerIdentity, lookup: Parameters<typeof lookupPod>[1]): boolean {
  if (identity.containerId !== null) return lookup.byContainerId(identity.containerId) !== null;
  return lookupPod(identity, lookup) !== null;
}

export interface LateMetadataBufferOptions {
  readonly lookup: PodLookup & { onChange?(listener: () => void): () => void };
  /** Longest a batch waits. Default 2000 ms (well under the consumer session timeout). */
  readonly maxWaitMs?: number;
  readonly pollIntervalMs?: number;
  /** How long an identity that timed out is not waited for again. Default 60 s. */
  readonly giveUpTtlMs?: number;
  /** At most this many given-up identities are remembered. Default 10,000. */
  readonly giveUpCapacity?: number;
  readonly now?: () => number;
}

export interface HoldResult {
  /** Time the batch was held (0 when nothing had to wait). */
  readonly waitMs: number;
  /** Distinct identities that had to wait. */
  readonly pending: number;
  /** Of those, how many became known within the wait. */
  readonly resolved: number;
}

function keyOf(identity: ContainerIdentity): string | null {
  if (identity.containerId !== null) return `c:${identity.containerId}`;
  if (identity.podUid !== null) return `u:${identity.podUid}`;
  return null;
}

export class LateMetadataBuffer {
  readonly #lookup: LateMetadataBufferOptions['lookup'];
  readonly #maxWaitMs: number;
  readonly #pollIntervalMs: number;
  readonly #giveUpTtlMs: number;
  readonly #giveUpCapacity: number;
  readonly #now: () => number;
  /** key → time it was given up; insertion order is age order. */
  readonly #givenUp = new Map<string, number>();

  constructor(options: LateMetadataBufferOptions) {
    this.#lookup = options.lookup;
    this.#maxWaitMs = options.maxWaitMs ?? 2000;
    this.#pollIntervalMs = options.pollIntervalMs ?? 50;
    this.#giveUpTtlMs = options.giveUpTtlMs ?? 60_000;
    this.#giveUpCapacity = options.giveUpCapacity ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  get maxWaitMs(): number {
    return this.#maxWaitMs;
  }

  /** Whether an event of this identity should wait: in a pod, not known, not given up recently. */
  needsWait(identity: ContainerIdentity): boolean {
    if (!identity.inPod) return false;
    const key = keyOf(identity);
    if (key === null || isKnown(identity, this.#lookup)) return false;
    const givenUpAt = this.#givenUp.get(key);
    if (givenUpAt === undefined) return true;
    if (this.#now() - givenUpAt < this.#giveUpTtlMs) return false;
    this.#givenUp.delete(key);
    return true;
  }

  /**
   * Resolves when every identity that needs to wait is known, or after maxWaitMs. Never rejects.
   * Identities still unknown at the deadline are given up (see giveUpTtlMs).
   */
  async hold(identities: Iterable<ContainerIdentity>): Promise<HoldResult> {
    const waiting = new Map<string, ContainerIdentity>();
    for (const identity of identities) {
      const key = keyOf(identity);
      if (key !== null && !waiting.has(key) && this.needsWait(identity)) waiting.set(key, identity);
    }
    if (waiting.size === 0) return { waitMs: 0, pending: 0, resolved: 0 };
    const pending = waiting.size;
    const started = this.#now();
    const deadline = started + this.#maxWaitMs;
    const settle = () => {
      for (const [key, identity] of waiting) if (isKnown(identity, this.#lookup)) waiting.delete(key);
    };
    let wake: (() => void) | null = null;
    const unsubscribe = this.#lookup.onChange?.(() => wake?.()) ?? (() => {});
    try {
      while (waiting.size > 0) {
        const remaining = deadline - this.#now();
        if (remaining <= 0) break;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(this.#pollIntervalMs, remaining));
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = null;
        settle();
      }
    } finally {
      unsubscribe();
    }
    const resolved = pending - waiting.size;
    const now = this.#now();
    for (const key of waiting.keys()) this.#giveUp(key, now);
    return { waitMs: now - started, pending, resolved };
  }

  #giveUp(key: string, at: number): void {
    this.#givenUp.delete(key);
    this.#givenUp.set(key, at);
    while (this.#givenUp.size > this.#giveUpCapacity) {
      const oldest = this.#givenUp.keys().next();
      if (oldest.done) break;
      this.#givenUp.delete(oldest.value);
    }
  }
}
