/**
 * The detector's transform for createTransactionalTransform: Event records of stinger.events → Alert records of
 * stinger.alerts, exactly once (outputs and offsets in one transaction per batch).
 *
 * Contract:
 *  - `prepareBatch` runs before each batch. The first batch of a partition after start, after a rebalance
 *    (`resetPartitions`, wired to the group's join) or after a batch that was not committed (`resetPartition`) first
 *    replays that partition's input from the longest window
 *    before the batch (sequence windows, plus the grouping window) up to the batch's first offset, with alerts
 *    suppressed: the state is what it was when the previous owner committed, so a sequence whose first step came
 *    before a restart still completes after it (state survives a restart or a partition move by rebuilding it from
 *    the input; nothing else is stored).
 *  - `transform` decodes each event (undecodable: rejected, dead-lettered by the caller), matches it, and returns its
 *    alerts keyed by pod uid or node; every ~second of event time it also flushes grouped counts whose window ended.
 *  - The rules are read live from `rules` (policy records applied as they arrive); every event, replayed ones too,
 *    teaches `rules.ancestry` its process and parent before it is matched (pid selectors, Rego input).
 *  - Rego modules (with `rego`): prepareBatch also evaluates them on the batch's events in a worker thread, with a
 *    time budget per event (rego-rules.ts), and transform publishes their alerts with the record's others. While the
 *    worker evaluates, prepareBatch matches the batch's events against the native rules on this thread (the two run
 *    side by side on two cores instead of one after the other); transform then returns what was matched, in the same
 *    order and with the same state changes as matching in transform would have made.
 */
import { DecodeError, decodeEventSummary, encodeAlert, keepEvent, type Alert, type Event } from '@stinger/events';
import type { RegoBatchEvaluator } from '@stinger/rego';
import { RecordRejectedError, type ConsumedRecord, type OutputRecord } from '@stinger/kafka';
import { namespaced, type Logger } from '@stinger/log';
import { alertKey, completeAlert } from './alerts.ts';
import type { DetectionRules } from './detection-rules.ts';
import { PartitionDetector } from './partition-detector.ts';
import { RegoStage, type RegoStageStats } from './rego-rules.ts';

export interface DetectorOptions {
  readonly rules: DetectionRules;
  /** The (prefixed) stinger.alerts topic. */
  readonly alertsTopic: string;
  readonly logger: Logger;
  /** Reads a partition of the input from a time up to an offset (libs/kafka readPartitionRange). */
  readonly readRange: (range: { readonly partition: number; readonly sinceMs: number; readonly untilOffset: bigint }) => Promise<readonly ConsumedRecord[]>;
  readonly groupWindowMs?: number;
  /** Alert.time; the wall clock by default. */
  readonly now?: () => bigint;
  readonly onAlert?: (alert: Alert) => void;
  /** Evaluates the policies' Rego modules (rego-rules.ts); without it a policy's Rego module raises nothing. */
  readonly rego?: RegoBatchEvaluator;
}

export interface DetectorStats extends RegoStageStats {
  events: number;
  alerts: number;
  replayedEvents: number;
  replays: number;
}

export interface Detector {
  prepareBatch(records: readonly ConsumedRecord[]): Promise<void>;
  transform(record: ConsumedRecord): readonly OutputRecord[];
  /** Drops all partition state: the next batch of each partition replays its window first. */
  resetPartitions(): void;
  /**
   * Drops one partition's state (its batch was not committed: what it taught the state is ahead of the committed
   * offset); the partition's next batch replays its window up to that batch's first offset.
   */
  resetPartition(partition: number): void;
  readonly stats: Readonly<DetectorStats>;
}

const FLUSH_EVERY_NS = 1_000_000_000n;

/** What matching one event gave: its own alerts, and the grouped counts whose window its time closed. */
interface Matched {
  readonly observed: readonly Alert[];
  readonly flushed: readonly Alert[];
}

/** A summary: the fields detection reads (completeAlert restores the whole events of what is published). */
function decodeOrReject(record: ConsumedRecord): Event {
  if (!record.value) throw new RecordRejectedError('tombstone');
  try {
    return decodeEventSummary(record.value);
  } catch (error) {
    if (error instanceof DecodeError) throw new RecordRejectedError(error.reason, error);
    throw error;
  }
}

export function createDetector(options: DetectorOptions): Detector {
  const { rules, alertsTopic, readRange } = options;
  const logger = namespaced(options.logger, 'Detector');
  const groupWindowNs = BigInt(options.groupWindowMs ?? 10_000) * 1_000_000n;
  const partitions = new Map<number, { detector: PartitionDetector; lastFlushNs: bigint }>();
  const regoStage = options.rego === undefined ? null : new RegoStage({ evaluator: options.rego, ancestry: rules.ancestry, ...(options.now ? { now: options.now } : {}) });
  const stats: DetectorStats = { events: 0, alerts: 0, replayedEvents: 0, replays: 0, regoEvaluations: 0, regoAlerts: 0, regoStopped: 0, regoFailed: 0, regoMalformed: 0 };
  /** Native alerts matched by prepareBatch while the Rego worker ran, by offset, taken by transform (matched once). */
  let matched = new Map<bigint, Matched>();
  const newPartition = () => ({ detector: new PartitionDetector({ rules, groupWindowNs, keep: keepEvent, ...(options.now ? { now: options.now } : {}) }), lastFlushNs: 0n });

  const output = (summarised: Alert): OutputRecord => {
    const alert = completeAlert(summarised);
    stats.alerts += 1;
    options.onAlert?.(alert);
    return { topic: alertsTopic, key: alertKey(alert), value: encodeAlert(alert) };
  };

  return {
    stats,
    resetPartitions() {
      partitions.clear();
    },
    resetPartition(partition) {
      partitions.delete(partition);
    },
    async prepareBatch(records) {
      await replayIfNew(records);
      matched = new Map();
      if (regoStage === null || rules.rego().length === 0) return;
      const batch: { record: ConsumedRecord; event: Event }[] = [];
      for (const record of records) {
        try {
          batch.push({ record, event: decodeOrReject(record) });
        } catch (error) {
          if (!(error instanceof RecordRejectedError)) throw error; // rejected again, and dead-lettered, by transform
        }
      }
      // prepare learns the batch's ancestry and posts the jobs before it first waits; the native rules run meanwhile.
      const evaluated = regoStage.prepare(batch, rules.rego());
      try {
        for (const { record, event } of batch) matched.set(record.offset, match(record, event, { learnt: true }));
      } finally {
        await evaluated;
        Object.assign(stats, regoStage.stats);
      }
    },
    transform(record) {
      const { observed, flushed } = matched.get(record.offset) ?? match(record, decodeOrReject(record), { learnt: false });
      matched.delete(record.offset);
      const alerts = regoStage === null ? [...observed, ...flushed] : [...observed, ...regoStage.take(record), ...flushed];
      return alerts.map(output);
    },
  };

  /**
   * The native rules' alerts for one event, and the grouped counts due by its time (the partition's state moves on).
   * `learnt`: the Rego stage already taught the ancestry this batch's events (learning twice changes nothing).
   */
  function match(record: ConsumedRecord, event: Event, { learnt }: { readonly learnt: boolean }): Matched {
    let state = partitions.get(record.partition);
    if (state === undefined) {
      state = newPartition();
      partitions.set(record.partition, state);
    }
    stats.events += 1;
    if (!learnt) rules.ancestry.learn(event); // before matching: pid selectors with followChildren read it
    const observed = state.detector.observe(event, { emit: true });
    if (event.time - state.lastFlushNs < FLUSH_EVERY_NS) return { observed, flushed: [] };
    state.lastFlushNs = event.time;
    return { observed, flushed: state.detector.flush({ emit: true }) };
  }

  async function replayIfNew(records: readonly ConsumedRecord[]): Promise<void> {
      const first = records[0];
      if (first === undefined || partitions.has(first.partition)) return;
      const state = newPartition();
      const windowMs = Number((rules.maxWindowNs() + groupWindowNs) / 1_000_000n);
      const started = performance.now();
      const history = await readRange({ partition: first.partition, sinceMs: first.timestampMs - windowMs, untilOffset: first.offset });
      for (const record of history) {
        try {
          const event = decodeOrReject(record);
          rules.ancestry.learn(event);
          state.detector.observe(event, { emit: false });
        } catch (error) {
          if (!(error instanceof RecordRejectedError)) throw error;
        }
      }
      state.detector.flush({ emit: false });
      partitions.set(first.partition, state);
      stats.replays += 1;
      stats.replayedEvents += history.length;
      logger.info({ partition: first.partition, events: history.length, windowMs, ms: Math.round(performance.now() - started) }, 'partition state rebuilt from its input');
  }
}
