/**
 * Replay: detection re-run over stored history (`stinger replay`), with whatever rules the caller gives — the policies
 * in force, or policy files being tried — returning the alerts they would have raised. Pure: no I/O, no clock.
 *
 * Contract:
 *  - `observe(partition, event)` takes each partition's events in offset order (partitions may interleave, as a
 *    consumer delivers them); each partition has its own PartitionDetector, as in the live detector, since a partition
 *    holds whole nodes. Returns the alerts the event raises, and grouped counts whose window ended, every second of
 *    the partition's event time as the detector does.
 *  - `finish()` returns what is still held at the end of the range: grouped counts whose window had not ended.
 *  - Alert ids are the live detector's (derived from policy, rule, generation and events), so a replay with the
 *    policies in force can be compared with stinger.alerts; `Alert.time` is the time of the event that raised it,
 *    not the wall clock.
 *  - Events may be summaries (@stinger/events decodeEventSummary: the fields detection reads, decoded faster); the
 *    alerts returned always carry complete events (fullEvent), and the summaries kept for sequences and groups own
 *    their bytes (keepEvent), so a replay never holds on to the batches it fetched.
 */
import { keepEvent, type Alert, type Event } from '@stinger/events';
import { completeAlert } from './alerts.ts';
import type { DetectionRules } from './detection-rules.ts';
import { PartitionDetector } from './partition-detector.ts';

const FLUSH_EVERY_NS = 1_000_000_000n;

export interface ReplayDetectorOptions {
  readonly rules: DetectionRules;
  readonly groupWindowNs?: bigint;
}

export class ReplayDetector {
  readonly #rules: DetectionRules;
  readonly #groupWindowNs: bigint | undefined;
  readonly #partitions = new Map<number, { readonly detector: PartitionDetector; nextFlushNs: bigint }>();
  /** The time of the event being observed: Alert.time of what it raises. */
  #eventNs = 0n;
  #events = 0;
  #alerts = 0;

  constructor(options: ReplayDetectorOptions) {
    this.#rules = options.rules;
    this.#groupWindowNs = options.groupWindowNs;
  }

  observe(partition: number, event: Event): Alert[] {
    let state = this.#partitions.get(partition);
    if (state === undefined) {
      const detector = new PartitionDetector({ rules: this.#rules, now: () => this.#eventNs, keep: keepEvent, ...(this.#groupWindowNs === undefined ? {} : { groupWindowNs: this.#groupWindowNs }) });
      state = { detector, nextFlushNs: event.time + FLUSH_EVERY_NS };
      this.#partitions.set(partition, state);
    }
    this.#eventNs = event.time;
    this.#events += 1;
    const alerts = state.detector.observe(event, { emit: true });
    if (event.time >= state.nextFlushNs) {
      state.nextFlushNs = event.time + FLUSH_EVERY_NS;
      alerts.push(...state.detector.flush({ emit: true }));
    }
    this.#alerts += alerts.length;
    return alerts.length === 0 ? alerts : alerts.map(completeAlert);
  }

  finish(): Alert[] {
    const alerts: Alert[] = [];
    for (const state of this.#partitions.values()) alerts.push(...state.detector.flush({ emit: true, all: true }));
    this.#alerts += alerts.length;
    return alerts.map(completeAlert);
  }

  get stats(): { readonly events: number; readonly alerts: number } {
    return { events: this.#events, alerts: this.#alerts };
  }
}

/** Every alert `rules` raise on `events` (each with its partition, in order per partition), the held counts included. */
export function replayAlerts(events: Iterable<{ readonly partition: number; readonly event: Event }>, rules: DetectionRules): Alert[] {
  const replay = new ReplayDetector({ rules });
  const alerts: Alert[] = [];
  for (const { partition, event } of events) alerts.push(...replay.observe(partition, event));
  alerts.push(...replay.finish());
  return alerts;
}
