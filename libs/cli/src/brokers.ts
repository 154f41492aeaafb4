/**
 * Which Kafka the CLI talks to: KAFKA_BROKERS when set, else the local broker `stinger up` started
 * (found through its state files), else a one-line error saying how to get one.
 */
import type { StingerConfig } from '@stinger/config';
import { readRunningBroker } from '@stinger/local-broker';
import { CliError } from './errors.ts';
import { runDir } from './run-state.ts';

export async function resolveBrokers(config: StingerConfig): Promise<readonly string[]> {
  if (config.kafka.brokers) return config.kafka.brokers;
  const local = await readRunningBroker(runDir(config));
  if (local) return [local.brokers];
  throw new CliError('no Kafka broker: KAFKA_BROKERS is not set and no local broker is running (start one with `stinger up --detach`)');
}
