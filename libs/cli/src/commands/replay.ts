/**
 * `stinger replay --from T [--to T] [--policy FILE]... [--defaults] [-o json|compact]`: re-runs detection over the
 * stored history of stinger.events (seeking by time) with the given policies and prints the alerts they would have
 * raised — to try a policy on real traffic before applying it, or to ask what the policies in force would have said
 * about last night.
 *
 * Contract:
 *  - Policies: the files given (validated as `stinger policy apply` does: every problem `file:line: field: message`,
 *    nothing replayed if any), and/or the default pack (--defaults); without either, the signed policies in force on
 *    stinger.policies, verified with the trusted keys as the detector does.
 *  - Detection is the detector's own (libs/detection ReplayDetector): one PartitionDetector per partition, sequences
 *    and grouping as live; alert ids are the ones the live detector gives the same input.
 *  - Writes nothing to Kafka: the range is read with a consumer that never commits (libs/kafka readTopicRange).
 *  - Output: alerts on stdout; a progress line on a terminal and one summary line (events, alerts, rate) on stderr.
 */
import { decodeEventSummary, renderAlertCompact, renderAlertJson, type Alert } from '@stinger/events';
import type { StingerConfig } from '@stinger/config';
import { ConditionError, DetectionRules, loadSignedPolicies, ReplayDetector } from '@stinger/detection';
import { createKafkaClient, topicName, type KafkaClient } from '@stinger/kafka';
import type { Logger } from '@stinger/log';
import { compilePolicy, policyKey, type TracingPolicy } from '@stinger/policy';
import { readKeyRing } from '@stinger/trust';
import { resolveBrokers } from '../brokers.ts';
import { loadDefaultPolicies } from '../default-policies.ts';
import { CliError } from '../errors.ts';
import { formatCount } from '../progress.ts';
import { matchesAlert, type AlertFilter } from '../record-filter.ts';
import { decodeOrReport, outputLines, readRecords } from '../record-reader.ts';
import type { TimeRange } from '../time-range.ts';
import { parsePolicyDocuments, readPolicySources } from './policy-documents.ts';

export interface ReplayOptions {
  readonly config: StingerConfig;
  readonly logger: Logger;
  readonly range: TimeRange;
  readonly policyFiles: readonly string[];
  readonly defaults: boolean;
  readonly output: 'json' | 'compact';
  readonly filter: AlertFilter;
  readonly out: (line: string) => void;
  readonly limit: number | undefined;
}

/** The policy files and/or the default pack, compiled; every problem of every file reported before anything runs. */
function rulesFromFiles(files: readonly string[], defaults: boolean): DetectionRules {
  const { documents, problems, warnings } = parsePolicyDocuments(readPolicySources(files));
  for (const warning of warnings) process.stderr.write(`warning: ${warning}\n`);
  if (problems.length > 0) {
    for (const problem of problems) process.stderr.write(`${problem}\n`);
    throw new CliError(`${problems.length} problem(s); nothing was replayed`);
  }
  const policies: TracingPolicy[] = documents.map((d) => d.policy);
  if (defaults) {
    const named = new Set(policies.map(policyKey));
    policies.unshift(...loadDefaultPolicies().filter((p) => !named.has(policyKey(p))));
  }
  const rules = new DetectionRules();
  for (const policy of policies) {
    // Replay matches events synchronously and runs no Rego evaluator: a module would only be compiled to be ignored.
    if (policy.spec.rego !== null) process.stderr.write(`warning: policy ${policyKey(policy)}: its Rego module is not evaluated by replay (its rules are)\n`);
    try {
      rules.set(policyKey(policy), compilePolicy({ ...policy, spec: { ...policy.spec, rego: null } }).compiled);
    } catch (error) {
      if (!(error instanceof ConditionError)) throw error;
      throw new CliError(`policy ${policyKey(policy)}: ${error.message}`);
    }
  }
  return rules;
}

async function rulesInForce(options: ReplayOptions, client: KafkaClient): Promise<DetectionRules> {
  const rules = new DetectionRules();
  const topic = topicName('policies', options.config.kafka.topicPrefix);
  const ring = readKeyRing(options.config.keysDir);
  await loadSignedPolicies({ client, topic, ring: () => ring, rules, logger: options.logger });
  if (rules.size === 0) throw new CliError(`no signed policy in force on ${topic} (trusted keys: ${options.config.keysDir}); give --policy FILE or --defaults`);
  return rules;
}

/** What a replayed alert would have led to, in place of an enforcement outcome. */
function wouldHave(alert: Alert): string {
  if (alert.mode === 'monitor' || alert.action === 'audit') return `would alert (${alert.mode} ${alert.action})`;
  return `would ${alert.action.replaceAll('_', ' ')}`;
}

export async function replay(options: ReplayOptions): Promise<number> {
  const { config, logger, output, filter } = options;
  const client = createKafkaClient({ brokers: await resolveBrokers(config), connection: config.kafka, role: 'replay', logger });
  const rules = options.policyFiles.length > 0 || options.defaults ? rulesFromFiles(options.policyFiles, options.defaults) : await rulesInForce(options, client);
  const topic = topicName('events', config.kafka.topicPrefix);
  const lines = outputLines(options.out, options.limit);
  const print = (alerts: readonly Alert[]): void => {
    for (const alert of alerts) {
      if (matchesAlert(alert, filter)) lines.emit(output === 'json' ? JSON.stringify(renderAlertJson(alert, null)) : renderAlertCompact(alert, null, wouldHave(alert)));
    }
  };
  const detector = new ReplayDetector({ rules });
  let skipped = 0;
  const started = performance.now();
  const records = await readRecords({
    client,
    topic,
    range: { ...options.range, follow: false },
    signal: lines.signal,
    progress: 'replay',
    onBatch: (batch) => {
      for (const record of batch) {
        // Summaries: the fields detection reads; the alerts carry complete events (ReplayDetector).
        const event = decodeOrReport(decodeEventSummary, record);
        if (event === null) skipped += 1;
        else print(detector.observe(record.partition, event));
      }
    },
  });
  print(detector.finish());
  const seconds = (performance.now() - started) / 1000;
  const { events, alerts } = detector.stats;
  process.stderr.write(
    `replayed ${events} events of ${topic} (${records} records${skipped > 0 ? `, ${skipped} undecodable skipped` : ''}) in ${seconds.toFixed(1)} s, ` +
      `${formatCount(events / Math.max(seconds, 0.001))} events/s, with ${rules.size} policies: ${alerts} alerts; nothing was written to Kafka\n`,
  );
  return 0;
}
