import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chunkByBytes, planTransaction, RecordRejectedError, whileTransactionsConcurrent, type OutputRecord } from './transform.ts';
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
