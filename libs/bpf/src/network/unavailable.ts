/**
 * The network sensor, the connect policy program, the flow counters and the egress parser when they did not load (contract in
 * core/unavailable-sensor.ts): destination rule installs and attaching throw SensorUnavailableError, watch() and
 * removals change nothing, reads are empty.
 */
import { SensorUnavailableError } from '../core/errors.ts';
import { unavailableSensor } from '../core/unavailable-sensor.ts';
import type { DestinationRuleMap } from './rules.ts';
import type { ConnectPolicy, FlowCounters, NetworkSensor } from './sensor.ts';
import type { EgressParser } from './egress-parser.ts';

function refusing(name: string, loadError: unknown): () => never {
  return () => {
    throw new SensorUnavailableError(name, loadError);
  };
}

export function unavailableNetworkSensor(loadError: unknown): NetworkSensor {
  const noDestinations: DestinationRuleMap = {
    add: refusing('network', loadError),
    remove: () => false,
    clear: () => undefined,
    list: () => [],
    size: 0,
  };
  return Object.assign(unavailableSensor('network', loadError), { watch: () => undefined, auditDestinations: noDestinations });
}

export function unavailableConnectPolicy(loadError: unknown): ConnectPolicy {
  const refuse = refusing('connect-policy', loadError);
  return {
    rules: { addDeny: refuse, remove: () => false, clear: () => undefined, list: () => [] },
    attach: refuse,
    detach: () => false,
    attachedTo: [],
    close: () => undefined,
  };
}

/** Counts nothing; `cgroupPath` is empty because nothing is attached anywhere. */
export function unavailableFlowCounters(): FlowCounters {
  const none = (cgroupId: bigint, direction: 'ingress' | 'egress') => ({ cgroupId, direction, bytes: 0n, packets: 0n });
  return {
    cgroupPath: '',
    read: () => [],
    readCgroup: (cgroupId) => ({ ingress: none(cgroupId, 'ingress'), egress: none(cgroupId, 'egress') }),
    forget: () => undefined,
    close: () => undefined,
  };
}

/** Parses nothing; counters are zero and `cgroupPath` is empty because nothing is attached anywhere. */
export function unavailableEgressParser(): EgressParser {
  return {
    cgroupPath: '',
    setRateLimit: () => undefined,
    counters: () => ({ emitted: 0n, rateLimited: 0n, ringFull: 0n, flows: 0n, flowsRateLimited: 0n }),
    rateLimited: () => [],
    close: () => undefined,
  };
}
