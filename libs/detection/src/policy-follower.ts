/**
 * Keeps DetectionRules equal to the signed policies in force: the detector and the enforcer call this once at start.
 *
 * Contract: resolves once every record of stinger.policies written before the call has been taken (so the first
 * events are matched against the policies in force, not an empty set), then keeps following the topic. Every record
 * goes through the signature gate (@stinger/trust): unsigned, badly signed, replayed or undecodable records change
 * nothing and are logged and passed to `onRefused` (a metric).
 */
import type { KafkaClient } from '@stinger/kafka';
import { readTopicToEnd, tailTopic, type ConsumedRecord, type Tail } from '@stinger/kafka';
import { namespaced, type Logger } from '@stinger/log';
import { createPolicyRecordHandler, PolicyRecordGate, type KeyRing } from '@stinger/trust';
import { ConditionError } from './conditions.ts';
import type { DetectionRules } from './detection-rules.ts';

export interface FollowPoliciesOptions {
  readonly client: KafkaClient;
  /** The (prefixed) stinger.policies topic. */
  readonly topic: string;
  readonly ring: () => KeyRing;
  readonly rules: DetectionRules;
  readonly logger: Logger;
  readonly onRefused?: (reason: string) => void;
}

/** The signature-gated handler of stinger.policies records that keeps `rules` equal to the verified policies. */
function signedPolicyHandler(options: FollowPoliciesOptions): (record: ConsumedRecord) => void {
  const { rules } = options;
  const logger = namespaced(options.logger, 'Policies');
  return createPolicyRecordHandler({
    gate: new PolicyRecordGate(options.ring),
    apply: (key, compiled) => {
      try {
        rules.set(key, compiled);
        logger.info({ policy: key, generation: compiled?.generation.toString() ?? null, rules: compiled?.rules.length ?? 0 }, compiled === null ? 'policy deleted' : 'policy in force');
      } catch (error) {
        if (!(error instanceof ConditionError)) throw error;
        options.onRefused?.('unevaluable');
        logger.error({ policy: key, err: error }, 'policy refused: a condition cannot be evaluated; the previous version stays in force');
      }
    },
    refuse: (key, reason, detail) => {
      options.onRefused?.(reason);
      logger.warn({ policy: key, reason, detail }, 'policy record refused; what is in force stays');
    },
  });
}

/**
 * Sets `rules` to the signed policies in force now (every record written before the call, verified), once, without
 * following the topic: `stinger replay` over the policies in force.
 */
export async function loadSignedPolicies(options: FollowPoliciesOptions): Promise<void> {
  const take = signedPolicyHandler(options);
  for (const record of await readTopicToEnd({ client: options.client, topic: options.topic })) take(record);
}

export async function followSignedPolicies(options: FollowPoliciesOptions): Promise<Tail> {
  const take = signedPolicyHandler(options);
  for (const record of await readTopicToEnd({ client: options.client, topic: options.topic })) take(record);
  // From the start again: what was read above comes back as duplicates, which the gate drops silently.
  return tailTopic({ client: options.client, topic: options.topic, sinceMs: 0, onRecord: take });
}
