/**
 * Free loopback ports for etcd (client, peer) and kube-apiserver (secure port). A port counts as free when this
 * process can bind it; the window between the check and the component binding it is covered by reporting a bind
 * failure as a retriable start error.
 */
import { createServer } from 'node:net';

/** True when `port` can be bound on `host` right now. */
export async function isPortFree(port: number, host: string): Promise<boolean> {
  try {
    await releaseAfterBinding(port, host);
    return true;
  } catch {
    return false;
  }
}

/** `count` distinct ports the kernel considers free on `host` at this moment. */
export async function freePorts(host: string, count: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < count) {
    const port = await releaseAfterBinding(0, host);
    if (!ports.includes(port)) ports.push(port);
  }
  return ports;
}

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
