/**
 * `host:port` text, as every listening address and broker list of the project is written: a name or IPv4 address,
 * or a bracketed IPv6 address (`[::1]:9464`). One parser, so that what config accepts is what the servers bind.
 */

export interface HostPort {
  /** Without brackets for IPv6. */
  readonly host: string;
  readonly port: number;
}

const HOST_PORT = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.\-_]+)):(\d{1,5})$/;

/** The host and port of `text`, or null when it is not `host:port` with a port of at most 65535. */
export function parseHostPort(text: string): HostPort | null {
  const match = HOST_PORT.exec(text);
  const host = match?.[1] ?? match?.[2];
  const port = Number(match?.[3]);
  return host === undefined || !(port <= 65535) ? null : { host, port };
}

/** Whether only this machine can reach the host (servers without authentication stay on loopback by default). */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
