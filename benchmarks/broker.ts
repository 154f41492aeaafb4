/** The broker a benchmark measures against: KAFKA_BROKERS when set, else a local one it starts and must stop. */
import { join } from 'node:path';
import type { StingerConfig } from '@stinger/config';
import { startLocalBroker, type LocalBroker } from '@stinger/local-broker';
import type { Logger } from '@stinger/log';
import { freePort } from '@stinger/processes';

export interface BenchmarkBroker {
  readonly brokers: readonly string[];
  /** The broker started here (stop it at the end), or null when KAFKA_BROKERS named one. */
  readonly local: LocalBroker | null;
}

/** A local broker keeps its data below `workDir` (the benchmark removes it). */
export async function benchmarkBroker(options: { readonly config: StingerConfig; readonly logger: Logger; readonly workDir: string }): Promise<BenchmarkBroker> {
  const { config, logger, workDir } = options;
  if (config.kafka.brokers) return { brokers: config.kafka.brokers, local: null };
  const local = await startLocalBroker({ cacheDir: config.cacheDir, dataDir: join(workDir, 'broker'), logger, port: await freePort('127.0.0.1') });
  return { brokers: [local.brokers], local };
}
