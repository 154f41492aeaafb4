/**
 * AgentPipeline: sensor record → RawEvent (EventBuilder) → per-agent sequence number → Avro
 * single-object bytes → EventPublisher, keyed by node name (the stinger.events.raw contract).
 * Sequence numbers start at 0 for each agent_id and have no gaps: a gap seen downstream is loss.
 * Each event is published as urgent (a pipeline kill rule waits for it) or as audit (isAuditOnly): the publisher's
 * spool sheds audit events first when it fills, as the kernel does in its ring buffer.
 */
import { RawEventEncoder, type EventKind, type RawEvent } from '@stinger/events';
import type { EventBuilder, SensorRecord } from './event-builder.ts';
import type { EventPublisher } from './publisher.ts';

export interface AgentPipelineOptions {
  readonly nodeName: string;
  readonly builder: EventBuilder;
  readonly publisher: EventPublisher;
  /** Sees every event after sequencing (the local gRPC stream, metrics). */
  readonly observe?: (event: RawEvent) => void;
  /** Whether the kernel reported this record for a rule whose kill the pipeline carries out: it is sent at once. */
  readonly isUrgent?: (record: SensorRecord) => boolean;
}

/** Kinds the process tree is built from: never audit, whatever they carry. */
const LIFE_CYCLE_KINDS: ReadonlySet<EventKind> = new Set<EventKind>(['exec', 'fork', 'exit']);

/** An event that only reports: no action taken on it and no process life cycle (the spool's first to shed). */
export function isAuditOnly(event: RawEvent): boolean {
  return event.action === null && !LIFE_CYCLE_KINDS.has(event.kind);
}

export class AgentPipeline {
  readonly #key: Buffer;
  readonly #builder: EventBuilder;
  readonly #publisher: EventPublisher;
  readonly #observe: (event: RawEvent) => void;
  readonly #isUrgent: (record: SensorRecord) => boolean;
  /** encodeRawEvent's bytes, with each Process object encoded once (the builder reuses unchanged ones). */
  readonly #encoder = new RawEventEncoder();
  #seq = 0n;

  constructor(options: AgentPipelineOptions) {
    this.#key = Buffer.from(options.nodeName);
    this.#builder = options.builder;
    this.#publisher = options.publisher;
    this.#observe = options.observe ?? (() => {});
    this.#isUrgent = options.isUrgent ?? (() => false);
  }

  get nextSeq(): bigint {
    return this.#seq;
  }

  /** Publishes the record's event; null when the record only updated state (a chdir). */
  handle(record: SensorRecord): RawEvent | null {
    const built = this.#builder.build(record);
    if (built === null) return null;
    const event: RawEvent = { ...built, seq: this.#seq };
    this.#seq += 1n;
    const urgent = this.#isUrgent(record);
    this.#publisher.publish({ key: this.#key, value: this.#encoder.encode(event) }, { urgent, audit: !urgent && isAuditOnly(event) });
    this.#observe(event);
    return event;
  }
}
