import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '@stinger/log';
import { groupByTopic, sendUntilDelivered, type ProducerRecord, type StingerProducer } from './producer.ts';

test('groupByTopic keeps enqueue order within each topic', () => {
  const v = (s: string) => ({ key: null, value: Buffer.from(s) });
  const grouped = groupByTopic([
    { topic: 'a', record: v('1') },
    { topic: 'b', record: v('2') },
    { topic: 'a', record: v('3') },
  ]);
  assert.deepEqual([...grouped.keys()], ['a', 'b']);
  assert.deepEqual(grouped.get('a')?.map((r) => r.value?.toString()), ['1', '3']);
});

/** A producer whose first `failures` sends fail as a broker outage would; it records what each send carried. */
function flakyProducer(failures: number): { producer: StingerProducer; sends: string[][] } {
  const sends: string[][] = [];
  const producer = {
    async send(topic: string, records: readonly ProducerRecord[]) {
      sends.push(records.map((r) => `${topic}:${r.value?.toString() ?? ''}`));
      if (sends.length <= failures) throw new Error('NOT_ENOUGH_REPLICAS after the client retries');
    },
  } as unknown as StingerProducer;
  return { producer, sends };
}

test('sendUntilDelivered sends the same records again until the brokers take them', async () => {
  const { producer, sends } = flakyProducer(2);
  const records = [{ key: 'a1', value: Buffer.from('outcome') }];
  await sendUntilDelivered({ producer, logger: silentLogger(), stopping: () => false }, 'enforcements', records);
  assert.deepEqual(sends, [['enforcements:outcome'], ['enforcements:outcome'], ['enforcements:outcome']]);
});

test('sendUntilDelivered gives up with the error once the process is stopping, and sends nothing for no records', async () => {
  const { producer, sends } = flakyProducer(Infinity);
  let stopping = false;
  const attempt = sendUntilDelivered({ producer, logger: silentLogger(), stopping: () => stopping }, 'control', [{ key: 'n', value: Buffer.from('kill') }]);
  stopping = true;
  await assert.rejects(attempt, /NOT_ENOUGH_REPLICAS/);
  assert.equal(sends.length, 1);
  await sendUntilDelivered({ producer, logger: silentLogger(), stopping: () => false }, 'control', []);
  assert.equal(sends.length, 1);
});
