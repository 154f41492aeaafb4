/**
 * Free TCP ports on a host. A port counts as free when this process can bind it right now; callers cover
 * the window before their daemon binds it by treating a bind failure as a retriable start error.
 */
import { createServer } from 'node:net';

function releaseAfterBinding(port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port, host, exclusive: true }, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address !== null ? address.port : port;
      server.close(() => resolve(bound));
    });
  });
}

/** True when `port` can be bound on `host` right now. */
export async function isPortFree(port: number, host: string): Promise<boolean> {
  try {
    await releaseAfterBinding(port, host);
    return true;
  } catch {
    return false;
  }
}

/** A port the kernel considers free on `host` at this moment. */
export function freePort(host: string): Promise<number> {
  return releaseAfterBinding(0, host);
}

/** `count` distinct free ports on `host`. */
export async function freePorts(host: string, count: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < count) {
    const port = await freePort(host);
    if (!ports.includes(port)) ports.push(port);
  }
  return ports;
}
