import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSseParser, type SseMessage } from './sse.ts';

test('messages split across chunks, with comments, CRLF and multi-line data, come out whole', () => {
  const messages: SseMessage[] = [];
  const parser = createSseParser((m) => messages.push(m));
  parser.push(': keep-alive\n\nevent: ev');
  parser.push('ent\ndata: {"a":1}\n');
  parser.push('\r\ndata: line one\r\ndata: line two\r\n\r\n');
  parser.push('event: alert\ndata:{"b":2}\n\nevent: enforcement\n');
  assert.deepEqual(messages, [
    { event: 'event', data: '{"a":1}' },
    { event: 'message', data: 'line one\nline two' },
    { event: 'alert', data: '{"b":2}' },
  ]);
});

test('an event name without data dispatches nothing', () => {
  const messages: SseMessage[] = [];
  const parser = createSseParser((m) => messages.push(m));
  parser.push('event: event\n\n');
  assert.deepEqual(messages, []);
});
