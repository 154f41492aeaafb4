import { AgentApiAddressError } from './errors.ts';
import { parseHostPort as parseAddressText, type HostPort } from '@stinger/net-address';

export { isLoopbackHost } from '@stinger/net-address';

/** Parses `host:port` or `[v6]:port` (the form of config.agent.grpcAddress / metricsAddress). */
export function parseHostPort(address: string): HostPort {
  const parsed = parseAddressText(address);
  if (parsed === null) throw new AgentApiAddressError(`"${address}" is not host:port`);
  return parsed;
}
