/**
 * The policy-controller's Kafka side, wired around a PolicyController: reads stinger.policies to its end and keeps
 * what a verifying consumer would hold (policiesInForce, with the trusted keys of `keysDir`), publishes through one
 * idempotent producer, and follows stinger.policies.status from the beginning for the per-node status. Then starts
 * `resources`, which feeds the custom resources in.
 *
 * In a cluster the controller must be able to sign: without a signing key in `keysDir` it refuses to start
 * (SigningKeyMissingError), since every decision it could make would be unpublishable.
 */
import { decodePolicyStatus } from '@stinger/events';
import { createProducer, readTopicToEnd, tailTopic, topicName, trackProducerHealth, type KafkaClient } from '@stinger/kafka';
import { namespaced, type Logger } from '@stinger/log';
import type { HealthCheck } from '@stinger/metrics';
import { buildOpa, compileRego, type RegoCompilation } from '@stinger/rego';
import { readKeyRing, readSigningKey } from '@stinger/trust';
import { policiesInForce } from './policies-in-force.ts';
import { PolicyController } from './policy-controller.ts';
import type { PolicyResources } from './policy-resources-source.ts';

export interface StartPolicyControlOptions {
  readonly client: KafkaClient;
  readonly topicPrefix: string;
  /** STINGER_KEYS_DIR: signing.key to sign with, trusted/ to read the topic as agents do. */
  readonly keysDir: string;
  readonly resources: PolicyResources;
  readonly logger: Logger;
  /** How long to wait for the first list of the custom resources before reporting ready anyway. */
  readonly syncTimeoutMs?: number;
  /** Where opa is cached (config.cacheDir): a policy's Rego module is compiled with it, opa built on first use. */
  readonly cacheDir?: string;
}

/** compileRego with the opa of `cacheDir` (built once, on the first policy that needs it). */
function regoCompiler(cacheDir: string | undefined, logger: Logger): (rego: { readonly module: string; readonly entrypoint: string }) => Promise<RegoCompilation> {
  let opa: Promise<string> | null = null;
  return async (rego) => {
    if (cacheDir === undefined) return { problems: [{ line: null, message: 'this policy-controller has no opa to compile Rego modules with (no cache folder)' }] };
    opa ??= buildOpa({ cacheDir, logger }).then((built) => built.path);
    return compileRego(rego, { opaPath: await opa });
  };
}

export interface RunningPolicyControl {
  readonly controller: PolicyController;
  /** Whether both kinds were listed before `syncTimeoutMs`. */
  readonly synced: boolean;
  /** The records in force at start and those a verifying consumer refuses. */
  readonly startState: { readonly inForce: number; readonly refused: number };
  /**
   * Ready while the producer is connected and both kinds of custom resource have been listed (until then nothing in
   * force can be told from an orphan); always live: the informers and the producer reconnect on their own.
   */
  health(): HealthCheck;
  stop(): Promise<void>;
}

export async function startPolicyControl(options: StartPolicyControlOptions): Promise<RunningPolicyControl> {
  const { client, topicPrefix, keysDir, resources } = options;
  const logger = namespaced(options.logger, 'PolicyControl');
  if (resources.mode === 'cluster') readSigningKey(keysDir);
  const policiesTopic = topicName('policies', topicPrefix);
  const records = await readTopicToEnd({ client, topic: policiesTopic });
  const initial = policiesInForce(
    records.map((r) => ({ key: r.key?.toString() ?? '', value: r.value, headers: r.headers })),
    readKeyRing(keysDir),
  );
  for (const refused of initial.refused) logger.warn(refused, 'a record on stinger.policies is not in force');

  const producer = createProducer({ client });
  const producerHealth = trackProducerHealth(producer);
  await producer.connect();
  const controller = new PolicyController({
    logger: options.logger,
    initial,
    publish: (signed) => producer.send(policiesTopic, signed),
    writeStatus: (object, status) => resources.writeStatus(object, status),
    signingKey: () => readSigningKey(keysDir),
    compileRego: regoCompiler(options.cacheDir, logger),
  });
  const statusTail = await tailTopic({
    client,
    topic: topicName('policyStatus', topicPrefix),
    sinceMs: 0,
    onRecord: (record) => {
      const key = record.key?.toString() ?? '';
      try {
        controller.nodeReport(key, record.value === null ? null : decodePolicyStatus(record.value));
      } catch (error) {
        logger.warn({ key, err: error }, 'undecodable policy status record skipped');
      }
    },
  });
  await resources.start(controller);
  const synced = await resources.waitForSync(options.syncTimeoutMs ?? 30_000);
  if (!synced) logger.warn({ timeoutMs: options.syncTimeoutMs ?? 30_000 }, 'custom resources not listed yet (are the CRDs installed?); continuing');
  return {
    controller,
    synced,
    startState: { inForce: initial.policies.size, refused: initial.refused.length },
    health() {
      const kafka = producerHealth.check();
      const informersSynced = resources.synced();
      return { live: true, ready: kafka.ready && informersSynced, detail: { mode: resources.mode, producerConnected: kafka.ready, informersSynced } };
    },
    async stop() {
      await resources.stop();
      await statusTail.stop();
      await controller.stop();
      await producer.disconnect();
    },
  };
}
