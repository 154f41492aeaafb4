/**
 * `stinger <service>`: runs one service in the foreground as a child process on this Node.js,
 * passing signals through and exiting with its exit code.
 */
import { spawn } from 'node:child_process';
import { processEnvironment, type StingerConfig } from '@stinger/config';
import { availableServices, childNodeOptions, needsRoot, serviceEntry, type ServiceName } from '../workspace.ts';
import { CliError } from '../errors.ts';

export function checkServiceRunnable(name: ServiceName): void {
  if (!availableServices().includes(name)) {
    throw new CliError(`service "${name}" is not part of this build yet (no services/${name}/src/main.ts)`);
  }
  if (needsRoot(name) && process.getuid?.() !== 0) {
    throw new CliError(`service "${name}" loads eBPF programs and must run as root (try: sudo npx stinger ${name})`);
  }
}

export function serviceEnvironment(config: StingerConfig, brokers: string): NodeJS.ProcessEnv {
  const env = processEnvironment();
  return { ...env, KAFKA_BROKERS: brokers, STINGER_NODE_NAME: config.nodeName, NODE_OPTIONS: childNodeOptions(env['NODE_OPTIONS']) };
}

export async function runServiceInForeground(name: ServiceName, env: NodeJS.ProcessEnv): Promise<number> {
  checkServiceRunnable(name);
  const child = spawn(process.execPath, [serviceEntry(name)], { stdio: 'inherit', env });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 + 15 : 1)));
  });
}
