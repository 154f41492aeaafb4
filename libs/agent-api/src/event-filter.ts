/**
 * The GetEvents filter: every set field must match (AND); an empty filter matches every event.
 * Evaluated on the RawEvent before anything is rendered, so a non-matching event costs a few compares.
 */
import { EVENT_KIND_SYMBOLS, type EventKind, type RawEvent } from '@stinger/events';
import { AgentApiFilterError } from './errors.ts';

export interface EventFilter {
  /** Any kind when empty or absent. */
  readonly kinds?: readonly EventKind[];
  /** Substring of process.binary. */
  readonly binaryContains?: string;
  /** process.pid; any when absent or 0. */
  readonly pid?: number;
  /** process.exec_id. */
  readonly execId?: string;
}

const KNOWN_KINDS: ReadonlySet<string> = new Set(EVENT_KIND_SYMBOLS);

export function isEventKind(kind: string): kind is EventKind {
  return KNOWN_KINDS.has(kind);
}

/** Throws AgentApiFilterError on an unknown kind rather than silently matching nothing. */
export function toEventKinds(kinds: readonly string[]): EventKind[] {
  const unknown = kinds.filter((kind) => !isEventKind(kind));
  if (unknown.length > 0) {
    throw new AgentApiFilterError(`unknown event kind ${unknown.join(', ')}; known: ${EVENT_KIND_SYMBOLS.join(', ')}`);
  }
  return kinds.filter(isEventKind);
}

export function compileEventFilter(filter: EventFilter): (event: RawEvent) => boolean {
  const kinds = filter.kinds && filter.kinds.length > 0 ? new Set<string>(filter.kinds) : null;
  const binary = filter.binaryContains || null;
  const pid = filter.pid || null;
  const execId = filter.execId || null;
  if (!kinds && !binary && !pid && !execId) return () => true;
  return (event) =>
    (kinds === null || kinds.has(event.kind)) &&
    (binary === null || event.process.binary.includes(binary)) &&
    (pid === null || event.process.pid === pid) &&
    (execId === null || event.process.exec_id === execId);
}
