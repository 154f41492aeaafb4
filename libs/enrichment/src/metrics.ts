/**
 * What the enricher measures: events by enrichment outcome (the not-enriched rate is
 * `stinger_enricher_events_total{status="not_enriched"}` over all), and the latency the late-metadata
 * wait adds (per batch that waited, and how many events it held), and the RawEvents dropped as repeats of an
 * (agent_id, seq) already passed (`stinger_enricher_repeats_total`).
 */
import { Counter, Histogram, Registry } from 'prom-client';
import type { EnrichmentStatus } from '@stinger/events';

export interface EnrichmentMetrics {
  eventEnriched(status: EnrichmentStatus, reason: string | null): void;
  /** A batch waited `waitMs` for pod metadata of `pending` events; `resolved` of them then resolved. */
  lateMetadataWait(observation: { readonly waitMs: number; readonly pending: number; readonly resolved: number }): void;
  repeatDropped(): void;
}

export const noopEnrichmentMetrics: EnrichmentMetrics = {
  eventEnriched() {},
  lateMetadataWait() {},
  repeatDropped() {},
};

export interface PrometheusEnrichmentMetrics extends EnrichmentMetrics {
  readonly registry: Registry;
}

export function createEnrichmentMetrics(options: { readonly registry?: Registry } = {}): PrometheusEnrichmentMetrics {
  const registry = options.registry ?? new Registry();
  const events = new Counter({
    name: 'stinger_enricher_events_total',
    help: 'Events published, by enrichment status and not_enriched reason',
    labelNames: ['status', 'reason'] as const,
    registers: [registry],
  });
  const wait = new Histogram({
    name: 'stinger_enricher_late_metadata_wait_seconds',
    help: 'Latency added to a batch waiting for pod metadata not yet known',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5],
    registers: [registry],
  });
  const late = new Counter({
    name: 'stinger_enricher_late_metadata_events_total',
    help: 'Events whose pod was unknown on arrival, by outcome of the wait (resolved, timed_out)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const repeats = new Counter({
    name: 'stinger_enricher_repeats_total',
    help: 'RawEvents dropped because their (agent_id, seq) was already passed (an agent resent what Kafka had written)',
    registers: [registry],
  });
  return {
    registry,
    repeatDropped() {
      repeats.inc();
    },
    eventEnriched(status, reason) {
      events.inc({ status, reason: reason ?? '' });
    },
    lateMetadataWait({ waitMs, pending, resolved }) {
      wait.observe(waitMs / 1000);
      if (resolved > 0) late.inc({ outcome: 'resolved' }, resolved);
      if (pending > resolved) late.inc({ outcome: 'timed_out' }, pending - resolved);
    },
  };
}
