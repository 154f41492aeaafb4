import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { parseFilters, type EventRow } from '@stinger/console-api';
import { createLogger } from '@stinger/log';
import { createLiveHub } from './index.ts';

/** The part of a ServerResponse the hub uses; `writableLength` is what the client has not read yet. */
class FakeResponse extends EventEmitter {
  written = '';
  writableLength = 0;
  ended = false;
  writeHead(): this {
    return this;
  }
  write(text: string): boolean {
    this.written += text;
    return true;
  }
  end(): void {
    this.ended = true;
    this.emit('close');
  }
}

const row = (pod: string): EventRow => ({
  id: pod,
  time: 1,
  node: 'n',
  kind: 'exec',
  namespace: 'ns',
  pod,
  workload: null,
  container: null,
  pid: 1,
  binary: '/bin/true',
  args: null,
  parentBinary: null,
  ancestry: [],
  summary: '',
  detail: {},
});

test('a subscriber that stops reading is disconnected instead of buffered without bound; others go on', () => {
  const hub = createLiveHub({ logger: createLogger({ name: 'test', level: 'silent' }), maxBufferedBytes: 1000 });
  const slow = new FakeResponse();
  const fast = new FakeResponse();
  const filters = parseFilters(new URLSearchParams(''), 0);
  hub.subscribe(slow as unknown as ServerResponse, filters);
  hub.subscribe(fast as unknown as ServerResponse, filters);
  assert.equal(hub.subscribers, 2);
  hub.publish({ type: 'event', row: row('a') });
  assert.match(slow.written, /event: event\ndata: \{"id":"a"/);
  slow.writableLength = 5000;
  hub.publish({ type: 'event', row: row('b') });
  assert.equal(slow.ended, true);
  assert.equal(hub.subscribers, 1);
  assert.match(fast.written, /"id":"b"/);
  hub.close();
  assert.equal(fast.ended, true);
});
