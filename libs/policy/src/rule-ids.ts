/**
 * Rule ids: the u32 a kernel rule carries in the BPF maps and that records caused by it report (0 means "no
 * rule"). An id is derived from (policy key, rule name) so it is the same on every node and across restarts; the
 * registry detects the rare collision between two rules of the loaded policies and moves the later rule to the
 * next free id, reporting it (that rule's id then depends on load order, so the collision is worth renaming away).
 */

export interface RuleRef {
  /** policyKey: `name`, or `namespace/name` for a namespaced policy. */
  readonly policy: string;
  readonly rule: string;
}

export interface RuleIdCollision {
  /** The id both rules hash to. */
  readonly ruleId: number;
  /** The rule that holds the id. */
  readonly holder: RuleRef;
  /** The rule that wanted it. */
  readonly requested: RuleRef;
  /** The id the requested rule got instead. */
  readonly assigned: number;
}

/** FNV-1a (32 bit) over the UTF-8 of `policy \n rule`; never 0. */
export function ruleIdOf(policy: string, rule: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(`${policy}\n${rule}`, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash === 0 ? 1 : hash;
}

const refKey = (ref: RuleRef): string => `${ref.policy}\n${ref.rule}`;

/** Assigns rule ids for the set of loaded policies. Not thread-shared: one registry per PolicySet. */
export class RuleIdRegistry {
  readonly #byId = new Map<number, RuleRef>();
  readonly #byRef = new Map<string, number>();
  readonly #collisions: RuleIdCollision[] = [];

  /** The rule's id: the one it holds, else its hash, else (on a collision) the next free id after it. */
  assign(ref: RuleRef): number {
    const held = this.#byRef.get(refKey(ref));
    if (held !== undefined) return held;
    const wanted = ruleIdOf(ref.policy, ref.rule);
    let id = wanted;
    while (this.#byId.has(id)) id = id === 0xffffffff ? 1 : id + 1;
    if (id !== wanted) {
      const holder = this.#byId.get(wanted) as RuleRef;
      this.#collisions.push({ ruleId: wanted, holder, requested: { policy: ref.policy, rule: ref.rule }, assigned: id });
    }
    this.#byId.set(id, { policy: ref.policy, rule: ref.rule });
    this.#byRef.set(refKey(ref), id);
    return id;
  }

  /** The rule holding `id`, e.g. to name the rule behind a kernel record. */
  lookup(id: number): RuleRef | undefined {
    return this.#byId.get(id);
  }

  idOf(ref: RuleRef): number | undefined {
    return this.#byRef.get(refKey(ref));
  }

  /** Frees the ids of every rule of `policy` (on delete, and before re-assigning on replace). */
  release(policy: string): void {
    for (const [id, ref] of this.#byId) {
      if (ref.policy !== policy) continue;
      this.#byId.delete(id);
      this.#byRef.delete(refKey(ref));
    }
  }

  /** Every collision met so far, oldest first. */
  collisions(): readonly RuleIdCollision[] {
    return this.#collisions;
  }

  get size(): number {
    return this.#byId.size;
  }
}
