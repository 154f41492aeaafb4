/**
 * Kernel rule slots: what the BPF maps can hold versus what the policies ask for.
 *
 * A kernel map has one entry per key (a path, a destination, a cgroup), while several rules of several
 * policies may name the same key. `KernelRuleSlots` keeps every rule per key and installs one of them —
 * the strongest (kill/deny before audit, a pipeline kill's watch before a plain audit, then all processes before host
 * only, then the lowest rule id, so the choice is stable) — through the
 * `KernelMaps` it is given; removing a rule re-installs the next one, or deletes the entry when none
 * is left. Rules not installed are "shadowed" and reported. Pure apart from the maps it drives.
 */
import type { KernelRule } from '@stinger/policy';

/** The physical maps (libs/bpf behind them in the agent; a fake in tests). Throws when it cannot. */
export interface KernelMaps {
  install(rule: KernelRule): void;
  uninstall(rule: KernelRule): void;
}

/** The map key a rule occupies: rules with the same slot key compete for one entry. */
export function slotKey(rule: KernelRule): string {
  switch (rule.event) {
    // One path entry whatever the scope: a host-only rule's entry carries a flag, in the same map.
    case 'exec':
      return JSON.stringify(['exec', rule.match.kind, rule.match.path]);
    case 'file':
      return JSON.stringify(['file', rule.match.kind, rule.match.path]);
    case 'connect':
      // Deny and audit entries live in different maps (cgroup connect program vs. sensor).
      return JSON.stringify(['connect', rule.action, rule.cidr, rule.port]);
    case 'namespace':
      return JSON.stringify(['namespace']);
    case 'module':
      return JSON.stringify(['module']);
  }
}

/**
 * Kill/deny first; then an audit entry that keeps its records (a pipeline kill's watch: its records name the rule the
 * kill waits for and are never shed), then a plain audit.
 */
function strength(rule: KernelRule): number {
  if (rule.action !== 'audit') return 2;
  return rule.keepRecords === true ? 1 : 0;
}

/** A rule for all processes is broader than one for host or pod processes only, or for the processes of a pid or pod selector. */
function breadth(rule: KernelRule): number {
  return rule.scope === 'all' && rule.pids === undefined && rule.pods === undefined ? 1 : 0;
}

/** Strongest first, then the broadest; ties by rule id, so the installed rule does not depend on arrival order. */
export function compareRules(a: KernelRule, b: KernelRule): number {
  return strength(b) - strength(a) || breadth(b) - breadth(a) || a.ruleId - b.ruleId;
}

export interface SlotChangeResult {
  /** Errors from the maps, one line each, naming the rule. */
  readonly errors: readonly string[];
}

export class KernelRuleSlots {
  readonly #maps: KernelMaps;
  readonly #slots = new Map<string, KernelRule[]>();

  constructor(maps: KernelMaps) {
    this.#maps = maps;
  }

  add(rule: KernelRule): SlotChangeResult {
    const key = slotKey(rule);
    const rules = this.#slots.get(key) ?? [];
    const before = rules[0];
    rules.push(rule);
    rules.sort(compareRules);
    this.#slots.set(key, rules);
    return this.#reinstall(before, rules[0]);
  }

  remove(rule: KernelRule): SlotChangeResult {
    const key = slotKey(rule);
    const rules = this.#slots.get(key);
    if (!rules) return { errors: [] };
    const before = rules[0];
    const index = rules.findIndex((r) => r.ruleId === rule.ruleId && JSON.stringify(r) === JSON.stringify(rule));
    if (index < 0) return { errors: [] };
    rules.splice(index, 1);
    if (rules.length === 0) this.#slots.delete(key);
    return this.#reinstall(before, rules[0]);
  }

  /** The rule whose entry is in the kernel for this rule's slot. */
  installed(rule: KernelRule): KernelRule | undefined {
    return this.#slots.get(slotKey(rule))?.[0];
  }

  /** Every rule currently installed in the maps. */
  installedRules(): KernelRule[] {
    return [...this.#slots.values()].map((rules) => rules[0]).filter((r): r is KernelRule => r !== undefined);
  }

  #reinstall(before: KernelRule | undefined, after: KernelRule | undefined): SlotChangeResult {
    if (before === after) return { errors: [] };
    const errors: string[] = [];
    try {
      if (after) this.#maps.install(after);
      else if (before) this.#maps.uninstall(before);
    } catch (error) {
      const rule = after ?? before;
      errors.push(`${rule?.policy}/${rule?.rule}: ${(error as Error).message}`);
    }
    return { errors };
  }
}
