/**
 * The node agent service: configuration, logger, the privilege check and the process life cycle. The agent itself
 * (sensors, file guard, policies, pipeline to Kafka) is `createAgent` in libs/agent. Needs root (or CAP_BPF +
 * CAP_PERFMON) and refuses clearly without.
 */
import { readFileSync } from 'node:fs';
import { createAgent } from '@stinger/agent';
import { assertBpfPrivileges, BpfPermissionError } from '@stinger/bpf';
import { loadConfig } from '@stinger/config';
import { installShutdown } from '@stinger/kafka';
import { createLogger } from '@stinger/log';

/**
 * Longest the agent's graceful shutdown may take: detaching the sensors' programs waits for RCU grace periods, seen
 * to take over 15 s in total on this project's machines when the kernel's grace periods were slow.
 */
const SHUTDOWN_TIMEOUT_MS = 60_000;

const config = loadConfig();
const logger = createLogger({ name: 'agent', level: config.logLevel });

try {
  assertBpfPrivileges();
} catch (error) {
  if (error instanceof BpfPermissionError) {
    logger.fatal(error.message);
    process.stderr.write(`stinger agent: ${error.message}\n`);
    process.exit(1);
  }
  throw error;
}

const version = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
const agent = await createAgent({ config, logger, version });
const shutdown = installShutdown({ logger, timeoutMs: SHUTDOWN_TIMEOUT_MS });
shutdown.register('agent', async () => {
  if ((await agent.stop()) !== 0) throw new Error('some parts of the agent did not close cleanly (logged above)');
});
await agent.start();
