/**
 * Where things are in the repository, as seen from the CLI, and which services this build has.
 * Services are separate programs (`services/<name>/src/main.ts`); the CLI starts them as child
 * processes and never imports them (lint forbids it).
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** `stinger --version`: the version of the repository's root package.json. */
export function stingerVersion(): string {
  return (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown';
}

/** Every service of the design, in start order (consumers of a topic start after its producers' brokers). */
export const SERVICE_NAMES = ['policy-controller', 'enricher', 'detector', 'enforcer', 'agent', 'console'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export function isServiceName(name: string): name is ServiceName {
  return (SERVICE_NAMES as readonly string[]).includes(name);
}

export function serviceEntry(name: ServiceName): string {
  return join(REPO_ROOT, 'services', name, 'src', 'main.ts');
}

/** The services whose code exists in this checkout. */
export function availableServices(): ServiceName[] {
  return SERVICE_NAMES.filter((name) => existsSync(serviceEntry(name)));
}

/** Whether a service needs root (the agent loads eBPF programs). */
export function needsRoot(name: ServiceName): boolean {
  switch (name) {
    case 'agent':
      return true;
    case 'policy-controller':
    case 'enricher':
    case 'detector':
    case 'enforcer':
    case 'console':
      return false;
  }
}

/**
 * How long a service may take to stop after SIGTERM before it is killed: a little longer than its own shutdown
 * deadline (installShutdown: 15 s by default, the agent 60 s, as detaching its programs can wait on the kernel's RCU
 * grace periods), so that only a service whose own deadline failed is killed. Stopping is slower than it looks:
 * each tail consumer a service closes waits out its current fetch (seen: the enforcer takes 13 s).
 */
export function stopTimeoutMs(name: ServiceName): number {
  switch (name) {
    case 'agent':
      return 65_000;
    case 'policy-controller':
    case 'enricher':
    case 'detector':
    case 'enforcer':
    case 'console':
      return 20_000;
  }
}

/**
 * Node flags for every process the CLI starts (services, the test runner and its test files, through
 * NODE_OPTIONS): kafkajs 2.2.4 passes a negative delay to setTimeout, which Node 24 warns about on
 * every connection (kafkajs issue 1751); the delay it gets, 1 ms, is what kafkajs meant.
 */
export function childNodeOptions(existing: string | undefined): string {
  const flag = '--disable-warning=TimeoutNegativeWarning';
  return existing?.includes(flag) ? existing : [existing, flag].filter(Boolean).join(' ');
}
