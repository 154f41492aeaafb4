import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import {
  decodeApiVersionsResponse,
  encodeApiVersionsRequest,
  probeApiVersions,
  responseFrameLength,
} from './api-versions-probe.ts';

test('encodeApiVersionsRequest lays out a size-prefixed v0 header with the client id', () => {
  const frame = encodeApiVersionsRequest(0x01020304, 'ab');
  assert.deepEqual([...frame], [0, 0, 0, 12, 0, 18, 0, 0, 1, 2, 3, 4, 0, 2, 0x61, 0x62]);
});

function response(correlationId: number, errorCode: number, apis: Array<[number, number, number]>): Buffer {
  const body = Buffer.alloc(10 + apis.length * 6);
  body.writeInt32BE(correlationId, 0);
  body.writeInt16BE(errorCode, 4);
  body.writeInt32BE(apis.length, 6);
  apis.forEach(([key, min, max], i) => {
    body.writeInt16BE(key, 10 + i * 6);
    body.writeInt16BE(min, 12 + i * 6);
    body.writeInt16BE(max, 14 + i * 6);
  });
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length, 0);
  return Buffer.concat([size, body]);
}

test('decodeApiVersionsResponse reads the error code and every api range', () => {
  const frame = response(7, 0, [[0, 3, 12], [18, 0, 4]]);
  assert.equal(responseFrameLength(frame), frame.length);
  assert.deepEqual(decodeApiVersionsResponse(frame, 7), {
    errorCode: 0,
    apis: [
      { apiKey: 0, minVersion: 3, maxVersion: 12 },
      { apiKey: 18, minVersion: 0, maxVersion: 4 },
    ],
  });
});

test('decodeApiVersionsResponse refuses a foreign correlation id and a truncated array', () => {
  assert.throws(() => decodeApiVersionsResponse(response(8, 0, []), 7), /correlation id 8, expected 7/);
  const frame = response(7, 0, [[0, 0, 1]]);
  frame.writeInt32BE(5, 10);
  assert.throws(() => decodeApiVersionsResponse(frame, 7), /array of 5 does not fit/);
});

test('responseFrameLength waits for the whole length prefix', () => {
  assert.equal(responseFrameLength(Buffer.from([0, 0, 0])), null);
  assert.equal(responseFrameLength(Buffer.from([0, 0, 0, 10])), 14);
});

test('probeApiVersions rejects quickly when nothing listens', async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  await new Promise((resolve) => server.close(resolve));
  await assert.rejects(probeApiVersions({ host: '127.0.0.1', port: address.port, timeoutMs: 500 }), /ECONNREFUSED/);
});

test('probeApiVersions times out against a listener that never answers', async () => {
  const server = createServer(() => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  try {
    await assert.rejects(probeApiVersions({ host: '127.0.0.1', port: address.port, timeoutMs: 200 }), /within 200 ms/);
  } finally {
    server.close();
  }
});
