/**
 * createAgentApiServer: the agent's local gRPC API (AgentService of proto/stinger/agent/v1/agent.proto).
 *
 * Contract with the agent: `publishEvent` is called synchronously for every RawEvent after sequencing
 * (AgentPipeline's `observe` hook). It returns at once: with no GetEvents client it does nothing; with
 * clients it evaluates each client's filter and queues a reference (see EventStream). `sources` is read
 * on each GetHealth / ListPolicies call. No authentication: bind to loopback (the default address).
 */
import {
  Metadata,
  Server,
  ServerCredentials,
  status,
  type sendUnaryData,
  type ServerUnaryCall,
  type ServerWritableStream,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import type { RawEvent } from '@stinger/events';
import { namespaced, type Logger } from '@stinger/log';
import { isLoopbackHost, parseHostPort } from './address.ts';
import { AgentApiBindError, AgentApiFilterError } from './errors.ts';
import { compileEventFilter, toEventKinds } from './event-filter.ts';
import { EventStream, PublishedEvent } from './event-stream.ts';
import type { AgentApiSources } from './types.ts';
import {
  agentServiceDefinition,
  healthToWire,
  policyToWire,
  type Empty,
  type WireEventEnvelope,
  type WireGetEventsRequest,
  type WireHealth,
  type WireListPoliciesResponse,
} from './wire.ts';

export const DEFAULT_AGENT_API_ADDRESS = '127.0.0.1:50051';

export interface AgentApiServerOptions {
  /** host:port; port 0 picks a free port (start() returns it). Default 127.0.0.1:50051 (config.agent.grpcAddress). */
  readonly address?: string;
  readonly sources: AgentApiSources;
  readonly logger: Logger;
  /** Events each GetEvents stream may hold while its client is slow; more are dropped and counted. Default 10,000. */
  readonly streamBufferEvents?: number;
  /** How long stop() lets calls finish before cutting them. Default 2,000 ms. */
  readonly shutdownGraceMs?: number;
}

export interface AgentApiServer {
  start(): Promise<{ readonly port: number }>;
  /** Ends every event stream, then shuts the server down. Idempotent. */
  stop(): Promise<void>;
  /** Hands one event to the GetEvents streams whose filter it matches. Never blocks, never throws. */
  publishEvent(event: RawEvent): void;
  /** Open GetEvents streams. */
  readonly eventStreams: number;
}

export function createAgentApiServer(options: AgentApiServerOptions): AgentApiServer {
  const { address = DEFAULT_AGENT_API_ADDRESS, sources, streamBufferEvents = 10_000, shutdownGraceMs = 2_000 } = options;
  const logger = namespaced(options.logger, 'AgentApiServer');
  const { host } = parseHostPort(address);
  const streams = new Set<EventStream>();
  const calls = new Set<ServerWritableStream<WireGetEventsRequest, WireEventEnvelope>>();
  let streamDropped = 0;
  let server: Server | null = null;
  let stopping: Promise<void> | null = null;

  const onDrop = (): void => {
    streamDropped += 1;
  };

  function getEvents(call: ServerWritableStream<WireGetEventsRequest, WireEventEnvelope>): void {
    let matches;
    try {
      const request = call.request;
      matches = compileEventFilter({
        kinds: toEventKinds(request.kinds),
        binaryContains: request.binary_contains,
        pid: request.pid,
        execId: request.exec_id,
      });
    } catch (error) {
      const details = error instanceof AgentApiFilterError ? error.message : String(error);
      call.emit('error', { code: status.INVALID_ARGUMENT, details });
      return;
    }
    const stream = new EventStream({ writer: call, matches, capacity: streamBufferEvents, onDrop });
    streams.add(stream);
    calls.add(call);
    let closed = false;
    const close = (): void => {
      if (closed) return;
      closed = true;
      stream.close();
      streams.delete(stream);
      calls.delete(call);
      logger.debug({ peer: call.getPeer(), dropped: stream.dropped }, 'event stream closed');
    };
    call.on('cancelled', close);
    call.on('close', close);
    call.on('error', close);
    call.on('finish', close);
    // Headers now tell the client the stream is registered: events published from here on reach it.
    call.sendMetadata(new Metadata());
    logger.debug({ peer: call.getPeer(), filter: call.request }, 'event stream opened');
  }

  function getHealth(_call: ServerUnaryCall<Empty, WireHealth>, callback: sendUnaryData<WireHealth>): void {
    try {
      callback(null, healthToWire({ ...sources.health(), eventStreams: streams.size, eventStreamDropped: streamDropped }));
    } catch (error) {
      logger.error({ err: error }, 'health source failed');
      callback({ code: status.INTERNAL, details: `health source failed: ${String(error)}` });
    }
  }

  function listPolicies(_call: ServerUnaryCall<Empty, WireListPoliciesResponse>, callback: sendUnaryData<WireListPoliciesResponse>): void {
    try {
      callback(null, { policies: sources.policies().map(policyToWire) });
    } catch (error) {
      logger.error({ err: error }, 'policy source failed');
      callback({ code: status.INTERNAL, details: `policy source failed: ${String(error)}` });
    }
  }

  const implementation: UntypedServiceImplementation = {
    GetEvents: getEvents,
    GetHealth: getHealth,
    ListPolicies: listPolicies,
  };

  return {
    async start() {
      if (server) throw new AgentApiBindError('agent API server already started');
      const created = new Server();
      // proto-loader types every method as MethodDefinition<object, object>; the shapes are the .proto's.
      created.addService(agentServiceDefinition() as never, implementation);
      const port = await new Promise<number>((resolve, reject) => {
        created.bindAsync(address, ServerCredentials.createInsecure(), (error, bound) => {
          if (error) reject(new AgentApiBindError(`cannot bind the agent API to ${address}: ${error.message}`, { cause: error }));
          else resolve(bound);
        });
      });
      server = created;
      if (!isLoopbackHost(host)) logger.warn({ address }, 'agent API bound beyond loopback: it has no authentication');
      logger.info({ address, port }, 'agent API listening');
      return { port };
    },

    stop() {
      stopping ??= (async () => {
        const current = server;
        if (!current) return;
        for (const call of calls) call.end();
        for (const stream of streams) stream.close();
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            current.forceShutdown();
            resolve();
          }, shutdownGraceMs);
          current.tryShutdown(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      })();
      return stopping;
    },

    publishEvent(event) {
      if (streams.size === 0) return;
      let published: PublishedEvent | null = null;
      for (const stream of streams) {
        if (!stream.matches(event)) continue;
        published ??= new PublishedEvent(event);
        stream.offer(published);
      }
    },

    get eventStreams() {
      return streams.size;
    },
  };
}
