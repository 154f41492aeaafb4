import { StingerError } from '@stinger/retry';

/** Errors of the agent API; callers read `retriable`, nothing else. */
export class AgentApiError extends StingerError {}

/** An address that is not host:port. */
export class AgentApiAddressError extends AgentApiError {}

/** The server could not bind its address (in use, not permitted). Retriable: the port may be freed. */
export class AgentApiBindError extends AgentApiError {
  constructor(message: string, options: { readonly cause?: unknown } = {}) {
    super(message, { ...options, retriable: true });
  }
}

/** A filter the server refuses (an unknown event kind). */
export class AgentApiFilterError extends AgentApiError {}

/** A call from createAgentApiClient failed; `code` is the gRPC status code. */
export class AgentApiCallError extends AgentApiError {
  readonly code: number;

  constructor(message: string, options: { readonly code: number; readonly retriable: boolean; readonly cause?: unknown }) {
    super(message, options);
    this.code = options.code;
  }
}
