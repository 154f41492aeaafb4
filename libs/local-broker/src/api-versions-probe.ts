/**
 * Readiness probe that speaks the Kafka protocol itself: one ApiVersions v0 request over a raw socket. A broker
 * answers it only once its request processing is enabled, which in KRaft happens after it has joined the quorum and
 * caught up on metadata, so an answer means clients can work. No Kafka client library is needed (kafkajs is confined
 * to libs/kafka).
 *
 * Wire format (Kafka protocol guide): request = size:int32, api_key:int16 (18), api_version:int16 (0),
 * correlation_id:int32, client_id:int16-length string; response v0 = size:int32, correlation_id:int32,
 * error_code:int16, [api_key:int16, min_version:int16, max_version:int16] as int32-counted array.
 */
import { connect } from 'node:net';

export const API_VERSIONS_KEY = 18;

export interface ApiVersionRange {
  readonly apiKey: number;
  readonly minVersion: number;
  readonly maxVersion: number;
}

export interface ApiVersionsAnswer {
  readonly errorCode: number;
  readonly apis: readonly ApiVersionRange[];
}

export function encodeApiVersionsRequest(correlationId: number, clientId: string): Buffer {
  const client = Buffer.from(clientId, 'utf8');
  const body = Buffer.alloc(2 + 2 + 4 + 2 + client.length);
  body.writeInt16BE(API_VERSIONS_KEY, 0);
  body.writeInt16BE(0, 2);
  body.writeInt32BE(correlationId, 4);
  body.writeInt16BE(client.length, 8);
  client.copy(body, 10);
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length, 0);
  return Buffer.concat([size, body]);
}

/** Size of the complete response at the start of `data`, or null while the 4-byte length prefix is incomplete. */
export function responseFrameLength(data: Buffer): number | null {
  return data.length < 4 ? null : 4 + data.readInt32BE(0);
}

/** Decodes one complete size-prefixed ApiVersions v0 response; throws on a malformed or mismatched frame. */
export function decodeApiVersionsResponse(frame: Buffer, expectedCorrelationId: number): ApiVersionsAnswer {
  if (frame.length < 14) throw new Error(`ApiVersions response of ${frame.length} bytes is too short`);
  const size = frame.readInt32BE(0);
  if (size !== frame.length - 4) throw new Error(`ApiVersions response says ${size} bytes but has ${frame.length - 4}`);
  const correlationId = frame.readInt32BE(4);
  if (correlationId !== expectedCorrelationId) {
    throw new Error(`ApiVersions response has correlation id ${correlationId}, expected ${expectedCorrelationId}`);
  }
  const errorCode = frame.readInt16BE(8);
  const count = frame.readInt32BE(10);
  if (count < 0 || 14 + count * 6 > frame.length) throw new Error(`ApiVersions response array of ${count} does not fit`);
  const apis: ApiVersionRange[] = [];
  for (let i = 0, at = 14; i < count; i += 1, at += 6) {
    apis.push({ apiKey: frame.readInt16BE(at), minVersion: frame.readInt16BE(at + 2), maxVersion: frame.readInt16BE(at + 4) });
  }
  return { errorCode, apis };
}

export interface ProbeOptions {
  readonly host: string;
  readonly port: number;
  readonly timeoutMs?: number;
}

/**
 * Sends one ApiVersions v0 request and resolves with the decoded answer. Rejects on refusal, reset, timeout or a
 * malformed answer; the socket is always destroyed.
 */
export function probeApiVersions(options: ProbeOptions): Promise<ApiVersionsAnswer> {
  const { host, port, timeoutMs = 2000 } = options;
  const correlationId = Math.floor(Math.random() * 0x7fffffff);
  return new Promise((resolve, reject) => {
    let received = Buffer.alloc(0);
    const socket = connect({ host, port });
    const finish = (error: Error | null, answer?: ApiVersionsAnswer): void => {
      socket.destroy();
      if (error) reject(error);
      else if (answer) resolve(answer);
    };
    socket.setTimeout(timeoutMs, () => finish(new Error(`no ApiVersions answer from ${host}:${port} within ${timeoutMs} ms`)));
    socket.once('error', (error) => finish(error));
    socket.once('close', () => finish(new Error(`${host}:${port} closed the connection before answering ApiVersions`)));
    socket.once('connect', () => socket.write(encodeApiVersionsRequest(correlationId, 'stinger-local-broker-probe')));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const length = responseFrameLength(received);
      if (length === null || received.length < length) return;
      try {
        finish(null, decodeApiVersionsResponse(received.subarray(0, length), correlationId));
      } catch (error) {
        finish(error instanceof Error ? error : new Error(String(error)));
      }
    });
  });
}
