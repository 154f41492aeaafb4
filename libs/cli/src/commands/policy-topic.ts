/**
 * `stinger policy` without a cluster: straight to the compacted stinger.policies topic. Valid policies are compiled
 * and published with the next generation, each record signed with the active key of STINGER_KEYS_DIR (agents and the
 * detector refuse unsigned records; without a key nothing is published and the error says `stinger keys generate`);
 * unchanged ones are left alone. `delete` publishes signed tombstones. `list` shows the records in force and what
 * each agent reported for them (stinger.policies.status).
 */
import { decodeCompiledPolicy, decodePolicyStatus, type CompiledPolicy } from '@stinger/events';
import { createKafkaClient, createProducer, latestByKey, readTopicToEnd, topicName, type KafkaClient } from '@stinger/kafka';
import { compilePolicy, formatIssue, policyKey } from '@stinger/policy';
import { sameCompiledPolicy } from '@stinger/policy-control';
import { signedPolicyRecord } from '@stinger/trust';
import { resolveBrokers } from '../brokers.ts';
import { CliError } from '../errors.ts';
import { signingKeyFor } from './keys.ts';
import type { PolicyCommandOptions, PolicyDestination } from './policy.ts';
import { identityCount, type PolicyDocument } from './policy-documents.ts';

/**
 * Now in ns since the epoch, for signed-at: microsecond resolution, so two runs in the same millisecond still sign
 * in order (verifiers accept a key's record only when it was signed after the one in force).
 */
function nowNs(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)) * 1000n;
}

async function kafkaClient({ config, logger }: PolicyCommandOptions): Promise<KafkaClient> {
  return createKafkaClient({ brokers: await resolveBrokers(config), connection: config.kafka, role: 'policy', logger });
}

interface PoliciesOnTopic {
  /** The CompiledPolicy records in force, by policy key. */
  readonly policies: Map<string, CompiledPolicy>;
  /**
   * Keys whose latest record does not decode (a corrupt record, or one from a newer writer), with why. Compaction
   * keeps such a record until its key is written again, so one must never stop the commands for every policy:
   * it is listed as such, and apply or delete of its key replaces it.
   */
  readonly undecodable: Map<string, string>;
}

async function currentPolicies(client: KafkaClient, prefix: string): Promise<PoliciesOnTopic> {
  const records = latestByKey(await readTopicToEnd({ client, topic: topicName('policies', prefix) }));
  const policies = new Map<string, CompiledPolicy>();
  const undecodable = new Map<string, string>();
  for (const [key, record] of records) {
    if (!record.value) continue;
    try {
      policies.set(key, decodeCompiledPolicy(record.value));
    } catch (error) {
      undecodable.set(key, (error as Error).message);
    }
  }
  return { policies, undecodable };
}

export class TopicPolicies implements PolicyDestination {
  readonly #options: PolicyCommandOptions;

  constructor(options: PolicyCommandOptions) {
    this.#options = options;
  }

  async apply(documents: readonly PolicyDocument[], what: string): Promise<void> {
    const options = this.#options;
    const signer = signingKeyFor(options.config, what);
    const client = await kafkaClient(options);
    const prefix = options.config.kafka.topicPrefix;
    const { policies: current, undecodable } = await currentPolicies(client, prefix);
    const producer = createProducer({ client });
    await producer.connect();
    try {
      for (const { policy, regoWasm } of documents) {
        const name = policyKey(policy);
        const previous = current.get(name);
        if (undecodable.has(name)) options.out(`${name}: replaces a record on the topic that does not decode (${undecodable.get(name)})`);
        const result = compilePolicy(policy, { generation: (previous?.generation ?? 0n) + 1n, ...(regoWasm === undefined ? {} : { regoWasm }) });
        if (previous && sameCompiledPolicy(previous, result.compiled)) {
          options.out(`${name}: unchanged (generation ${previous.generation})`);
          continue;
        }
        await producer.send(topicName('policies', prefix), [signedPolicyRecord(name, result.compiled, { key: signer, signedAtNs: nowNs() })]);
        options.out(
          `${name}: ${previous ? 'updated' : 'created'} (generation ${result.compiled.generation}, ${result.kernelRules.length} kernel rules, ${result.pipelineRules.length} pipeline rules${identityCount(result.identityRules.length)})`,
        );
        for (const report of result.reports) options.out(`  note: ${formatIssue(report)}`);
      }
    } finally {
      await producer.disconnect();
    }
  }

  async delete(keys: readonly string[]): Promise<void> {
    const options = this.#options;
    const signer = signingKeyFor(options.config, keys.join(', '));
    const client = await kafkaClient(options);
    const prefix = options.config.kafka.topicPrefix;
    const { policies: current, undecodable } = await currentPolicies(client, prefix);
    const missing = keys.filter((key) => !current.has(key) && !undecodable.has(key));
    if (missing.length > 0) throw new CliError(`no such policy: ${missing.join(', ')}`);
    const signedAtNs = nowNs();
    const producer = createProducer({ client });
    await producer.connect();
    try {
      await producer.send(topicName('policies', prefix), keys.map((name) => signedPolicyRecord(name, null, { key: signer, signedAtNs })));
    } finally {
      await producer.disconnect();
    }
    for (const key of keys) options.out(`${key}: deleted`);
  }

  async list(): Promise<void> {
    const options = this.#options;
    const client = await kafkaClient(options);
    const prefix = options.config.kafka.topicPrefix;
    const { policies, undecodable } = await currentPolicies(client, prefix);
    const statuses = [...latestByKey(await readTopicToEnd({ client, topic: topicName('policyStatus', prefix) })).values()].flatMap((r) => {
      if (!r.value) return [];
      try {
        return [decodePolicyStatus(r.value)];
      } catch {
        return []; // a status that does not decode says nothing; the agent reports again within seconds
      }
    });
    for (const [key, reason] of [...undecodable].sort(([a], [b]) => a.localeCompare(b))) {
      options.out(`${key}  undecodable record on the topic (${reason}); \`stinger policy apply\` or \`delete\` of ${key} replaces it`);
    }
    if (policies.size === 0) {
      if (undecodable.size === 0) options.out('no policies');
      return;
    }
    for (const [key, policy] of [...policies].sort(([a], [b]) => a.localeCompare(b))) {
      options.out(`${key}  mode=${policy.mode}  generation=${policy.generation}  rules=${policy.rules.length}`);
      const reports = statuses.filter((s) => s.policy === key).sort((a, b) => a.node.localeCompare(b.node));
      if (reports.length === 0) options.out('  no agent has reported this policy yet');
      for (const status of reports) {
        const stale = status.generation === policy.generation ? '' : ` (reports generation ${status.generation})`;
        options.out(`  ${status.node}: ${status.state}${stale}, ${status.kernel_rules} kernel rules, ${status.pipeline_rules} pipeline rules`);
        for (const message of status.messages) options.out(`    ${message}`);
      }
    }
  }
}
