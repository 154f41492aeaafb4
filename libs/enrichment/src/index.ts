// @stinger/enrichment: RawEvent → Event. Container identity and pod metadata (enrichEvent), the bounded
// batch wait for late pod metadata (LateMetadataBuffer), the transform for the exactly-once worker
// (createEnricher, which drops repeats of an agent's (agent_id, seq)), and the enrichment metrics.
export { enrichEvent, containerIdentityOf, isHostIdentity, lookupPod, toEventPod, NOT_ENRICHED_REASONS } from './enrich-event.ts';
export type { ContainerIdentity, EnrichOptions } from './enrich-event.ts';
export { LateMetadataBuffer } from './late-metadata-buffer.ts';
export type { LateMetadataBufferOptions, HoldResult } from './late-metadata-buffer.ts';
export { createEnricher } from './enricher.ts';
export type { Enricher, EnricherStats, CreateEnricherOptions } from './enricher.ts';
export { createEnrichmentMetrics, noopEnrichmentMetrics } from './metrics.ts';
export type { EnrichmentMetrics, PrometheusEnrichmentMetrics } from './metrics.ts';
