/**
 * The enricher's transform for createTransactionalTransform: RawEvent records of stinger.events.raw
 * → Event records of stinger.events, same key (node name, so a node's events stay in one partition
 * and in order). `prepareBatch` runs before the batch's synchronous transform and holds the batch
 * while pod metadata is late (see late-metadata-buffer.ts for why the batch waits); `transform` never
 * waits. Undecodable records and tombstones are rejected (dead-lettered by the caller).
 *
 * Repeats: a RawEvent whose (agent_id, seq) the partition already passed gives no output (repeat-filter.ts: agents
 * resend what Kafka did not acknowledge). The filter is per partition and lives in memory. The first batch of a
 * partition after start, after a rebalance (`resetPartitions`, wired to the group's join) or after a batch that was
 * not committed (`resetPartition`: what it taught the filter is ahead of the committed offset, and the batch comes
 * again) first re-reads the REPEAT_REPLAY_RECORDS records before it (`readRange`), so a repeat of a record passed
 * before a restart is still dropped. A repeat further back than that passes (at least once, never lost).
 */
import { DecodeError, decodeRawEvent, encodeEvent, type RawEvent } from '@stinger/events';
import type { PodIndex } from '@stinger/k8s';
import { RecordRejectedError, type ConsumedRecord, type OutputRecord } from '@stinger/kafka';
import { namespaced, type Logger } from '@stinger/log';
import { containerIdentityOf, enrichEvent } from './enrich-event.ts';
import { LateMetadataBuffer } from './late-metadata-buffer.ts';
import { noopEnrichmentMetrics, type EnrichmentMetrics } from './metrics.ts';
import { RepeatFilter } from './repeat-filter.ts';

/** Records of a partition re-read to rebuild its repeat filter: resends follow their first copy closely. */
export const REPEAT_REPLAY_RECORDS = 20_000n;

export interface CreateEnricherOptions {
  readonly index: Pick<PodIndex, 'byContainerId' | 'byPodUid' | 'onChange' | 'mode' | 'disabledReason'>;
  /** The (prefixed) stinger.events topic. */
  readonly eventsTopic: string;
  readonly logger: Logger;
  readonly metrics?: EnrichmentMetrics;
  /** Reads a partition of the input from an offset up to another (libs/kafka readPartitionRange). */
  readonly readRange: (range: { readonly partition: number; readonly sinceOffset: bigint; readonly untilOffset: bigint }) => Promise<readonly ConsumedRecord[]>;
  /** Longest a batch waits for late pod metadata. Default 2000 ms. */
  readonly maxWaitMs?: number;
  readonly pollIntervalMs?: number;
  readonly giveUpTtlMs?: number;
}

export interface EnricherStats {
  held: number;
  heldMs: number;
  /** RawEvents dropped as repeats of an (agent_id, seq) already passed. */
  repeats: number;
  /** Partitions whose repeat filter was rebuilt from their recent input, and the records re-read for it. */
  replays: number;
  replayedRecords: number;
}

export interface Enricher {
  prepareBatch(records: readonly ConsumedRecord[]): Promise<void>;
  transform(record: ConsumedRecord): readonly OutputRecord[];
  /** Drops every partition's repeat filter: the next batch of each re-reads its recent input first. */
  resetPartitions(): void;
  /** Drops one partition's repeat filter (its batch was not committed); its next batch re-reads first. */
  resetPartition(partition: number): void;
  readonly stats: Readonly<EnricherStats>;
}

function decodeOrReject(record: ConsumedRecord): RawEvent {
  if (!record.value) throw new RecordRejectedError('tombstone');
  try {
    return decodeRawEvent(record.value);
  } catch (error) {
    if (error instanceof DecodeError) throw new RecordRejectedError(error.reason, error);
    throw error;
  }
}

export function createEnricher(options: CreateEnricherOptions): Enricher {
  const { index, eventsTopic, metrics = noopEnrichmentMetrics } = options;
  const logger = namespaced(options.logger, 'Enricher');
  const unavailableReason = index.mode === 'disabled' ? index.disabledReason : null;
  const buffer = new LateMetadataBuffer({
    lookup: index,
    ...(options.maxWaitMs !== undefined ? { maxWaitMs: options.maxWaitMs } : {}),
    ...(options.pollIntervalMs !== undefined ? { pollIntervalMs: options.pollIntervalMs } : {}),
    ...(options.giveUpTtlMs !== undefined ? { giveUpTtlMs: options.giveUpTtlMs } : {}),
  });
  // Decoded in prepareBatch, used once by transform: records are the same objects in both calls.
  const decoded = new WeakMap<ConsumedRecord, RawEvent>();
  const stats: EnricherStats = { held: 0, heldMs: 0, repeats: 0, replays: 0, replayedRecords: 0 };
  const repeatFilters = new Map<number, RepeatFilter>();

  /** The partition's filter, rebuilt from the records before `first` when it has none. */
  async function repeatFilterFor(partition: number, first: bigint): Promise<RepeatFilter> {
    const known = repeatFilters.get(partition);
    if (known) return known;
    const filter = new RepeatFilter();
    if (first > 0n) {
      const sinceOffset = first > REPEAT_REPLAY_RECORDS ? first - REPEAT_REPLAY_RECORDS : 0n;
      const earlier = await options.readRange({ partition, sinceOffset, untilOffset: first });
      for (const record of earlier) {
        if (!record.value) continue;
        try {
          const { agent_id, seq } = decodeRawEvent(record.value);
          filter.firstTime(agent_id, seq);
        } catch (error) {
          if (!(error instanceof DecodeError)) throw error; // an undecodable record was dead-lettered, never passed
        }
      }
      stats.replays += 1;
      stats.replayedRecords += earlier.length;
      logger.info({ partition, from: sinceOffset, until: first, records: earlier.length }, 'repeat filter rebuilt from recent input');
    }
    repeatFilters.set(partition, filter);
    return filter;
  }

  return {
    stats,
    resetPartitions() {
      repeatFilters.clear();
    },
    resetPartition(partition) {
      repeatFilters.delete(partition);
    },
    async prepareBatch(records) {
      const first = records[0];
      if (first !== undefined) await repeatFilterFor(first.partition, first.offset);
      if (unavailableReason !== null) return;
      const identities = [];
      for (const record of records) {
        let raw: RawEvent;
        try {
          raw = decodeOrReject(record);
        } catch {
          continue; // the transform rejects it
        }
        decoded.set(record, raw);
        identities.push(containerIdentityOf(raw));
      }
      const held = await buffer.hold(identities);
      if (held.pending === 0) return;
      stats.held += 1;
      stats.heldMs += held.waitMs;
      metrics.lateMetadataWait(held);
      logger.debug({ ...held, partition: records[0]?.partition }, 'batch held for late pod metadata');
    },
    transform(record) {
      const raw = decoded.get(record) ?? decodeOrReject(record);
      decoded.delete(record);
      // prepareBatch made the partition's filter; a transform called without it (tests) starts one.
      let filter = repeatFilters.get(record.partition);
      if (filter === undefined) repeatFilters.set(record.partition, (filter = new RepeatFilter()));
      if (!filter.firstTime(raw.agent_id, raw.seq)) {
        stats.repeats += 1;
        metrics.repeatDropped();
        return [];
      }
      const event = enrichEvent(raw, index, { unavailableReason });
      metrics.eventEnriched(event.enrichment.status, event.enrichment.reason);
      return [{ topic: eventsTopic, key: record.key ?? Buffer.from(event.node), value: encodeEvent(event) }];
    },
  };
}
