export { EventSpool, encodeSpoolEntry, decodeSpoolSegment } from './spool.ts';
export type { SpooledRecord, EventSpoolOptions, SpoolSegment, SpoolStats } from './spool.ts';
export { EventPublisher } from './publisher.ts';
export type { RecordSink, PublisherMode, EventPublisherOptions, PublisherStats } from './publisher.ts';
export { EventBuilder, toProcess } from './event-builder.ts';
export type { SensorRecord, UnsequencedEvent, EventBuilderOptions } from './event-builder.ts';
export { AgentPipeline } from './pipeline.ts';
export type { AgentPipelineOptions } from './pipeline.ts';
export { sensorRecordFromProcessRecord } from './sensor-records.ts';
