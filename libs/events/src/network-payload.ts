// The flow fields of a NetworkPayload (socket_cookie, bytes and packets both ways, flow_state, flow_start) are
// set only for kind flow. Writers of the other network kinds (connect, accept, listen, bind) spread NO_FLOW.
import type { NetworkPayload } from './generated/types.ts';

export type NetworkFlowFields = Pick<
  NetworkPayload,
  'socket_cookie' | 'bytes_sent' | 'bytes_received' | 'packets_sent' | 'packets_received' | 'flow_state' | 'flow_start'
>;

/** Every flow field null: what a connect, accept, listen or bind payload carries. */
export const NO_FLOW: Readonly<NetworkFlowFields> = Object.freeze({
  socket_cookie: null,
  bytes_sent: null,
  bytes_received: null,
  packets_sent: null,
  packets_received: null,
  flow_state: null,
  flow_start: null,
});
