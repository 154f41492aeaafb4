import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isLoopbackHost, parseHostPort } from './host-port.ts';

test('host:port, [v6]:port; anything else is null', () => {
  assert.deepEqual(parseHostPort('127.0.0.1:9092'), { host: '127.0.0.1', port: 9092 });
  assert.deepEqual(parseHostPort('kafka-1.example:19092'), { host: 'kafka-1.example', port: 19092 });
  assert.deepEqual(parseHostPort('[::1]:9464'), { host: '::1', port: 9464 });
  for (const bad of ['localhost', 'h:70000', ':9092', 'a b:1', '::1:9464', 'h:']) assert.equal(parseHostPort(bad), null, bad);
});

test('loopback hosts', () => {
  assert.ok(isLoopbackHost('127.0.0.2') && isLoopbackHost('::1') && isLoopbackHost('localhost'));
  assert.ok(!isLoopbackHost('0.0.0.0') && !isLoopbackHost('10.0.0.1'));
});
