/**
 * Where `stinger up --detach` records what it started, so `stinger down` and `stinger status` find
 * it: `<home>/run/broker.{pid,port}` (owned by libs/local-broker) and `<home>/run/services/<name>.pid`.
 * A pid is only trusted while its process still runs this service's entry file, so a recycled pid
 * is never signalled.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StingerConfig } from '@stinger/config';
import { SERVICE_NAMES, serviceEntry, type ServiceName } from './workspace.ts';

export function runDir(config: StingerConfig): string {
  return join(config.home, 'run');
}

export function brokerDataDir(config: StingerConfig): string {
  return join(config.home, 'kafka');
}

/** The data of a local cluster (`--brokers 3`): `node-<id>` per node, apart from the single broker's. */
export function clusterDataDir(config: StingerConfig): string {
  return join(config.home, 'kafka-cluster');
}

function servicePidFile(config: StingerConfig, name: ServiceName): string {
  return join(runDir(config), 'services', `${name}.pid`);
}

export function recordService(config: StingerConfig, name: ServiceName, pid: number): void {
  mkdirSync(join(runDir(config), 'services'), { recursive: true });
  writeFileSync(servicePidFile(config, name), `${pid}\n`);
}

export function forgetService(config: StingerConfig, name: ServiceName): void {
  rmSync(servicePidFile(config, name), { force: true });
}

function runsEntry(pid: number, name: ServiceName): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(serviceEntry(name));
  } catch {
    return false;
  }
}

/** Detached services that are still running; stale pid files are removed. */
export function runningServices(config: StingerConfig): { name: ServiceName; pid: number }[] {
  const running: { name: ServiceName; pid: number }[] = [];
  for (const name of SERVICE_NAMES) {
    let pid: number;
    try {
      pid = Number(readFileSync(servicePidFile(config, name), 'utf8').trim());
    } catch {
      continue;
    }
    if (Number.isInteger(pid) && pid > 0 && runsEntry(pid, name)) running.push({ name, pid });
    else forgetService(config, name);
  }
  return running;
}
