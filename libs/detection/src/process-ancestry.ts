/**
 * What the detector knows of process trees, learnt from the enriched events themselves (each carries its process and
 * its parent): ancestry for Rego modules, pid selectors with followChildren, and each container's entry process.
 *
 * Contract: the detector calls `learn(event)` for every event, before the rules are evaluated on it (also for events
 * it replays after a restart). Everything is bounded (oldest first out); a chain the detector did not see is cut where
 * its knowledge ends, and the questions below answer "cannot tell" (null) rather than guess. An exited process is
 * forgotten sooner: `exitedRetentionNs` (event time) after its exit event, once no known process names it as parent
 * and no container has it as entry process (ExitedLineage), so a steady process rate keeps rate × retention entries.
 *
 * The entry process of a container is the oldest process (smallest start time) the detector has seen in it. On a
 * detector that was running when the container started, that is the process the runtime started (its pid 1); after a
 * detector restart it is the oldest process that produced an event since — the replay window (docs/policies.md).
 */
import type { Event, Process } from '@stinger/events';
import { ExitedLineage } from './exited-lineage.ts';

/** How a selector asks about a process tree (selector.ts). */
export interface ProcessLineage {
  /** Whether the event's process is one of `pids` (host pids) or, with followChildren, descends from one. */
  includes(event: Event, pids: ReadonlySet<number>, followChildren: boolean): boolean;
  /**
   * The same for pids as the event's container sees them (selector pids.namespace: container). Events carry host
   * pids only, so a process is known as its container's pid 1 by being the container's entry process; other
   * container pids cannot be told here and never match (the kernel pid scope, which translates them on the node
   * from /proc, decides exec, file and connect rules that name no pods). False for host processes.
   */
  includesInContainer(event: Event, pids: ReadonlySet<number>, followChildren: boolean): boolean;
}

export interface AncestorSummary {
  readonly pid: number;
  readonly binary: string;
}

/** A container's entry process, and whether an event's process descends from it. */
export interface ContainerOrigin {
  readonly entry: AncestorSummary & { readonly start_time: bigint };
  /** true: its ancestry reaches the entry; false: it reaches a process outside the container first; null: unknown. */
  readonly fromEntry: boolean | null;
}

interface Known {
  readonly pid: number;
  readonly binary: string;
  readonly startTime: bigint;
  /** Its parent's identity, when an event named it. */
  readonly parent: string | null;
  /** Container id; null: on the host (its cgroup is known and is no container's); undefined: unknown. */
  readonly container: string | null | undefined;
}

/** A process across exec (the detector decodes summaries: exec ids are not among their fields). */
const identityOf = (node: string, process: Pick<Process, 'pid' | 'start_time'>): string => `${node}:${process.start_time}:${process.pid}`;

function containerOf(process: Pick<Process, 'container_id' | 'cgroup_path'>): string | null | undefined {
  if (process.container_id !== null) return process.container_id;
  return process.cgroup_path === null ? undefined : null;
}

const MAX_DEPTH = 64;
/** The pid a container's entry process has in the container's own pid namespace. */
const CONTAINER_ENTRY_PID = 1;

/** Process identity → pid, binary, parent and container, and each container's entry process; bounded. */
export class AncestryIndex implements ProcessLineage {
  readonly #known = new Map<string, Known>();
  /** `node/container id` → identity of the oldest process seen in it. */
  readonly #entries = new Map<string, string>();
  readonly #max: number;
  /** Links are parents named by known processes, and containers' entry processes. */
  readonly #exited: ExitedLineage;

  constructor(max = 65_536, exitedRetentionNs = 120_000_000_000n) {
    this.#max = max;
    this.#exited = new ExitedLineage({
      retentionNs: exitedRetentionNs,
      forget: (id) => {
        const known = this.#known.get(id);
        this.#known.delete(id);
        return known?.parent ?? null;
      },
    });
  }

  /** Processes known, and containers whose entry process is known. */
  stats(): { readonly processes: number; readonly containers: number } {
    return { processes: this.#known.size, containers: this.#entries.size };
  }

  learn(event: Event): void {
    const id = identityOf(event.node, event.process);
    const parent = event.parent === null ? null : identityOf(event.node, event.parent);
    const container = containerOf(event.process);
    this.#set(id, { pid: event.process.pid, binary: event.process.binary, startTime: event.process.start_time, parent, container });
    if (event.parent !== null && parent !== null && !this.#known.has(parent)) {
      this.#set(parent, { pid: event.parent.pid, binary: event.parent.binary, startTime: event.parent.start_time, parent: null, container: containerOf(event.parent) });
    }
    if (typeof container === 'string') this.#noteEntry(`${event.node}/${container}`, id, event.process.start_time);
    if (event.kind === 'exit') this.#exited.exited(id, event.time);
  }

  /** The parent of `event`'s process, then its parent, …, at most `depth`: pid and binary of each. */
  ancestors(event: Event, depth = 32): AncestorSummary[] {
    const chain: AncestorSummary[] = [];
    let id = this.#known.get(identityOf(event.node, event.process))?.parent ?? null;
    const seen = new Set<string>();
    while (id !== null && chain.length < depth && !seen.has(id)) {
      seen.add(id);
      const known = this.#known.get(id);
      if (known === undefined) break;
      chain.push({ pid: known.pid, binary: known.binary });
      id = known.parent;
    }
    return chain;
  }

  includes(event: Event, pids: ReadonlySet<number>, followChildren: boolean): boolean {
    if (pids.has(event.process.pid)) return true;
    if (!followChildren) return false;
    if (event.parent !== null && pids.has(event.parent.pid)) return true;
    return this.ancestors(event, MAX_DEPTH).some((ancestor) => pids.has(ancestor.pid));
  }

  includesInContainer(event: Event, pids: ReadonlySet<number>, followChildren: boolean): boolean {
    if (!pids.has(CONTAINER_ENTRY_PID)) return false;
    const origin = this.containerOrigin(event);
    if (origin === null) return false;
    const { entry } = origin;
    if (entry.pid === event.process.pid && entry.start_time === event.process.start_time) return true;
    return followChildren && origin.fromEntry === true;
  }

  /**
   * For a process in a container: the container's entry process, and whether the process descends from it — walking
   * up its parents while they stay in the container; the first one outside (the runtime's `runc exec`, an `nsenter`,
   * a process that joined the cgroup) ends the walk with false. null outside a container.
   */
  containerOrigin(event: Event): ContainerOrigin | null {
    const container = event.process.container_id;
    if (container === null) return null;
    const entryId = this.#entries.get(`${event.node}/${container}`);
    const entry = entryId === undefined ? undefined : this.#known.get(entryId);
    if (entryId === undefined || entry === undefined) return null;
    return { entry: { pid: entry.pid, binary: entry.binary, start_time: entry.startTime }, fromEntry: this.#descends(identityOf(event.node, event.process), { entryId, container }) };
  }

  #descends(from: string, target: { readonly entryId: string; readonly container: string }): boolean | null {
    let id = from;
    for (let depth = 0; depth < MAX_DEPTH; depth += 1) {
      if (id === target.entryId) return true;
      const parent = this.#known.get(id)?.parent ?? null;
      const known = parent === null ? undefined : this.#known.get(parent);
      if (parent === null || known === undefined) return null;
      if (known.container !== undefined && known.container !== target.container) return false;
      id = parent;
    }
    return null;
  }

  #noteEntry(key: string, id: string, startTime: bigint): void {
    const current = this.#entries.get(key);
    const known = current === undefined ? undefined : this.#known.get(current);
    if (known !== undefined && known.startTime <= startTime) return;
    if (current === undefined && this.#entries.size >= this.#max) {
      const oldest = this.#entries.entries().next().value;
      if (oldest !== undefined) {
        this.#entries.delete(oldest[0]);
        this.#exited.unlinked(oldest[1]);
      }
    }
    this.#entries.set(key, id);
    this.#exited.linked(id);
    if (current !== undefined) this.#exited.unlinked(current);
  }

  #set(id: string, known: Known): void {
    const existing = this.#known.get(id);
    // A later event of the same process may come without its parent or container (or with the binary exec replaced):
    // keep what an earlier one told.
    if (existing !== undefined) {
      const parent = known.parent ?? existing.parent;
      this.#known.set(id, { ...known, parent, container: known.container === undefined ? existing.container : known.container });
      if (parent !== existing.parent) this.#relink(existing.parent, parent);
      return;
    }
    if (this.#known.size >= this.#max) {
      const oldest = this.#known.entries().next().value;
      if (oldest !== undefined) {
        this.#known.delete(oldest[0]);
        this.#exited.dropped(oldest[0]);
        if (oldest[1].parent !== null) this.#exited.unlinked(oldest[1].parent);
      }
    }
    this.#known.set(id, known);
    if (known.parent !== null) this.#exited.linked(known.parent);
  }

  #relink(from: string | null, to: string | null): void {
    if (to !== null) this.#exited.linked(to);
    if (from !== null) this.#exited.unlinked(from);
  }
}

/**
 * The lineage the enforcer has: no events, only the alert's. A pid selector's pids are checked against the process;
 * with followChildren the detector, which holds the ancestry, decided the descent, and the enforcer accepts it (as it
 * accepts a Rego module's verdict).
 */
export const DETECTOR_DECIDED_LINEAGE: ProcessLineage = {
  includes: (event, pids, followChildren) => followChildren || pids.has(event.process.pid),
  // An alert's process carries its host pid only: the container pid was the detector's to tell.
  includesInContainer: (event) => event.process.container_id !== null,
};
