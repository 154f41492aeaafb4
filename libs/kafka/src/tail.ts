/**
 * Tailing a topic for people and tools (`stinger events`, `stinger alerts`): a consumer of its own
 * throw-away group that starts at a point in time (or the end) and never commits, so tailing leaves no
 * trace in the cluster's consumer offsets beyond an empty group.
 */
import { randomUUID } from 'node:crypto';
import type { KafkaClient } from './client.ts';
import { toConsumedRecord, type ConsumedRecord } from './consumer.ts';

export interface TailOptions {
  readonly client: KafkaClient;
  readonly topic: string;
  /** Start at the first record at or after this time (ms since the epoch); null: only new records. */
  readonly sinceMs: number | null;
  readonly onRecord: (record: ConsumedRecord) => void;
}

export interface Tail {
  stop(): Promise<void>;
}

export async function tailTopic(options: TailOptions): Promise<Tail> {
  const { client, topic, sinceMs, onRecord } = options;
  const groupId = `stinger-tail-${randomUUID()}`;
  const consumer = client.kafka.consumer({ groupId, readUncommitted: false, allowAutoTopicCreation: false });
  let starts: { partition: number; offset: string }[] = [];
  if (sinceMs !== null) {
    const admin = client.kafka.admin();
    await admin.connect();
    try {
      starts = (await admin.fetchTopicOffsetsByTimestamp(topic, sinceMs)).map((p) => ({ partition: p.partition, offset: p.offset }));
    } finally {
      await admin.disconnect();
    }
  }
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: false });
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ topic: from, partition, message }) => onRecord(toConsumedRecord(from, partition, message)),
  });
  for (const start of starts) consumer.seek({ topic, partition: start.partition, offset: start.offset });
  return {
    async stop() {
      await consumer.disconnect();
      const admin = client.kafka.admin();
      await admin.connect();
      await admin.deleteGroups([groupId]).catch(() => undefined);
      await admin.disconnect();
    },
  };
}
