/**
 * A consume-transform-produce worker for the exactly-once scenario, run as its own process so a test
 * can kill it with SIGKILL. It reads RawEvents from SOURCE_TOPIC, decodes each (undecodable records go
 * to DLQ_TOPIC), and writes the re-encoded event to TARGET_TOPIC, transactionally.
 * argv: <source> <target> <dlq> <group> <transactionalId> [hangAtCommit]
 *
 * With hangAtCommit = n, the commit of the worker's n-th transaction never completes: its records and offsets have
 * been sent, the commit is not, and the worker prints `open transaction` on stdout and waits there, so a test can
 * kill it with a transaction surely open (the transform itself is the real one, on the real broker).
 */
import { loadConfig, requireBrokers } from '@stinger/config';
import { decodeRawEvent, DecodeError, encodeRawEvent } from '@stinger/events';
import { createDeadLetterBuilder, createKafkaClient, createTransactionalTransform, installShutdown, RecordRejectedError } from '@stinger/kafka';
import { createLogger } from '@stinger/log';

const [source, target, dlq, group, transactionalId, hangAtCommit] = process.argv.slice(2);
if (!source || !target || !dlq || !group || !transactionalId) throw new Error('usage: transform-worker <source> <target> <dlq> <group> <txid> [hangAtCommit]');
const config = loadConfig();
const logger = createLogger({ name: 'transform-worker', level: 'warn' });
const client = createKafkaClient({ brokers: requireBrokers(config), connection: config.kafka, role: transactionalId, logger });
if (hangAtCommit !== undefined) hangCommit(Number(hangAtCommit));

/** Makes the commit of the n-th transaction of this process's (one) transactional producer wait forever. */
function hangCommit(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`hangAtCommit must be a positive integer, not ${hangAtCommit}`);
  const createKafkaProducer = client.kafka.producer.bind(client.kafka);
  let transactions = 0;
  client.kafka.producer = (producerConfig) => {
    const producer = createKafkaProducer(producerConfig);
    const begin = producer.transaction.bind(producer);
    producer.transaction = async () => {
      const transaction = await begin();
      transactions += 1;
      if (transactions !== n) return transaction;
      const commit = (): Promise<void> => {
        process.stdout.write('open transaction\n');
        return new Promise<never>(() => {});
      };
      return { ...transaction, commit };
    };
    return producer;
  };
}
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
