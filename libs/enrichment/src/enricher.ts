/**
 * The enricher's transform for createTransactionalTransform: RawEvent records of stinger.events.raw
 * → Event records of stinger.events, same key (node name, so a node's events stay in one partition
 * and in order). `prepareBatch` runs before the batch's synchronous transform and holds the batch
 * while pod metadata is late (see late-metadata-buffer.ts for why the batch waits); `transform` never
 * waits. Undecodable records and tombstones are rejected (dead-lettered by the caller).
 */
import { DecodeError, decodeRawEvent, encodeEvent, type RawEvent } from '@stinger/events';
import type { PodIndex } from '@stinger/k8s';
import { RecordRejectedError, type ConsumedRecord, type OutputRecord } from '@stinger/kafka';
import { namespaced, type Logger } from '@stinger/log';
import { containerIdentityOf, enrichEvent } from './enrich-event.ts';
import { LateMetadataBuffer } from './late-metadata-buffer.ts';
import { noopEnrichmentMetrics, type EnrichmentMetrics } from './metrics.ts';

export interface CreateEnricherOptions {
  readonly index: Pick<PodIndex, 'byContainerId' | 'byPodUid' | 'onChange' | 'mode' | 'disabledReason'>;
  /** The (prefixed) stinger.events topic. */
  readonly eventsTopic: string;
  readonly logger: Logger;
  readonly metrics?: EnrichmentMetrics;
  /** Longest a batch waits for late pod metadata. Default 2000 ms. */
  readonly maxWaitMs?: number;
  readonly pollIntervalMs?: number;
  readonly giveUpTtlMs?: number;
}

export interface EnricherStats {
  held: number;
  heldMs: number;
}

export interface Enricher {
  prepareBatch(records: readonly ConsumedRecord[]): Promise<void>;
  transform(record: ConsumedRecord): readonly OutputRecord[];
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
  const stats: EnricherStats = { held: 0, heldMs: 0 };

  return {
    stats,
    async prepareBatch(records) {
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
      const event = enrichEvent(raw, index, { unavailableReason });
      metrics.eventEnriched(event.enrichment.status, event.enrichment.reason);
      return [{ topic: eventsTopic, key: record.key ?? Buffer.from(event.node), value: encodeEvent(event) }];
    },
  };
}
