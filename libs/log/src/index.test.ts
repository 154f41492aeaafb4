import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger, namespaced } from './index.ts';

test('nested namespaces join with dots and appear once per line', () => {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const root = createLogger({ name: 'agent', destination });
  namespaced(namespaced(root, 'Kafka'), 'Producer').info('hello');
  assert.equal(lines.length, 1);
  const line = lines[0] ?? '';
  assert.equal(line.match(/"ns":/g)?.length, 1);
  assert.equal(JSON.parse(line).ns, 'Kafka.Producer');
  assert.equal(JSON.parse(line).name, 'agent');
});
