/**
 * Pod scopes: which of this node's pods each pod-scoped kernel rule applies to (spec.selector podSelector and
 * namespaces decided in the kernel).
 *
 * Each distinct selector (labels and namespaces, KernelPodScope) takes one of `slots` scope slots while a rule's map
 * entry holds it (`acquire`/`release`, like the pid scopes). Every pod of the node whose cgroup is known has an
 * entry in the kernel's pod scope map (libs/bpf PodScopeMap): its pod cgroup id → the bits of the slots whose
 * selector it matches. The entry is rewritten when the pod's labels change (`setPods`), when a slot is taken (its
 * matching pods gain the bit before the rule naming the slot is written, so the kernel never meets a rule whose
 * pods are not there yet) or freed, and removed when the pod leaves the node. Selectors mean what they mean to the
 * detector: every label equal, the namespace one of `namespaces` (empty: any).
 *
 * Who calls: the agent's kernel maps (acquire/release) and its pod watch (setPods). Pure apart from the map it is
 * given; not thread-safe.
 */
import type { KernelPodScope } from '@stinger/policy';

/** What the scopes know of one pod of the node. */
export interface NodePod {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** cgroup v2 id of the pod's own cgroup; null while kubelet has not made it (or it was not found yet). */
  readonly cgroupId: bigint | null;
}

/** Where the bits go: libs/bpf PodScopeMap in the agent, a fake in tests. `set(id, 0n)` removes the entry. */
export interface PodScopeWriter {
  set(cgroupId: bigint, scopes: bigint): void;
}

export interface PodScopesOptions {
  readonly map: PodScopeWriter;
  /** Scope slots the kernel has (POD_SCOPE_SLOTS). */
  readonly slots: number;
}

/** Whether `pod` is one of the pods `scope` names (pure). */
export function podInScope(scope: KernelPodScope, pod: Pick<NodePod, 'namespace' | 'labels'>): boolean {
  if (scope.namespaces.length > 0 && !scope.namespaces.includes(pod.namespace)) return false;
  return Object.entries(scope.labels).every(([key, value]) => pod.labels[key] === value);
}

/** The scope bits of `pod` given the selector of each slot in use (pure). */
export function podScopeBits(scopes: ReadonlyMap<number, KernelPodScope>, pod: Pick<NodePod, 'namespace' | 'labels'>): bigint {
  let bits = 0n;
  for (const [slot, scope] of scopes) if (podInScope(scope, pod)) bits |= 1n << BigInt(slot);
  return bits;
}

function scopeKey(scope: KernelPodScope): string {
  const labels = Object.entries(scope.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([labels, [...new Set(scope.namespaces)].sort()]);
}

export class PodScopes {
  readonly #map: PodScopeWriter;
  readonly #slotCount: number;
  /** scopeKey → its slot, selector and holders. */
  readonly #slots = new Map<string, { readonly slot: number; readonly scope: KernelPodScope; readonly holders: Set<string> }>();
  readonly #holderKey = new Map<string, string>();
  #pods = new Map<string, NodePod>();
  /** What the kernel map holds: cgroup id → bits (entries with 0 bits are absent). */
  readonly #written = new Map<bigint, bigint>();

  constructor(options: PodScopesOptions) {
    this.#map = options.map;
    this.#slotCount = options.slots;
  }

  /**
   * The slot of `scope` for `holder` (a rule's map entry); the first holder of a selector takes a free slot and
   * writes its pods' bits. Throws when every slot is taken.
   */
  acquire(holder: string, scope: KernelPodScope): number {
    const key = scopeKey(scope);
    const held = this.#holderKey.get(holder) === key ? this.#slots.get(key) : undefined;
    if (held) return held.slot;
    this.release(holder);
    let entry = this.#slots.get(key);
    if (!entry) {
      const used = new Set([...this.#slots.values()].map((s) => s.slot));
      const slot = Array.from({ length: this.#slotCount }, (_, i) => i).find((i) => !used.has(i));
      if (slot === undefined) throw new Error(`pod scopes: all ${this.#slotCount} slots are taken (one per distinct pod selector on the node)`);
      entry = { slot, scope: { labels: { ...scope.labels }, namespaces: [...scope.namespaces] }, holders: new Set() };
      this.#slots.set(key, entry);
      this.#sync();
    }
    entry.holders.add(holder);
    this.#holderKey.set(holder, key);
    return entry.slot;
  }

  /** Lets go of whatever `holder` held; the last holder of a slot frees it and clears its bit from every pod. */
  release(holder: string): void {
    const key = this.#holderKey.get(holder);
    if (key === undefined) return;
    this.#holderKey.delete(holder);
    const entry = this.#slots.get(key);
    if (!entry) return;
    entry.holders.delete(holder);
    if (entry.holders.size > 0) return;
    this.#slots.delete(key);
    this.#sync();
  }

  /** Replaces what is known of the node's pods (the whole set: a pod absent here has left the node). */
  setPods(pods: Iterable<NodePod>): void {
    this.#pods = new Map([...pods].map((pod) => [pod.uid, pod]));
    this.#sync();
  }

  /** The pods (namespace/name) in `slot` now, sorted. */
  podsIn(slot: number): string[] {
    const bit = 1n << BigInt(slot);
    return [...this.#pods.values()]
      .filter((pod) => pod.cgroupId !== null && ((this.#written.get(pod.cgroupId) ?? 0n) & bit) !== 0n)
      .map((pod) => `${pod.namespace}/${pod.name}`)
      .sort();
  }

  /** The slots in use, by slot. */
  slotsInUse(): Map<number, KernelPodScope> {
    return new Map([...this.#slots.values()].map((entry) => [entry.slot, entry.scope]));
  }

  /** Rewrites the kernel entries whose bits differ from what the pods and slots say now; removals last. */
  #sync(): void {
    const scopes = this.slotsInUse();
    const wanted = new Map<bigint, bigint>();
    for (const pod of this.#pods.values()) {
      if (pod.cgroupId === null) continue;
      const bits = podScopeBits(scopes, pod);
      if (bits !== 0n) wanted.set(pod.cgroupId, (wanted.get(pod.cgroupId) ?? 0n) | bits);
    }
    for (const [id, bits] of wanted) {
      if (this.#written.get(id) === bits) continue;
      this.#map.set(id, bits);
      this.#written.set(id, bits);
    }
    for (const id of [...this.#written.keys()]) {
      if (wanted.has(id)) continue;
      this.#map.set(id, 0n);
      this.#written.delete(id);
    }
  }
}
