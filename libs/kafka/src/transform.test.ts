import { test } from 'node:test';
import assert from 'node:assert/strict';
import kafkajs from 'kafkajs';
import { SchemaIncompatibleError, SchemaRegistryError } from '@stinger/schema-registry';
import { OutputSchemaRefusedError } from './errors.ts';
import { batchFailure, chunkByBytes, outputSchemaRefusal, planTransaction, RecordRejectedError, whileTransactionsConcurrent, type OutputRecord } from './transform.ts';
import type { ConsumedRecord } from './consumer.ts';

function record(offset: bigint, value: string): ConsumedRecord {
  return { topic: 'in', partition: 0, offset, key: null, value: Buffer.from(value), headers: {}, timestampMs: 0 };
}

const upper = (r: ConsumedRecord): OutputRecord[] => {
  const text = r.value?.toString() ?? '';
  if (text === 'bad') throw new RecordRejectedError('not decodable');
  if (text === 'boom') throw new Error('transient');
  return [{ topic: 'out', key: null, value: Buffer.from(text.toUpperCase()) }];
};
const toDlq = (r: ConsumedRecord, e: RecordRejectedError): OutputRecord => ({ topic: 'dlq', key: r.topic, value: Buffer.from(e.reason) });

test('plan commits every output and the offset one past the batch', () => {
  const plan = planTransaction([record(10n, 'a'), record(11n, 'b')], upper, toDlq);
  assert.deepEqual(plan.outputs.map((o) => [o.topic, o.value?.toString()]), [['out', 'A'], ['out', 'B']]);
  assert.equal(plan.nextOffset, 12n);
  assert.equal(plan.rejected, 0);
});

test('a rejected record goes to the dead-letter topic with its reason, in order, and the rest still commit', () => {
  const plan = planTransaction([record(1n, 'a'), record(2n, 'bad'), record(3n, 'c')], upper, toDlq);
  assert.deepEqual(plan.outputs.map((o) => [o.topic, o.value?.toString()]), [['out', 'A'], ['dlq', 'not decodable'], ['out', 'C']]);
  assert.equal(plan.rejected, 1);
  assert.equal(plan.nextOffset, 4n);
});

test('any other error aborts the whole batch', () => {
  assert.throws(() => planTransaction([record(1n, 'a'), record(2n, 'boom')], upper, toDlq), /transient/);
});

test('an empty batch is a programming error', () => {
  assert.throws(() => planTransaction([], upper, toDlq), RangeError);
});

test('rejections are not retriable', () => {
  assert.equal(new RecordRejectedError('x').retriable, false);
});

test('outputs are sent in chunks that keep order and stay under the byte bound', () => {
  const out = (n: number): OutputRecord => ({ topic: 't', key: 'k', value: Buffer.alloc(n) });
  const chunks = chunkByBytes([out(300), out(300), out(300), out(2000), out(10)], 700);
  assert.deepEqual(chunks.map((c) => c.map((r) => r.value?.length)), [[300, 300], [300], [2000], [10]]);
  assert.deepEqual(chunkByBytes([], 700), []);
});

test('whileTransactionsConcurrent retries only CONCURRENT_TRANSACTIONS, and gives up after its attempts', async () => {
  const concurrent = Object.assign(new Error('The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing'), { type: 'CONCURRENT_TRANSACTIONS' });
  let calls = 0;
  assert.equal(await whileTransactionsConcurrent(async () => (++calls < 3 ? Promise.reject(concurrent) : 'done')), 'done');
  assert.equal(calls, 3);
  calls = 0;
  await assert.rejects(whileTransactionsConcurrent(async () => (++calls, Promise.reject(new Error('other')))), /other/);
  assert.equal(calls, 1, 'anything else is not retried');
  calls = 0;
  await assert.rejects(whileTransactionsConcurrent(async () => (++calls, Promise.reject(concurrent)), 3), /concurrent operation/);
  assert.equal(calls, 3);
});

const refused = new SchemaIncompatibleError('schema registry refused io.stinger.v1.Event for subject p.stinger.events-value: Incompatible schema (missing default)', {
  subject: 'p.stinger.events-value',
  errorCode: 409,
});

test('a refused output schema is a fatal stop: one line naming the topic, the subject, the reason and what to do', () => {
  const fatal = outputSchemaRefusal(refused, 'p.stinger.events');
  assert.ok(fatal instanceof OutputSchemaRefusedError);
  assert.equal(fatal.retriable, false);
  assert.equal(fatal.topic, 'p.stinger.events');
  assert.equal(fatal.subject, 'p.stinger.events-value');
  assert.equal(fatal.cause, refused);
  assert.equal(fatal.message.includes('\n'), false, 'one line');
  assert.match(fatal.message, /^cannot write p\.stinger\.events: schema registry refused io\.stinger\.v1\.Event for subject p\.stinger\.events-value: Incompatible schema \(missing default\); /);
  assert.match(fatal.message, /without committing the batch/);
  assert.match(fatal.message, /register a compatible schema under p\.stinger\.events-value or change its compatibility, then restart$/);
});

test('a refusal wrapped as a cause is found; anything else (registry down, a broker error) is retried, not fatal', () => {
  assert.ok(outputSchemaRefusal(new Error('framing failed', { cause: refused }), 'p.stinger.alerts') instanceof OutputSchemaRefusedError);
  assert.equal(outputSchemaRefusal(new SchemaRegistryError('schema registry unreachable', { status: null, retriable: true }), 'p.stinger.events'), null);
  assert.equal(outputSchemaRefusal(new SchemaRegistryError('schema registry answered 500', { status: 500, retriable: true }), 'p.stinger.events'), null);
  assert.equal(outputSchemaRefusal(new Error('transient'), 'p.stinger.events'), null);
  assert.equal(outputSchemaRefusal('not an error', 'p.stinger.events'), null);
});

/** A kafkajs protocol error as the broker's answer becomes one (kafkajs calls UNKNOWN_MEMBER_ID not retriable). */
function brokerAnswer(type: string, code: number): Error {
  return new kafkajs.KafkaJSProtocolError({ message: `broker answered ${type}`, type, code, retriable: false } as unknown as string);
}

test('a failed batch is always retriable, so kafkajs retries and restarts its consumer instead of stopping it for good', () => {
  for (const cause of [brokerAnswer('INVALID_TXN_STATE', 48), new Error('Cannot call beginTransaction in state ABORTING'), new TypeError('x')]) {
    const failure = batchFailure('transaction aborted', cause, { topic: 'in', partition: 3 });
    assert.equal(failure.retriable, true, String(cause));
    assert.equal(failure.cause, cause);
    assert.equal((failure as { type?: string }).type, undefined, 'no group-membership type for other causes');
    assert.deepEqual([failure.topic, failure.partition], ['in', 3]);
  }
});

test("a failed batch whose cause is a group-membership answer carries its kafkajs type, so kafkajs's runner re-joins the group", () => {
  for (const [type, code] of [['UNKNOWN_MEMBER_ID', 25], ['ILLEGAL_GENERATION', 22], ['REBALANCE_IN_PROGRESS', 27], ['NOT_COORDINATOR_FOR_GROUP', 16]] as const) {
    // As thrown through kafkajs's own retrier: the broker's answer is the cause of a wrapper.
    const wrapped = new Error('retries exceeded', { cause: brokerAnswer(type, code) });
    const failure = batchFailure('transaction aborted', wrapped, { topic: 'in', partition: 0 });
    assert.equal((failure as { type?: string }).type, type);
    assert.equal(failure.retriable, true);
  }
});
