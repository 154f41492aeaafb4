/**
 * Runs the real policy-controller (services/policy-controller) for integration tests: against the test run's broker
 * under a topic prefix, signing with the test process's keys (testKeysDir(), the ones `runStinger` and agents use),
 * and — when `kubeconfigPath` is given — watching that API server; without it the controller runs as outside a
 * cluster. Resolves once it logged 'policy-controller running'.
 */
import { processEnvironment } from '@stinger/config';
import { testKeysDir } from './keys.ts';
import { startService, stopService } from './service.ts';

export interface RunningPolicyController {
  /** Every line it logged so far (pino JSON). */
  readonly log: string[];
  /** SIGTERM, wait for exit; resolves with the exit code. */
  stop(): Promise<number | null>;
}

export interface StartPolicyControllerOptions {
  readonly brokers: string;
  readonly topicPrefix: string;
  readonly kubeconfigPath?: string;
  readonly extraEnv?: Readonly<Record<string, string>>;
}

export async function startPolicyController(options: StartPolicyControllerOptions): Promise<RunningPolicyController> {
  const env: NodeJS.ProcessEnv = {
    ...processEnvironment(),
    KAFKA_BROKERS: options.brokers,
    STINGER_TOPIC_PREFIX: options.topicPrefix,
    STINGER_KEYS_DIR: testKeysDir(),
    STINGER_LOG_LEVEL: 'info',
    STINGER_NODE_NAME: 'policy-controller-test',
    // Any free port: tests run side by side.
    STINGER_POLICY_CONTROLLER_METRICS_ADDRESS: '127.0.0.1:0',
    ...options.extraEnv,
  };
  delete env['KUBERNETES_SERVICE_HOST'];
  if (options.kubeconfigPath === undefined) delete env['KUBECONFIG'];
  else env['KUBECONFIG'] = options.kubeconfigPath;
  const { child, log, running } = startService({ service: 'policy-controller', env, readyMessage: 'policy-controller running', timeoutMs: 60_000 });
  await running;
  return {
    log,
    stop: () => stopService(child),
  };
}
