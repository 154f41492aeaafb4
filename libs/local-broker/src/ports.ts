/**
 * Port choice for the broker's two listeners. A port counts as free when this process can bind it on the broker's
 * address; there is an unavoidable window between the check and the JVM binding it, which the caller covers by
 * reporting a bind failure as a retriable start error.
 */
import { freePort, isPortFree } from '@stinger/processes';
import { BrokerStartError } from './errors.ts';

/** Kafka's conventional client port, taken when nothing else holds it. */
export const DEFAULT_BROKER_PORT = 9092;

export interface BrokerPorts {
  readonly port: number;
  readonly controllerPort: number;
  /** True when `port` is not the one asked for (or 9092 when none was asked for) because that one was taken. */
  readonly fellBack: boolean;
}

/** True when `port` can be bound on `host` right now. */
export interface ChooseBrokerPortsOptions {
  readonly host: string;
  /** A port the caller insists on: taken means an error rather than another port. */
  readonly port?: number | undefined;
  /** Tried first when `port` is not given. */
  readonly preferredPort?: number;
}

/** The client port (the requested one, else the preferred one if free, else any free one) and a controller port. */
export async function chooseBrokerPorts(options: ChooseBrokerPortsOptions): Promise<BrokerPorts> {
  const { host, port: requested, preferredPort = DEFAULT_BROKER_PORT } = options;
  let port: number;
  let fellBack = false;
  if (requested !== undefined) {
    if (!(await isPortFree(requested, host))) {
      throw new BrokerStartError(`port ${host}:${requested} was asked for but is already in use`);
    }
    port = requested;
  } else if (await isPortFree(preferredPort, host)) {
    port = preferredPort;
  } else {
    port = await freePort(host);
    fellBack = true;
  }
  let controllerPort = await freePort(host);
  while (controllerPort === port) controllerPort = await freePort(host);
  return { port, controllerPort, fellBack };
}
