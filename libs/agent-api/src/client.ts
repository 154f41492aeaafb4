/**
 * createAgentApiClient: a typed client of the agent's local API, for the CLI and tests.
 * Errors are AgentApiCallError with the gRPC status code; UNAVAILABLE and DEADLINE_EXCEEDED are retriable.
 */
import { Client, credentials, Metadata, status, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import { AgentApiCallError } from './errors.ts';
import type { EventFilter } from './event-filter.ts';
import type { AgentHealthReport, PolicyStatusView } from './types.ts';
import { agentServiceDefinition, healthFromWire, policyFromWire, type Empty, type WireEventEnvelope } from './wire.ts';

export interface EventEnvelopeView {
  readonly kind: string;
  readonly seq: bigint;
  /** RFC 3339 with nanoseconds. */
  readonly time: string;
  readonly node: string;
  /** The event's JSON rendering (renderEventJson), one object. */
  readonly json: string;
  /** Events of this stream dropped just before this one because the client read too slowly. */
  readonly dropped: number;
}

export interface EventSubscription extends AsyncIterable<EventEnvelopeView> {
  /** Resolves once the agent registered the stream (events published from then on reach it); rejects if the call fails first. */
  readonly ready: Promise<void>;
  /** Ends the stream; iteration then finishes. */
  cancel(): void;
}

export interface AgentApiClientCallOptions {
  /** Deadline of a unary call in ms. Default 5,000. */
  readonly timeoutMs?: number;
}

export interface AgentApiClient {
  getHealth(options?: AgentApiClientCallOptions): Promise<AgentHealthReport>;
  listPolicies(options?: AgentApiClientCallOptions): Promise<PolicyStatusView[]>;
  getEvents(filter?: EventFilter): EventSubscription;
  close(): void;
}

const RETRIABLE: ReadonlySet<number> = new Set([status.UNAVAILABLE, status.DEADLINE_EXCEEDED, status.RESOURCE_EXHAUSTED]);

function callError(method: string, error: ServiceError): AgentApiCallError {
  return new AgentApiCallError(`${method}: ${error.details || error.message}`, {
    code: error.code,
    retriable: RETRIABLE.has(error.code),
    cause: error,
  });
}

function envelopeFromWire(wire: WireEventEnvelope): EventEnvelopeView {
  return {
    kind: wire.kind,
    seq: BigInt(wire.seq),
    time: wire.time,
    node: wire.node,
    json: wire.json,
    dropped: Number(wire.dropped),
  };
}

export function createAgentApiClient(address: string): AgentApiClient {
  const service = agentServiceDefinition();
  const client = new Client(address, credentials.createInsecure());

  function unary<Response>(method: 'GetHealth' | 'ListPolicies', timeoutMs: number): Promise<Response> {
    const definition = service[method];
    return new Promise((resolve, reject) => {
      client.makeUnaryRequest<Empty, Response>(
        definition.path,
        definition.requestSerialize,
        definition.responseDeserialize as (bytes: Buffer) => Response,
        {},
        new Metadata(),
        { deadline: Date.now() + timeoutMs },
        (error, response) => {
          if (error) reject(callError(method, error));
          else if (response === undefined) reject(new AgentApiCallError(`${method}: empty response`, { code: status.INTERNAL, retriable: false }));
          else resolve(response);
        },
      );
    });
  }

  return {
    async getHealth({ timeoutMs = 5_000 } = {}) {
      return healthFromWire(await unary('GetHealth', timeoutMs));
    },

    async listPolicies({ timeoutMs = 5_000 } = {}) {
      const response = await unary<{ policies: Parameters<typeof policyFromWire>[0][] }>('ListPolicies', timeoutMs);
      return response.policies.map(policyFromWire);
    },

    getEvents(filter = {}) {
      const definition = service.GetEvents;
      const call: ClientReadableStream<WireEventEnvelope> = client.makeServerStreamRequest(
        definition.path,
        definition.requestSerialize,
        definition.responseDeserialize,
        { kinds: [...(filter.kinds ?? [])], binary_contains: filter.binaryContains ?? '', pid: filter.pid ?? 0, exec_id: filter.execId ?? '' },
        new Metadata(),
      );
      let cancelled = false;
      const ready = new Promise<void>((resolve, reject) => {
        call.once('metadata', () => resolve());
        call.once('error', (error: ServiceError) => reject(callError('GetEvents', error)));
      });
      // A caller that never awaits `ready` must not see an unhandled rejection.
      ready.catch(() => {});
      async function* iterate(): AsyncGenerator<EventEnvelopeView> {
        try {
          for await (const wire of call as AsyncIterable<WireEventEnvelope>) yield envelopeFromWire(wire);
        } catch (error) {
          if (cancelled && (error as ServiceError).code === status.CANCELLED) return;
          throw callError('GetEvents', error as ServiceError);
        } finally {
          cancelled = true;
          call.cancel();
        }
      }
      return {
        ready,
        cancel() {
          cancelled = true;
          call.cancel();
        },
        [Symbol.asyncIterator]: iterate,
      };
    },

    close() {
      client.close();
    },
  };
}
