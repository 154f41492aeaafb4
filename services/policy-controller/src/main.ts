/**
 * The policy-controller: TracingPolicy and TracingPolicyNamespaced custom resources → validated, compiled records on
 * the compacted stinger.policies topic, each signed with the deployment's key (tombstones too), and each object's
 * `.status` written back (Accepted with the validator's field errors, Applied from the agents' reports on
 * stinger.policies.status). At start, records whose custom resource is gone are tombstoned. Logic lives in
 * libs/policy-control and libs/k8s; this file wires them and owns the process life cycle.
 *
 * Outside a cluster it runs too, says once that there is no cluster, and touches nothing: policies then reach the
 * topic through `stinger policy`, signed by the CLI.
 *
 * STINGER_POLICY_CONTROLLER_METRICS_ADDRESS serves /metrics, /healthz and /readyz from the start: ready once
 * stinger.policies was read, the producer connected and both kinds of custom resource were listed.
 */
import { loadConfig, requireBrokers } from '@stinger/config';
import { loadKubeConfig } from '@stinger/k8s';
import { createKafkaClient, exitOnWrongKafkaSettings, installShutdown } from '@stinger/kafka';
import { createLogger } from '@stinger/log';
import { createProcessMetrics, deferredCheck, serveMetrics } from '@stinger/metrics';
import { createClusterPolicyResources, DisabledPolicyResources, startPolicyControl, type PolicyResources } from '@stinger/policy-control';

const config = loadConfig();
const logger = createLogger({ name: 'policy-controller', level: config.logLevel });
const shutdown = installShutdown({ logger });
// Policy control starts after Kafka answered and stinger.policies was read.
const controlHealth = deferredCheck();
const health = { policyControl: controlHealth.check };
const metrics = createProcessMetrics(health);
const metricsServer = await serveMetrics({ address: config.policyControllerMetricsAddress, logger, scrape: () => metrics.scrape(), health });
shutdown.register('metrics', () => metricsServer.stop());

const kubeConfig = loadKubeConfig(config);
let resources: PolicyResources;
if (kubeConfig === null) {
  resources = new DisabledPolicyResources();
  logger.info('no cluster: no custom resources to watch (`stinger policy` publishes to the topic directly)');
} else {
  resources = createClusterPolicyResources({ kubeConfig, logger });
}

const client = createKafkaClient({ brokers: requireBrokers(config), connection: config.kafka, role: `policy-controller-${config.nodeName}`, logger });
// Wrong credentials or an untrusted broker certificate end the process here with one line, not in client retries.
await exitOnWrongKafkaSettings(client, { logger });
const control = await startPolicyControl({ client, topicPrefix: config.kafka.topicPrefix, keysDir: config.keysDir, resources, logger, cacheDir: config.cacheDir });
shutdown.register('policy-control', () => control.stop());
controlHealth.set(() => control.health());
logger.info({ mode: resources.mode, synced: control.synced, ...control.startState, keysDir: config.keysDir, metricsPort: metricsServer.port }, 'policy-controller running');
