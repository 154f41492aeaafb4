/**
 * The services downstream of the agent — enricher (outside a cluster), detector and enforcer — as child processes for
 * one test's topic prefix, with the test process's keys (helpers/keys.ts), so what the test's CLI signs they trust
 * and what the enforcer signs the test's agent trusts. `stop()` sends SIGTERM to each and waits.
 */
import type { ChildProcess } from 'node:child_process';
import { processEnvironment } from '@stinger/config';
import { testKeysDir } from './keys.ts';
import { startService } from './service.ts';

export type PipelineService = 'enricher' | 'detector' | 'enforcer';

export interface RunningService {
  readonly child: ChildProcess;
  readonly log: string[];
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface Pipeline {
  readonly services: Readonly<Record<PipelineService, RunningService>>;
  /** (Re)starts one service, e.g. after killing it. */
  restart(service: PipelineService): Promise<void>;
  stop(): Promise<void>;
}

export interface StartPipelineOptions {
  readonly brokers: string;
  readonly topicPrefix: string;
  readonly extraEnv?: Readonly<Record<string, string>>;
}

export function pipelineEnvironment(options: StartPipelineOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...processEnvironment(),
    KAFKA_BROKERS: options.brokers,
    STINGER_TOPIC_PREFIX: options.topicPrefix,
    STINGER_KEYS_DIR: testKeysDir(),
    STINGER_NODE_NAME: 'pipeline-test',
    STINGER_LOG_LEVEL: 'info',
    // Any free port: tests run side by side, and `stinger up` may hold the default ports.
    STINGER_ENRICHER_METRICS_ADDRESS: '127.0.0.1:0',
    STINGER_DETECTOR_METRICS_ADDRESS: '127.0.0.1:0',
    STINGER_ENFORCER_METRICS_ADDRESS: '127.0.0.1:0',
    ...options.extraEnv,
  };
  delete env['KUBECONFIG'];
  delete env['KUBERNETES_SERVICE_HOST'];
  return env;
}

export async function startPipelineService(service: PipelineService, env: NodeJS.ProcessEnv): Promise<RunningService> {
  const started = startService({ service, env, readyMessage: `${service} running`, timeoutMs: 60_000 });
  await started.running;
  return {
    child: started.child,
    log: started.log,
    async stop(signal = 'SIGTERM') {
      const { child } = started;
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

export async function startPipeline(options: StartPipelineOptions): Promise<Pipeline> {
  const env = pipelineEnvironment(options);
  const services: Record<PipelineService, RunningService> = {
    enricher: await startPipelineService('enricher', env),
    detector: await startPipelineService('detector', env),
    enforcer: await startPipelineService('enforcer', env),
  };
  return {
    services,
    async restart(service) {
      await services[service].stop();
      services[service] = await startPipelineService(service, env);
    },
    async stop() {
      await Promise.all(Object.values(services).map((s) => s.stop()));
    },
  };
}
