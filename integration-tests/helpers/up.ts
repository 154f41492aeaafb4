/**
 * The isolation of one `stinger up` in a test on a shared machine: a STINGER_HOME of its own (state, logs, keys), a
 * topic prefix no other run uses on the test run's broker (KAFKA_BROKERS, so up starts no broker), and free ports for
 * every service's listener.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePorts } from '@stinger/processes';
import { testBrokers, uniqueName } from './kafka.ts';

export interface UpEnvironment {
  readonly home: string;
  readonly prefix: string;
  readonly consolePort: number;
  /** For `stinger up` and `stinger down` (and any other command about that run). */
  readonly env: Record<string, string>;
}

export async function upEnvironment(): Promise<UpEnvironment> {
  const home = mkdtempSync(join(tmpdir(), 'stinger-up-home-'));
  const prefix = `${uniqueName('up')}.`;
  const [grpc, metrics, enricherMetrics, detectorMetrics, enforcerMetrics, policyControllerMetrics, consolePort] = await freePorts('127.0.0.1', 7);
  return {
    home,
    prefix,
    consolePort: consolePort!,
    env: {
      KAFKA_BROKERS: testBrokers(),
      STINGER_TOPIC_PREFIX: prefix,
      STINGER_HOME: home,
      STINGER_AGENT_GRPC_ADDRESS: `127.0.0.1:${grpc}`,
      STINGER_AGENT_METRICS_ADDRESS: `127.0.0.1:${metrics}`,
      STINGER_ENRICHER_METRICS_ADDRESS: `127.0.0.1:${enricherMetrics}`,
      STINGER_DETECTOR_METRICS_ADDRESS: `127.0.0.1:${detectorMetrics}`,
      STINGER_ENFORCER_METRICS_ADDRESS: `127.0.0.1:${enforcerMetrics}`,
      STINGER_POLICY_CONTROLLER_METRICS_ADDRESS: `127.0.0.1:${policyControllerMetrics}`,
      STINGER_CONSOLE_ADDRESS: `127.0.0.1:${consolePort}`,
    },
  };
}

/** The services `stinger up` starts in this build (as root): the console only where its sources are. */
export const UP_SERVICES: readonly string[] = [
  'policy-controller',
  'enricher',
  'detector',
  'enforcer',
  'agent',
  ...(existsSync(fileURLToPath(new URL('../../services/console/src/main.ts', import.meta.url))) ? ['console'] : []),
];

/**
 * Waits until every service a detached `stinger up` under `home` started has logged that it runs, as a user would
 * before `stinger down` (a service signalled while it starts may not stop in time); fails naming those that did not.
 */
export async function waitForUpServices(home: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const isRunning = (service: string): boolean => {
    const log = join(home, 'run', 'logs', `${service}.log`);
    return existsSync(log) && readFileSync(log, 'utf8').includes(`"msg":"${service} running"`);
  };
  while (!UP_SERVICES.every(isRunning)) {
    if (Date.now() > deadline) throw new Error(`not running after ${timeoutMs / 1000} s: ${UP_SERVICES.filter((s) => !isRunning(s)).join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
