/**
 * A consume-transform-produce worker for the exactly-once scenario, run as its own process so a test
 * can kill it with SIGKILL. It reads RawEvents from SOURCE_TOPIC, decodes each (undecodable records go
 * to DLQ_TOPIC), and writes the re-encoded event to TARGET_TOPIC, transactionally.
 * argv: <source> <target> <dlq> <group> <transactionalId>
 */
import { loadConfig, requireBrokers } from '@stinger/config';
import { decodeRawEvent, DecodeError, encodeRawEvent } from '@stinger/events';
import { createDeadLetterBuilder, createKafkaClient, createTransactionalTransform, installShutdown, RecordRejectedError } from '@stinger/kafka';
import { createLogger } from '@stinger/log';

const [source, target, dlq, group, transactionalId] = process.argv.slice(2);
if (!source || !target || !dlq || !group || !transactionalId) throw new Error('usage: transform-worker <source> <target> <dlq> <group> <txid>');
const config = loadConfig();
const logger = createLogger({ name: 'transform-worker', level: 'warn' });
const client = createKafkaClient({ brokers: requireBrokers(config), connection: config.kafka, role: transactionalId, logger });
const worker = createTransactionalTransform({
  client,
  groupId: group,
  transactionalId,
  inputTopics: [source],
  sessionTimeoutMs: 6000,
  deadLetter: createDeadLetterBuilder({ consumer: group, dlqTopic: dlq }),
  transform: (record) => {
    if (!record.value) throw new RecordRejectedError('tombstone');
    try {
      return [{ topic: target, key: record.key, value: encodeRawEvent(decodeRawEvent(record.value)) }];
    } catch (error) {
      if (error instanceof DecodeError) throw new RecordRejectedError(error.reason, error);
      throw error;
    }
  },
});
const shutdown = installShutdown({ logger });
shutdown.register('worker', () => worker.stop());
await worker.start();
process.stdout.write('ready\n');
