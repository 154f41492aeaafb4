import { AgentApiAddressError } from './errors.ts';

export interface HostPort {
  /** Without brackets for IPv6. */
  readonly host: string;
  readonly port: number;
}

/** Parses `host:port` or `[v6]:port` (the form of config.agent.grpcAddress / metricsAddress). */
export function parseHostPort(address: string): HostPort {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.\-_]+)):(\d{1,5})$/.exec(address);
  const port = Number(match?.[3]);
  const host = match?.[1] ?? match?.[2];
  if (host === undefined || !(port <= 65535)) throw new AgentApiAddressError(`"${address}" is not host:port`);
  return { host, port };
}

/** Whether only this machine can reach the host: the API and metrics carry no authentication. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
