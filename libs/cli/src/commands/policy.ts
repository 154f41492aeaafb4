/**
 * `stinger policy apply [--defaults] FILE... | delete NAME... | list`: policies without a cluster. `apply`
 * validates every document of every file first and publishes nothing if any is invalid (each problem
 * printed as `file:line: field: message`); valid policies are compiled and published to the compacted
 * stinger.policies topic with the next generation, unchanged ones are left alone. `--defaults` adds the default
 * rule pack (k8s/policies, monitor mode); a file's policy of the same name replaces the pack's. `delete` publishes
 * tombstones. `list` shows the policies in force and what each agent reported for them.
 *
 * Every record written, tombstones included, is signed with the active key of STINGER_KEYS_DIR (agents and the
 * detector refuse unsigned records); without a key nothing is published and the error says `stinger keys generate`.
 */
import { readFileSync } from 'node:fs';
import type { StingerConfig } from '@stinger/config';
import { decodeCompiledPolicy, decodePolicyStatus, type CompiledPolicy } from '@stinger/events';
import { createKafkaClient, createProducer, latestByKey, readTopicToEnd, topicName, type KafkaClient } from '@stinger/kafka';
import type { Logger } from '@stinger/log';
import { compilePolicy, formatIssue, parsePolicies, policyKey, type TracingPolicy } from '@stinger/policy';
import { signedPolicyRecord } from '@stinger/trust';
import { resolveBrokers } from '../brokers.ts';
import { loadDefaultPolicies } from '../default-policies.ts';
import { CliError } from '../errors.ts';
import { signingKeyFor } from './keys.ts';

export interface PolicyCommandOptions {
  readonly config: StingerConfig;
  readonly logger: Logger;
  readonly out: (line: string) => void;
}

/**
 * Now in ns since the epoch, for signed-at: microsecond resolution, so two runs in the same millisecond still sign
 * in order (verifiers accept a key's record only when it was signed after the one in force).
 */
function nowNs(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)) * 1000n;
}

async function kafkaClient({ config, logger }: PolicyCommandOptions): Promise<KafkaClient> {
  return createKafkaClient({ brokers: await resolveBrokers(config), clientId: 'stinger-policy', logger });
}

/** The CompiledPolicy records in force, by policy key. */
export async function currentPolicies(client: KafkaClient, prefix: string): Promise<Map<string, CompiledPolicy>> {
  const records = latestByKey(await readTopicToEnd({ client, topic: topicName('policies', prefix) }));
  const policies = new Map<string, CompiledPolicy>();
  for (const [key, record] of records) if (record.value) policies.set(key, decodeCompiledPolicy(record.value));
  return policies;
}

/** Same rules, mode and selector: re-publishing would change nothing. */
export function samePolicy(a: CompiledPolicy, b: CompiledPolicy): boolean {
  const strip = (p: CompiledPolicy) => JSON.stringify({ ...p, generation: 0, compiled_at_ns: 0, uid: null }, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  return strip(a) === strip(b);
}

export interface PolicyApplyOptions {
  /** Also apply the default rule pack (k8s/policies). */
  readonly defaults?: boolean;
}

export async function policyApply(options: PolicyCommandOptions, files: readonly string[], apply: PolicyApplyOptions = {}): Promise<number> {
  const defaults = apply.defaults === true;
  if (files.length === 0 && !defaults) throw new CliError('policy apply needs at least one file (or --defaults)', 2);
  const policies: TracingPolicy[] = [];
  const problems: string[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new CliError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    const parsed = parsePolicies(text, { source: file });
    problems.push(...parsed.errors.map(formatIssue));
    for (const warning of parsed.warnings) options.out(`warning: ${formatIssue(warning)}`);
    policies.push(...parsed.policies);
  }
  if (problems.length > 0) {
    for (const problem of problems) process.stderr.write(`${problem}\n`);
    throw new CliError(`${problems.length} problem(s); nothing was applied`);
  }
  if (defaults) {
    const named = new Set(policies.map(policyKey));
    policies.unshift(...loadDefaultPolicies().filter((policy) => !named.has(policyKey(policy))));
  }
  const signer = signingKeyFor(options.config, [...files, ...(defaults ? ['the default rule pack'] : [])].join(', '));
  const client = await kafkaClient(options);
  const prefix = options.config.kafka.topicPrefix;
  const current = await currentPolicies(client, prefix);
  const producer = createProducer({ client });
  await producer.connect();
  try {
    for (const policy of policies) {
      const name = policyKey(policy);
      const previous = current.get(name);
      const result = compilePolicy(policy, { generation: (previous?.generation ?? 0n) + 1n });
      if (previous && samePolicy(previous, result.compiled)) {
        options.out(`${name}: unchanged (generation ${previous.generation})`);
        continue;
      }
      await producer.send(topicName('policies', prefix), [signedPolicyRecord(name, result.compiled, { key: signer, signedAtNs: nowNs() })]);
      options.out(
        `${name}: ${previous ? 'updated' : 'created'} (generation ${result.compiled.generation}, ${result.kernelRules.length} kernel rules, ${result.pipelineRules.length} pipeline rules)`,
      );
      for (const report of result.reports) options.out(`  note: ${formatIssue(report)}`);
    }
  } finally {
    await producer.disconnect();
  }
  return 0;
}

export async function policyDelete(options: PolicyCommandOptions, keys: readonly string[]): Promise<number> {
  if (keys.length === 0) throw new CliError('policy delete needs at least one policy name', 2);
  const signer = signingKeyFor(options.config, keys.join(', '));
  const client = await kafkaClient(options);
  const prefix = options.config.kafka.topicPrefix;
  const current = await currentPolicies(client, prefix);
  const missing = keys.filter((key) => !current.has(key));
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
  return 0;
}

export async function policyList(options: PolicyCommandOptions): Promise<number> {
  const client = await kafkaClient(options);
  const prefix = options.config.kafka.topicPrefix;
  const policies = await currentPolicies(client, prefix);
  const statuses = [...latestByKey(await readTopicToEnd({ client, topic: topicName('policyStatus', prefix) })).values()]
    .filter((r) => r.value)
    .map((r) => decodePolicyStatus(r.value as Buffer));
  if (policies.size === 0) {
    options.out('no policies');
    return 0;
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
  return 0;
}
