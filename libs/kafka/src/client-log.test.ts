import { test } from 'node:test';
import assert from 'node:assert/strict';
import { logLevel as KafkaLogLevel } from 'kafkajs';
import { kafkaLogLevel } from './client-log.ts';

const error = (namespace: string, message: string) => kafkaLogLevel({ namespace, level: KafkaLogLevel.ERROR, message });

test('kafkaLogLevel: errors the client retries as a matter of course are debug', () => {
  assert.equal(error('Producer', 'Failed to send messages: The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing'), 'debug');
  assert.equal(error('Consumer', 'Crash: KafkaJSProtocolError: The group is rebalancing, so a rejoin is needed'), 'debug');
  assert.equal(error('Consumer', 'The coordinator is not aware of this member, re-joining the group'), 'debug');
  assert.equal(error('BrokerPool', "The coordinator is loading and hence can't process requests for this group"), 'debug');
  assert.equal(kafkaLogLevel({ namespace: 'Runner', level: KafkaLogLevel.WARN, message: 'The group is rebalancing, re-joining' }), 'debug');
});

test('kafkaLogLevel: errors the client retries and recovers from are warnings', () => {
  assert.equal(error('Producer', 'Failed to send messages: There is no leader for this topic-partition as we are in the middle of a leadership election'), 'warn');
  assert.equal(error('Connection', 'Response Produce(key: 0, version: 7)'), 'warn');
  assert.equal(error('Consumer', 'Restarting the consumer in 300ms'), 'warn');
  assert.equal(error('Consumer', 'Crash: KafkaJSNumberOfRetriesExceeded: Connection timeout'), 'warn');
  assert.equal(error('BrokerPool', 'Failed to connect to seed broker, trying another broker from the list: Connection error: connect ECONNREFUSED'), 'warn');
});

test('kafkaLogLevel: genuine failures stay errors; other levels are kept', () => {
  assert.equal(error('Consumer', 'Crash: KafkaJSNonRetriableError: Topic authorization failed'), 'error');
  assert.equal(error('Runner', 'Error when calling eachBatch'), 'error');
  assert.equal(error('Producer', 'Failed to execute listener: boom'), 'error');
  assert.equal(kafkaLogLevel({ namespace: 'Producer', level: KafkaLogLevel.WARN, message: 'Limiting retries for the idempotent producer may invalidate EoS guarantees' }), 'warn');
  assert.equal(kafkaLogLevel({ namespace: 'Consumer', level: KafkaLogLevel.INFO, message: 'Starting' }), 'info');
});
